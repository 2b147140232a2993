import type { HomelabInput } from "./schema.ts";

/**
 * Declares a homelab. Only gives the editor types and completion: validation happens when
 * `homelab build` loads the file, so every mistake is reported at once with its key path.
 */
export function defineHomelab(config: HomelabInput): HomelabInput {
  return config;
}

export type { HomelabInput, HomelabConfig, AppConfig, NodeConfig } from "./schema.ts";
