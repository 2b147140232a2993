/**
 * The `sops:` block: reading it leniently (like sops' weakly typed decoder), checking it strictly
 * (for the scanner), and writing it back in sops' field order.
 */
import { SopsFormatError } from "./errors.ts";
import type { SopsFormat } from "./stores.ts";
import { isEncryptedValue } from "./cipher.ts";
import { Branch, Comment, FloatValue, IntValue, TimeValue, normalizeRules, type EncryptionRules, type Item, type Value } from "./tree.ts";

/** The sops release whose file layout we write (also what the pinned KSOPS embeds). */
export const SOPS_FORMAT_VERSION = "3.12.2";

export interface AgeKey {
  readonly recipient: string;
  /** The data key, age-encrypted and ASCII-armored. */
  readonly enc: string;
}

export interface SopsMetadata {
  readonly age: readonly AgeKey[];
  readonly lastmodified: string;
  readonly mac: string;
  readonly version: string;
  /** Normalized: exactly one selector, `_unencrypted` suffix by default. */
  readonly rules: EncryptionRules;
  /** Master keys of types we cannot use (pgp, kms, …), carried over verbatim while the data key is unchanged. */
  readonly foreign: readonly Item[];
  /** Number of Shamir key groups; more than one is not supported. */
  readonly keyGroups: number;
}

