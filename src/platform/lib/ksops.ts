import type { PlatformContext } from "./context.ts";

/** The KSOPS wiring of Argo CD's repo-server (see src/secrets/ksops.ts). */
export function argoCdKsopsValues(_ctx: PlatformContext): Record<string, unknown> {
  return {};
}
