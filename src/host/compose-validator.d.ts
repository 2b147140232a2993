// Types of the generated compose-validator.js (scripts/gen-compose-validator.ts): an Ajv validate function.
import type { ErrorObject } from "ajv";

export interface ComposeValidate {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}
export declare const validate: ComposeValidate;
export default validate;
