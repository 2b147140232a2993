/** `.sops.yaml`: creation rules (which recipients and which values, per path) and store layout. */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { isMap, isSeq, parseDocument } from "yaml";
import { parseYamlFile } from "../model/yaml-aliases.ts";
import { UserError } from "../errors.ts";
import { assertRecipient } from "./age.ts";
import type { StoreOptions } from "./stores.ts";
import { goRegExp, normalizeRules, type EncryptionRules } from "./tree.ts";

export const SOPS_CONFIG_FILE = ".sops.yaml";

export interface CreationRule {
  /** RE2 pattern matched against the file path relative to the directory of `.sops.yaml`. */
  readonly pathRegex?: string;
  readonly age: readonly string[];
  readonly rules: EncryptionRules;
  /** Master key types the rule lists that homelab cannot encrypt to (pgp, kms, …). */
  readonly unsupported: readonly string[];
  /** Position in `creation_rules`, for messages. */
  readonly index: number;
}

export interface SopsConfig {
  readonly path: string;
  readonly dir: string;
  readonly creationRules: readonly CreationRule[];
  readonly stores: StoreOptions;
}

const UNSUPPORTED_KEYS = ["pgp", "kms", "gcp_kms", "hckms", "azure_keyvault", "hc_vault_transit_uri"];

/** Master key types a key group may list besides age (sops' keyGroup struct). */
const GROUP_UNSUPPORTED_KEYS = ["pgp", "kms", "gcp_kms", "hckms", "azure_keyvault", "hc_vault"];
const GROUP_FIELDS = new Set(["merge", "age", ...GROUP_UNSUPPORTED_KEYS]);

/**
 * The age recipients of one key group, `merge:` groups (sops 3.11) flattened in sops' order: merged
 * groups first, then the group's own keys, duplicates dropped (config/config.go extractMasterKeys).
 */
function groupMembers(g: unknown, where: string): { age: string[]; unsupported: string[] } {
  if (typeof g !== "object" || g === null || Array.isArray(g)) throw new UserError(`${where}: a key group must be a map`);
  const group = g as Record<string, unknown>;
  const unknown = Object.keys(group).filter((k) => !GROUP_FIELDS.has(k));
  if (unknown.length) throw new UserError(`${where}: unknown key group field ${unknown.join(", ")} (sops knows ${[...GROUP_FIELDS].join(", ")})`);
  const age: string[] = [];
  const unsupported: string[] = [];
  if (group.merge !== undefined && group.merge !== null) {
    if (!Array.isArray(group.merge)) throw new UserError(`${where}.merge: must be a list of key groups`);
    group.merge.forEach((m, i) => {
      const sub = groupMembers(m, `${where}.merge[${i}]`);
      age.push(...sub.age);
      unsupported.push(...sub.unsupported);
    });
  }
  const own = group.age;
  if (own !== undefined && own !== null) {
    const list = typeof own === "string" ? [own] : own;
    if (!Array.isArray(list) || !list.every((x) => typeof x === "string")) throw new UserError(`${where}.age: expected a list of strings`);
    // Each entry may itself be a comma-separated list (age.MasterKeysFromRecipients).
    for (const e of list) age.push(...keyList(e, `${where}.age`));
  }
  for (const k of GROUP_UNSUPPORTED_KEYS) {
    const v = group[k];
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0)) unsupported.push(k);
  }
  return { age: [...new Set(age)], unsupported: [...new Set(unsupported)] };
}

function keyList(v: unknown, where: string): string[] {
  if (v === undefined || v === null || v === "") return [];
  if (typeof v === "string") return v.split(",").map((s) => s.trim()).filter(Boolean);
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v.map((s) => s.trim());
  throw new UserError(`${where}: expected a string or a list of strings`);
}

