/** Reading what the scanner looks at: the default paths and the waiver file. */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { parse } from "yaml";
import { UserError } from "../errors.ts";
import { checkWaivers, type Waiver } from "./scan.ts";

/** What `homelab secrets scan` and `homelab build` scan when no paths are given. */
export const DEFAULT_SCAN_PATHS = ["gitops", "hosts", "secrets", "homelab.config.ts"] as const;

/** Reasoned exceptions for false positives, kept beside the encrypted files. */
export const WAIVERS_FILE = "secrets/scan-waivers.yaml";

const SKIP_DIRS = new Set([".git", "node_modules", ".cache"]);
const MAX_BYTES = 5 * 1024 * 1024;

/** Reads every file under the given paths (relative to root); missing paths are skipped. */
export function readScanTargets(root: string, paths: readonly string[] = DEFAULT_SCAN_PATHS): { path: string; content: string }[] {
  const out: { path: string; content: string }[] = [];
  const rel = (p: string) => relative(root, p).split(sep).join("/");
  const walk = (abs: string) => {
    let st;
    try {
      st = statSync(abs);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const n of readdirSync(abs).sort()) if (!SKIP_DIRS.has(n)) walk(join(abs, n));
    } else if (st.isFile() && st.size <= MAX_BYTES) {
      out.push({ path: rel(abs), content: readFileSync(abs, "utf8") });
    }
  };
  for (const p of paths) walk(resolve(root, p));
  return out;
}

/** Loads and checks `secrets/scan-waivers.yaml` (a `waivers:` list); absent means no waivers. */
export function loadWaivers(root: string, file = WAIVERS_FILE): Waiver[] {
  const p = join(root, file);
  if (!existsSync(p)) return [];
  let doc: unknown;
  try {
    doc = parse(readFileSync(p, "utf8"));
  } catch (e) {
    throw new UserError(`${file}: invalid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  const list = (doc as { waivers?: unknown } | null)?.waivers ?? [];
  if (!Array.isArray(list)) throw new UserError(`${file}: 'waivers' must be a list`);
  checkWaivers(list as Waiver[]);
  return list as Waiver[];
}
