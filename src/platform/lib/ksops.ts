import { ksopsArgoCdValues } from "../../secrets/ksops.ts";
import { imageRef, type PlatformContext } from "./context.ts";

/** The KSOPS wiring of Argo CD's repo-server, with the image pinned in versions.yaml. */
export function argoCdKsopsValues(ctx: PlatformContext): Record<string, unknown> {
  return ksopsArgoCdValues({ ksopsImage: imageRef(ctx.versions, "ksops") });
}