const ARMOR_BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----";
const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const FOREIGN_KEYS = ["kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "pgp"] as const;
const RULE_KEYS: readonly [string, keyof EncryptionRules][] = [
  ["unencrypted_suffix", "unencryptedSuffix"],
  ["encrypted_suffix", "encryptedSuffix"],
  ["unencrypted_regex", "unencryptedRegex"],
  ["encrypted_regex", "encryptedRegex"],
  ["unencrypted_comment_regex", "unencryptedCommentRegex"],
  ["encrypted_comment_regex", "encryptedCommentRegex"],
];
/** sops' struct order for the block. */
const ORDER = [
  "shamir_threshold",
  "key_groups",
  "kms",
  "gcp_kms",
  "hckms",
  "azure_kv",
  "hc_vault",
  "age",
  "lastmodified",
  "mac",
  "pgp",
  ...RULE_KEYS.map(([k]) => k),
  "mac_only_encrypted",
  "version",
];

/**
 * The additional data the MAC is encrypted with: Go re-formats the parsed time with RFC 3339, which
 * drops fractional seconds and writes a zero offset as `Z`.
 */
export function macAdditionalData(lastmodified: string): string {
  const m = RFC3339.exec(lastmodified);
  if (!m) throw new SopsFormatError(`sops.lastmodified ${JSON.stringify(lastmodified)} is not an RFC 3339 time`);
  const zone = m[4]!.toUpperCase() === "Z" || m[4] === "+00:00" || m[4] === "-00:00" ? "Z" : m[4]!;
  return `${m[1]}T${m[2]}${zone}`;
}

/** `lastmodified` for a write now. */
export function nowTimestamp(now: Date = new Date()): string {
  return now.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function text(v: Value | undefined): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return String(v);
  if (v instanceof IntValue) return v.value.toString();
  if (v instanceof FloatValue) return String(v.value);
  if (v instanceof TimeValue) return v.text;
  return undefined;
}

function entries(b: Branch): Map<string, Value> {
  const m = new Map<string, Value>();
  for (const it of b.items) if (!(it.key instanceof Comment)) m.set(it.key, it.value);
  return m;
}

function isEmptyValue(v: Value | undefined): boolean {
  return v === undefined || v === null || (Array.isArray(v) && v.filter((x) => !(x instanceof Comment)).length === 0) || v === "";
}

function readAge(v: Value | undefined, where: string, problems: string[]): AgeKey[] {
  if (isEmptyValue(v)) return [];
  if (!Array.isArray(v)) {
    problems.push(`${where} must be a list`);
    return [];
  }
  const out: AgeKey[] = [];
  v.filter((x) => !(x instanceof Comment)).forEach((x, i) => {
    if (!(x instanceof Branch)) {
      problems.push(`${where}[${i}] must be a map with recipient and enc`);
      return;
    }
    const e = entries(x);
    const recipient = text(e.get("recipient")) ?? "";
    const enc = text(e.get("enc")) ?? "";
    // sops also files SSH recipients under age; they are kept, only an empty one is an error.
    if (recipient.trim() === "") problems.push(`${where}[${i}].recipient is empty`);
    if (!enc.trim().startsWith(ARMOR_BEGIN)) problems.push(`${where}[${i}].enc is not an armored age file`);
    out.push({ recipient, enc });
  });
  return out;
}

/** Reads a `sops` block, collecting every problem instead of stopping at the first. */
export function readMetadata(block: Value): { metadata?: SopsMetadata; problems: string[] } {
  const problems: string[] = [];
  if (!(block instanceof Branch)) return { problems: ["the sops entry is not a map"] };
  const e = entries(block);
  let age = readAge(e.get("age"), "sops.age", problems);
  let keyGroups = 1;
  let foreign: Item[] = FOREIGN_KEYS.filter((k) => !isEmptyValue(e.get(k))).map((k) => ({ key: k, value: e.get(k)! }));
  const groups = e.get("key_groups");
  if (!isEmptyValue(groups)) {
    if (!Array.isArray(groups)) problems.push("sops.key_groups must be a list");
    else {
      const gs = groups.filter((g) => !(g instanceof Comment));
      keyGroups = gs.length;
      if (gs.length === 1 && gs[0] instanceof Branch && age.length === 0) {
        const g = entries(gs[0]);
        age = readAge(g.get("age"), "sops.key_groups[0].age", problems);
        foreign = FOREIGN_KEYS.filter((k) => !isEmptyValue(g.get(k))).map((k) => ({ key: k, value: g.get(k)! }));
      } else foreign = [...foreign, { key: "key_groups", value: groups }];
    }
  }
  if (age.length === 0 && foreign.length === 0) problems.push("sops block lists no master key (no age recipient)");
  const lastmodified = text(e.get("lastmodified")) ?? "";
  if (!RFC3339.test(lastmodified)) problems.push(`sops.lastmodified ${JSON.stringify(lastmodified)} is not an RFC 3339 time`);
  const mac = text(e.get("mac")) ?? "";
  if (!isEncryptedValue(mac)) problems.push("sops.mac is missing or not an ENC[AES256_GCM,…] value");
  const rawVersion = e.get("version");
  const version = text(rawVersion) ?? "";
  // A list or a map where sops writes its version string: a damaged or hand-edited block.
  if (!isEmptyValue(rawVersion) && text(rawVersion) === undefined) problems.push("sops.version must be a version string such as \"3.9.2\", not a list or a map");
  else if (version !== "" && !/^\d+\.\d+(?:\.\d+)?(?:[-+.][0-9A-Za-z.-]+)?$/.test(version)) problems.push(`sops.version ${JSON.stringify(version)} is not a version such as "3.9.2"`);
  const raw: Record<string, unknown> = {};
  for (const [k, name] of RULE_KEYS) {
    const v = text(e.get(k));
    if (v) raw[name] = v;
  }
  const mo = text(e.get("mac_only_encrypted"));
  if (mo !== undefined && mo !== "false") {
    if (mo === "true" || mo === "1") raw.macOnlyEncrypted = true;
    else problems.push(`sops.mac_only_encrypted ${JSON.stringify(mo)} is not a boolean`);
  }
  let rules: EncryptionRules = {};
  try {
    rules = normalizeRules(raw as EncryptionRules);
  } catch (err) {
    problems.push(`sops block: ${(err as Error).message}`);
  }
  if (problems.length) return { problems };
  return { metadata: { age, lastmodified, mac, version, rules, foreign, keyGroups }, problems };
}

/** The block in sops' field order, with our current values. */
export function metadataBranch(md: SopsMetadata): Branch {
  const fields = new Map<string, Value>();
  for (const f of md.foreign) fields.set(f.key as string, f.value);
  if (md.age.length) {
    fields.set(
      "age",
      md.age.map((a) => new Branch([{ key: "recipient", value: a.recipient }, { key: "enc", value: a.enc }])),
    );
  }
  fields.set("lastmodified", md.lastmodified);
  fields.set("mac", md.mac);
  for (const [k, name] of RULE_KEYS) {
    const v = md.rules[name];
    if (typeof v === "string" && v) fields.set(k, v);
  }
  if (md.rules.macOnlyEncrypted) fields.set("mac_only_encrypted", true);
  fields.set("version", md.version);
  const items: Item[] = [];
  for (const k of ORDER) if (fields.has(k)) items.push({ key: k, value: fields.get(k)! });
  return new Branch(items);
}

// Dotenv files keep the block flattened into `sops_`-prefixed keys.
const MAP_SEP = "__map_";
const LIST_SEP = "__list_";

function flatten(v: Value, key: string, out: Item[]): void {
  if (v instanceof Branch) {
    for (const it of v.items) if (!(it.key instanceof Comment)) flatten(it.value, key + MAP_SEP + it.key, out);
  } else if (Array.isArray(v)) {
    v.filter((x) => !(x instanceof Comment)).forEach((x, i) => flatten(x, `${key}${LIST_SEP}${i}`, out));
  } else out.push({ key, value: v });
}

function flattenBlock(b: Branch): Item[] {
  const out: Item[] = [];
  for (const it of b.items) if (!(it.key instanceof Comment)) flatten(it.value, "sops_" + it.key, out);
  return out.sort((a, c) => ((a.key as string) < (c.key as string) ? -1 : 1));
}

// INI files keep it as a [sops] section of unprefixed flattened keys, each map's keys sorted as
// sops' goToSops sorts them, newlines escaped as \n (stores/ini/store.go MetadataFlattenBelowTop).
function flattenSorted(v: Value, key: string, out: Item[]): void {
  if (v instanceof Branch) {
    const items = v.items.filter((it) => !(it.key instanceof Comment)) as { key: string; value: Value }[];
    for (const it of [...items].sort((a, c) => (a.key < c.key ? -1 : a.key > c.key ? 1 : 0))) {
      flattenSorted(it.value, key === "" ? it.key : key + MAP_SEP + it.key, out);
    }
  } else if (Array.isArray(v)) {
    v.filter((x) => !(x instanceof Comment)).forEach((x, i) => flattenSorted(x, `${key}${LIST_SEP}${i}`, out));
  } else out.push({ key, value: typeof v === "string" ? v.replaceAll("\n", "\\n") : v });
}

function unflattenBlock(items: readonly Item[], prefix = "sops_"): Branch {
  type N = { value?: Value; keys?: Map<string, N>; idx?: Map<number, N> };
  const root: N = {};
  for (const it of items) {
    const key = (it.key as string).slice(prefix.length);
    const tokens = key.split(/(?=__map_|__list_)/);
    let cur = root;
    tokens.forEach((t, i) => {
      let next: N | undefined;
      if (i > 0 && t.startsWith(LIST_SEP)) {
        const n = Number(t.slice(LIST_SEP.length));
        cur.idx ??= new Map();
        next = cur.idx.get(n) ?? {};
        cur.idx.set(n, next);
      } else {
        const k = i > 0 ? t.slice(MAP_SEP.length) : t;
        cur.keys ??= new Map();
        next = cur.keys.get(k) ?? {};
        cur.keys.set(k, next);
      }
      cur = next;
    });
    cur.value = it.value;
  }
  const convert = (n: N): Value => {
    if (n.value !== undefined) return n.value;
    if (n.idx) return [...n.idx.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => convert(v));
    return new Branch([...(n.keys ?? new Map<string, N>()).entries()].map(([key, v]) => ({ key, value: convert(v) })));
  };
  return convert(root) as Branch;
}

/** Splits the block off the documents (every document carries a copy; the first one counts). */
export function extractMetadata(branches: readonly Branch[], format: SopsFormat, file: string): { branches: Branch[]; block: Value } {
  if (format === "dotenv") {
    const first = branches[0] ?? new Branch();
    const meta = first.items.filter((i) => typeof i.key === "string" && i.key.startsWith("sops_"));
    if (meta.length === 0) throw new SopsFormatError(`${file}: not a sops file: sops metadata not found (the file is not encrypted)`);
    const rest = new Branch(first.items.filter((i) => !meta.includes(i)));
    return { branches: [rest], block: unflattenBlock(meta) };
  }
  if (format === "ini") {
    const first = branches[0] ?? new Branch();
    const own = first.items.filter((it) => it.key === "sops");
    if (own.length === 0) throw new SopsFormatError(`${file}: not a sops file: sops metadata not found (the file is not encrypted)`);
    if (own.length > 1) throw new SopsFormatError(`${file}: duplicate [sops] section`);
    const sec = own[0]!.value;
    if (!(sec instanceof Branch)) throw new SopsFormatError(`${file}: the sops entry is not a section`);
    const flat = sec.items
      .filter((it) => !(it.key instanceof Comment))
      .map((it) => ({ key: it.key, value: typeof it.value === "string" ? it.value.replaceAll("\\n", "\n") : it.value }));
    return { branches: [new Branch(first.items.filter((it) => it.key !== "sops"))], block: unflattenBlock(flat, "") };
  }
  let block: Value | undefined;
  const out = branches.map((b, i) => {
    const own = b.items.filter((it) => it.key === "sops");
    if (i === 0) {
      if (own.length > 1) throw new SopsFormatError(`${file}: duplicate sops entry`);
      block = own[0]?.value;
    }
    return new Branch(b.items.filter((it) => it.key !== "sops"));
  });
  if (block === undefined) throw new SopsFormatError(`${file}: not a sops file: sops metadata not found (the file is not encrypted)`);
  return { branches: out, block };
}

/** Appends the block to every document (dotenv: flattened into the only one). */
export function attachMetadata(branches: readonly Branch[], md: SopsMetadata, format: SopsFormat): Branch[] {
  const block = metadataBranch(md);
  if (format === "dotenv") {
    const b = branches[0] ?? new Branch();
    for (const it of b.items) {
      if (typeof it.key === "string" && it.key.startsWith("sops_")) {
        throw new SopsFormatError(`key ${it.key} uses the prefix sops_ that dotenv files reserve for the sops block`);
      }
    }
    return [new Branch([...b.items, ...flattenBlock(block)])];
  }
  if (format === "ini") {
    const b = branches[0] ?? new Branch();
    if (b.items.some((i) => i.key === "sops")) throw new SopsFormatError("the INI file already has a [sops] section");
    const flat: Item[] = [];
    flattenSorted(block, "", flat);
    return [new Branch([...b.items, { key: "sops", value: new Branch(flat) }])];
  }
  return branches.map((b) => {
    if (b.items.some((i) => i.key === "sops")) throw new SopsFormatError("the document already has a top-level 'sops' key");
    return new Branch([...b.items, { key: "sops", value: block }]);
  });
}
