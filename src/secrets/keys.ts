/**
 * Where age identities come from, in the order sops looks: SOPS_AGE_KEY_FILE, SOPS_AGE_KEY,
 * SOPS_AGE_KEY_CMD, then `sops/age/keys.txt` in the user config directory.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { UserError } from "../errors.ts";
import { isAgeIdentity, recipientOf } from "./age.ts";

export interface KeyRingEntry {
  readonly identity: string;
  readonly recipient: string;
  /** Where it was found, e.g. `SOPS_AGE_KEY_FILE (/home/me/key.txt)`. */
  readonly source: string;
}

export interface KeyRing {
  readonly entries: readonly KeyRingEntry[];
  /** Every place looked at, with what happened there, for error messages. */
  readonly searched: readonly string[];
}

type Env = Readonly<Record<string, string | undefined>>;

/** The sops user config path of keys.txt (Go's os.UserConfigDir, XDG_CONFIG_HOME honoured on macOS too). */
export function sopsKeysPath(env: Env = process.env, platform: NodeJS.Platform = process.platform): string | undefined {
  const home = env.HOME || homedir();
  let dir: string | undefined;
  if (env.XDG_CONFIG_HOME && platform !== "win32") dir = env.XDG_CONFIG_HOME;
  else if (platform === "darwin") dir = home ? join(home, "Library", "Application Support") : undefined;
  else if (platform === "win32") dir = env.AppData;
  else dir = home ? join(home, ".config") : undefined;
  return dir ? join(dir, "sops", "age", "keys.txt") : undefined;
}

/**
 * Identities in a key file: one per line, `#` comments and blank lines skipped. SOPS_AGE_KEY may hold
 * several per line separated by spaces.
 */
export function parseIdentities(text: string, source: string, severalPerLine = false): string[] {
  const out: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    for (const word of severalPerLine ? line.split(/\s+/) : [line]) {
      if (word.startsWith("AGE-PLUGIN-")) {
        throw new UserError(`${source} line ${i + 1}: age plugin identities are not supported by homelab secrets`);
      }
      if (!isAgeIdentity(word)) throw new UserError(`${source} line ${i + 1}: not an age identity (expected AGE-SECRET-KEY-1…)`);
      out.push(word);
    }
  });
  return out;
}

/** Collects every identity available to this process. Never prints or returns where keys are not. */
export async function loadKeyRing(env: Env = process.env): Promise<KeyRing> {
  const found: { identity: string; source: string }[] = [];
  const searched: string[] = [];
  const fromFile = (path: string, label: string) => {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      searched.push(`${label} (${path}: ${(e as NodeJS.ErrnoException).code ?? "unreadable"})`);
      return;
    }
    const ids = parseIdentities(text, `${label} (${path})`);
    searched.push(`${label} (${path}: ${ids.length} identit${ids.length === 1 ? "y" : "ies"})`);
    for (const identity of ids) found.push({ identity, source: `${label} ${path}` });
  };

  if (env.SOPS_AGE_KEY_FILE) fromFile(env.SOPS_AGE_KEY_FILE, "SOPS_AGE_KEY_FILE");
  else searched.push("SOPS_AGE_KEY_FILE (unset)");

  if (env.SOPS_AGE_KEY) {
    const ids = parseIdentities(env.SOPS_AGE_KEY, "SOPS_AGE_KEY", true);
    searched.push(`SOPS_AGE_KEY (${ids.length} identit${ids.length === 1 ? "y" : "ies"})`);
    for (const identity of ids) found.push({ identity, source: "SOPS_AGE_KEY" });
  } else searched.push("SOPS_AGE_KEY (unset)");

  if (env.SOPS_AGE_KEY_CMD) {
    let out: string;
    try {
      out = execFileSync("sh", ["-c", env.SOPS_AGE_KEY_CMD], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    } catch (e) {
      throw new UserError(`SOPS_AGE_KEY_CMD failed: ${(e as Error).message.split("\n")[0]}`);
    }
    const ids = parseIdentities(out, "SOPS_AGE_KEY_CMD");
    searched.push(`SOPS_AGE_KEY_CMD (${ids.length} identit${ids.length === 1 ? "y" : "ies"})`);
    for (const identity of ids) found.push({ identity, source: "SOPS_AGE_KEY_CMD" });
  }

  const cfg = sopsKeysPath(env);
  if (cfg) fromFile(cfg, "sops keys.txt");

  const seen = new Set<string>();
  const entries: KeyRingEntry[] = [];
  for (const f of found) {
    if (seen.has(f.identity)) continue;
    seen.add(f.identity);
    let recipient: string;
    try {
      recipient = await recipientOf(f.identity);
    } catch (e) {
      // A mistyped or truncated key: name where it came from, never the key itself.
      throw new UserError(`the age identity from ${f.source} is not a valid key (${(e as Error).message.replace(/AGE-SECRET-KEY-[0-9A-Z-]+/g, "AGE-SECRET-KEY-…").split("\n")[0]}); copy it again from where it is kept`);
    }
    entries.push({ ...f, recipient });
  }
  return { entries, searched };
}