export function parseSopsConfig(text: string, path: string): SopsConfig {
  const raw = (parseYamlFile(text, path) ?? {}) as Record<string, unknown>;
  const rulesRaw = raw.creation_rules ?? [];
  if (!Array.isArray(rulesRaw)) throw new UserError(`${path}: creation_rules must be a list`);
  const creationRules = rulesRaw.map((r: Record<string, unknown>, i): CreationRule => {
    const where = `${path}: creation_rules[${i}]`;
    if (typeof r !== "object" || r === null) throw new UserError(`${where}: must be a map`);
    let age = keyList(r.age, `${where}.age`);
    const unsupported = UNSUPPORTED_KEYS.filter((k) => keyList(r[k], `${where}.${k}`).length > 0);
    if (r.key_groups !== undefined && r.key_groups !== null) {
      if (!Array.isArray(r.key_groups)) throw new UserError(`${where}.key_groups: must be a list`);
      // As sops (config/config.go getKeyGroupsFromCreationRule): once key_groups is set, the rule's
      // own age/pgp/... lists are not used at all.
      const groups = r.key_groups.map((g, j) => groupMembers(g, `${where}.key_groups[${j}]`));
      age = [];
      unsupported.length = 0;
      if (groups.length > 1) unsupported.push(`${groups.length} key_groups (Shamir secret sharing)`);
      for (const g of groups) {
        age.push(...g.age);
        unsupported.push(...g.unsupported);
      }
      age = [...new Set(age)];
    }
    for (const a of age) {
      try {
        assertRecipient(a, `${where}.age`);
      } catch (e) {
        throw new UserError((e as Error).message);
      }
    }
    const pathRegex = typeof r.path_regex === "string" && r.path_regex !== "" ? r.path_regex : undefined;
    if (pathRegex) {
      try {
        goRegExp(pathRegex);
      } catch (e) {
        throw new UserError(`${where}.path_regex: ${(e as Error).message}`);
      }
    }
    for (const k of ["unencrypted_regex", "encrypted_regex", "unencrypted_comment_regex", "encrypted_comment_regex"]) {
      const v = r[k];
      if (typeof v !== "string" || v === "") continue;
      try {
        goRegExp(v);
      } catch (e) {
        throw new UserError(`${where}.${k}: ${(e as Error).message}`);
      }
    }
    let rules: EncryptionRules;
    try {
      rules = normalizeRules({
        unencryptedSuffix: r.unencrypted_suffix as string | undefined,
        encryptedSuffix: r.encrypted_suffix as string | undefined,
        unencryptedRegex: r.unencrypted_regex as string | undefined,
        encryptedRegex: r.encrypted_regex as string | undefined,
        unencryptedCommentRegex: r.unencrypted_comment_regex as string | undefined,
        encryptedCommentRegex: r.encrypted_comment_regex as string | undefined,
        macOnlyEncrypted: r.mac_only_encrypted === true,
      });
    } catch (e) {
      throw new UserError(`${where}: ${(e as Error).message}`);
    }
    return { ...(pathRegex ? { pathRegex } : {}), age, rules, unsupported, index: i };
  });
  const stores = (raw.stores ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const yamlIndent = stores.yaml?.indent;
  const jsonIndent = stores.json?.indent;
  return {
    path,
    dir: dirname(path),
    creationRules,
    stores: {
      ...(typeof yamlIndent === "number" ? { yamlIndent } : {}),
      ...(typeof jsonIndent === "number" ? { jsonIndent } : {}),
    },
  };
}

/** Like sops: the nearest `.sops.yaml` in the start directory or above. */
export function findSopsConfig(start: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    const p = join(dir, SOPS_CONFIG_FILE);
    if (existsSync(p)) return p;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

export function loadSopsConfig(path: string): SopsConfig {
  return parseSopsConfig(readFileSync(path, "utf8"), path);
}

/** The first rule whose path_regex matches (a rule without one matches everything). */
export function creationRuleFor(cfg: SopsConfig, file: string): CreationRule {
  const rel = relative(cfg.dir, resolve(file)).split(sep).join("/");
  const rule = cfg.creationRules.find((r) => !r.pathRegex || goRegExp(r.pathRegex).test(rel));
  if (!rule) throw new UserError(`${cfg.path}: no creation rule matches ${rel}`);
  if (rule.unsupported.length) {
    throw new UserError(`${cfg.path}: the rule for ${rel} uses ${rule.unsupported.join(", ")}; homelab secrets only encrypts to age recipients`);
  }
  if (rule.age.length === 0) throw new UserError(`${cfg.path}: the rule for ${rel} lists no age recipient`);
  return rule;
}

/**
 * Rewrites the `age:` recipients of every creation rule in place (comments and layout kept):
 * `replace` recipients are dropped, `add` is appended once.
 */
export function rewriteRecipients(text: string, path: string, opts: { replace: readonly string[]; add: string }): { text: string; changed: number } {
  const doc = parseDocument(text);
  if (doc.errors.length) throw new UserError(`${path}: invalid YAML: ${doc.errors[0]!.message.split("\n")[0]}`);
  const rules = doc.get("creation_rules");
  if (!isSeq(rules)) throw new UserError(`${path}: no creation_rules list`);
  let changed = 0;
  for (const r of rules.items) {
    if (!isMap(r)) continue;
    const current = keyList((r.toJSON() as Record<string, unknown>).age, `${path}: creation rule age`);
    const next = current.filter((a) => !opts.replace.includes(a));
    if (!next.includes(opts.add)) next.push(opts.add);
    if (next.join(",") === current.join(",")) continue;
    r.set("age", next.join(","));
    changed++;
  }
  return { text: doc.toString({ lineWidth: 0 }), changed };
}

/**
 * Removes the comment paragraph of the repository's `.sops.yaml` that explains the example
 * recipient (it starts with `# EXAMPLE RECIPIENT`), once that recipient is gone.
 */
export function dropExampleNotice(text: string): string {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => /^#\s*EXAMPLE RECIPIENT\b/.test(l));
  if (start === -1) return text;
  let end = start;
  while (end < lines.length && /^#/.test(lines[end]!) && !/^#\s*$/.test(lines[end]!)) end++;
  // The blank comment line that separated it from the text above goes too.
  const from = start > 0 && /^#\s*$/.test(lines[start - 1]!) ? start - 1 : start;
  return [...lines.slice(0, from), ...lines.slice(end)].join("\n");
}

/**
 * The published test-only key of the sops-age project (its private key is public). The example
 * secrets in this repository are encrypted to it so the tree validates before an operator exists;
 * `homelab secrets init` replaces it with the operator's own recipient.
 */
export const EXAMPLE_RECIPIENT = "age1je6kjhzuhdjy3fqptpttxjh5k8q46vygzlgtpuq3030c947pc5tqz9dqvr";

/** A fresh `.sops.yaml`: Kubernetes Secrets under secrets/ keep metadata readable; other sops files encrypt every value. */
export function sopsConfigTemplate(recipient: string): string {
  return [
    "# sops creation rules, read by `homelab secrets` and by the sops CLI alike.",
    "stores:",
    "  yaml:",
    "    indent: 2",
    "creation_rules:",
    "  # Kubernetes Secrets: only data/stringData are encrypted, so kind, name and namespace stay reviewable.",
    "  - path_regex: (^|/)secrets/.+\\.sops\\.ya?ml$",
    "    encrypted_regex: ^(data|stringData)$",
    `    age: ${recipient}`,
    "  # Any other *.sops.* file: every value is encrypted.",
    "  - path_regex: \\.sops\\.(ya?ml|json|env)$",
    `    age: ${recipient}`,
    "",
  ].join("\n");
}
