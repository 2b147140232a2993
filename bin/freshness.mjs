/**
 * Whether the bundle in dist/ was made from the sources now on disk (see scripts/build-cli.mjs). Checked at
 * every start, so it must be cheap: a file whose size and mtime are as recorded is taken as unchanged; any
 * other is hashed, so a checkout that only touched mtimes does not count as a change.
 */
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";

export function bundleIsCurrent(dist) {
  let recorded;
  try {
    recorded = JSON.parse(readFileSync(join(dist, "inputs.json"), "utf8"));
  } catch {
    return false;
  }
  const root = dirname(dist);
  for (const [file, want] of Object.entries(recorded.inputs ?? {})) {
    let st;
    try {
      st = statSync(join(root, file));
    } catch {
      return false;
    }
    if (st.size !== want.size) return false;
    if (st.mtimeMs === want.mtimeMs) continue;
    if (createHash("sha256").update(readFileSync(join(root, file))).digest("hex") !== want.sha256) return false;
  }
  return true;
}
