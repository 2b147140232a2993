/** Reading what the scanner looks at: the repository root, the default paths and the waiver file. */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { UserError } from "../errors.ts";
import { parseYamlFile } from "../model/yaml-aliases.ts";
import { SOPS_CONFIG_FILE } from "./config.ts";
import { checkWaivers, type ScanInput, type Waiver } from "./scan.ts";

/** What `homelab secrets scan` and `homelab build` scan when no paths are given. */
export const DEFAULT_SCAN_PATHS = ["gitops", "hosts", "secrets", "homelab.config.ts"] as const;

/** Reasoned exceptions for false positives, kept beside the encrypted files. */
export const WAIVERS_FILE = "secrets/scan-waivers.yaml";

const SKIP_DIRS = new Set([".git", "node_modules", ".cache"]);
/** Larger files are reported as unscanned rather than read into memory. */
export const MAX_SCAN_BYTES = 5 * 1024 * 1024;

function nearestUp(start: string, has: (dir: string) => boolean): string | undefined {
  let dir = resolve(start);
  for (;;) {
    if (has(dir)) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/**
 * The repository root seen from `start`: the directory of the nearest `.sops.yaml` (where sops and
 * the waiver file are anchored), else the nearest directory with `.git`, else `start` itself.
 */
export function repoRootOf(start: string): string {
  return (
    nearestUp(start, (d) => existsSync(join(d, SOPS_CONFIG_FILE))) ?? nearestUp(start, (d) => existsSync(join(d, ".git"))) ?? resolve(start)
  );
}

const mib = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MiB`;

/**
 * Reads every file under the given paths (relative to root, or absolute). Files are named relative
 * to root (absolute when outside it). Missing paths are skipped unless `mustExist`; files that are
 * too large or unreadable come back with `unscanned` set so the scan reports them.
 */
export function readScanTargets(root: string, paths: readonly string[] = DEFAULT_SCAN_PATHS, opts: { mustExist?: boolean } = {}): ScanInput[] {
  const out: ScanInput[] = [];
  const rel = (p: string) => {
    const r = relative(root, p);
    return r === "" || r.startsWith("..") || isAbsolute(r) ? p : r.split(sep).join("/");
  };
  const walk = (abs: string, given: string) => {
    let st;
    try {
      st = statSync(abs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && !opts.mustExist) return;
      if (code === "ENOENT") throw new UserError(`${given}: no such file or directory`);
      out.push({ path: rel(abs), content: "", unscanned: `cannot be read (${code ?? "error"})` });
      return;
    }
    if (st.isDirectory()) {
      let names: string[];
      try {
        names = readdirSync(abs).sort();
      } catch (e) {
        out.push({ path: rel(abs), content: "", unscanned: `directory cannot be listed (${(e as NodeJS.ErrnoException).code ?? "error"})` });
        return;
      }
      for (const n of names) if (!SKIP_DIRS.has(n)) walk(join(abs, n), given);
    } else if (st.isFile()) {
      if (st.size > MAX_SCAN_BYTES) {
        out.push({ path: rel(abs), content: "", unscanned: `${mib(st.size)}, over the ${mib(MAX_SCAN_BYTES).replace(".0", "")} scan limit` });
        return;
      }
      try {
        out.push({ path: rel(abs), content: readFileSync(abs, "utf8") });
      } catch (e) {
        out.push({ path: rel(abs), content: "", unscanned: `cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})` });
      }
    }
  };
  for (const p of paths) walk(resolve(root, p), p);
  return out;
}

/** Loads and checks `secrets/scan-waivers.yaml` (a `waivers:` list); absent means no waivers. */
export function loadWaivers(root: string, file = WAIVERS_FILE): Waiver[] {
  const p = join(root, file);
  if (!existsSync(p)) return [];
  const doc = parseYamlFile(readFileSync(p, "utf8"), file);
  const list = (doc as { waivers?: unknown } | null)?.waivers ?? [];
  if (!Array.isArray(list)) throw new UserError(`${file}: 'waivers' must be a list`);
  checkWaivers(list as Waiver[]);
  return list as Waiver[];
}
