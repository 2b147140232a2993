/**
 * SOPS (age) in TypeScript: the same on-disk format as sops 3.x for YAML, JSON, dotenv, INI and
 * binary files, with the MAC always checked. Pure functions over text; reading and writing files is the
 * caller's business (see files.ts and the CLI).
 *
 * Format, as sops writes it: each value is AES-256-GCM encrypted with the document's 32-byte data
 * key, a fresh 32-byte IV and the key path (`a:b:c:`) as additional data; the data key is encrypted
 * to every age recipient; the MAC is SHA-512 over all values in document order (only the encrypted
 * ones with `mac_only_encrypted`), stored encrypted with `lastmodified` as additional data.
 */
import { createHash, randomBytes } from "node:crypto";
import { unwrapDataKey, wrapDataKey, recipientOf } from "./age.ts";
import { IvStash, ValueDecryptError, decryptValue, encryptValue, parseEncryptedValue } from "./cipher.ts";
import { AlreadyEncryptedError, BadValueError, MacMismatchError, NoMatchingKeyError, SopsAliasError, SopsFormatError } from "./errors.ts";
import { UserError } from "../errors.ts";
import type { KeyRing } from "./keys.ts";
import {
  SOPS_FORMAT_VERSION,
  attachMetadata,
  extractMetadata,
  macAdditionalData,
  nowTimestamp,
  readMetadata,
  type AgeKey,
  type SopsMetadata,
} from "./metadata.ts";
import { emitEncryptedText, emitPlain, emitPlainBytes, parseEncryptedText, parsePlainBytes, type SopsFormat, type StoreOptions } from "./stores.ts";
import {
  Branch,
  Comment,
  RuleSet,
  cloneValue,
  leafBytes,
  leafType,
  normalizeRules,
  toPlain,
  walkBranch,
  type EncryptionRules,
  type Scalar,
} from "./tree.ts";

export { formatForPath, type SopsFormat, type StoreOptions } from "./stores.ts";
export { SOPS_FORMAT_VERSION, type SopsMetadata, type AgeKey } from "./metadata.ts";
export type { EncryptionRules } from "./tree.ts";

/** Known bytes that start the hash when only encrypted values are MACed (sha256("sops")). */
const MAC_ONLY_ENCRYPTED_INIT = Buffer.from("8a3fd2ad54ce66527b1034f3d147be0b0b975b3bf44f72c6fdadec8176f27d69", "hex");
const DATA_KEY_BYTES = 32;

/** A parsed encrypted file; nothing decrypted yet. */
export interface SopsFile {
  readonly format: SopsFormat;
  /** Name used in messages. */
  readonly file: string;
  /** The documents with the sops block removed, values still encrypted. */
  readonly branches: readonly Branch[];
  readonly metadata: SopsMetadata;
}

/** An opened file: data key recovered, values decrypted, MAC verified. */
export interface OpenedSopsFile extends SopsFile {
  readonly plain: readonly Branch[];
  readonly dataKey: Buffer;
  /** IVs of the current values, so unchanged values re-encrypt to the same text. */
  readonly stash: IvStash;
  /** The recipient whose identity unwrapped the data key. */
  readonly openedBy: string;
}

/** Parses an encrypted file and its sops block; throws SopsFormatError when it is not one. */
export function loadSopsFile(text: string, format: SopsFormat, file = "<input>"): SopsFile {
  let docs: Branch[];
  try {
    docs = parseEncryptedText(text, format, file);
  } catch (e) {
    // A file that does not parse and has no sops key at all is simply not a sops file.
    if (!(e instanceof SopsFormatError) || e instanceof SopsAliasError || /(^|\n)\s*"?sops"?\s*:|(^|\n)sops_/.test(text)) throw e;
    const as = format === "binary" ? "JSON (sops keeps other files as JSON with a sops block)" : format.toUpperCase();
    throw new SopsFormatError(`${file}: not a sops file: no sops metadata, and it does not parse as ${as}`);
  }
  const { branches, block } = extractMetadata(docs, format, file);
  const { metadata, problems } = readMetadata(block);
  if (!metadata) throw new SopsFormatError(`${file}: invalid sops block: ${problems.join("; ")}`);
  if (metadata.keyGroups > 1) throw new SopsFormatError(`${file}: uses ${metadata.keyGroups} Shamir key groups, which homelab secrets does not support`);
  return { format, file, branches, metadata };
}

/** True when the text has a top-level sops block (it may still be broken). */
export function hasSopsBlock(text: string, format: SopsFormat): boolean {
  // Most files scanned are not sops files: without the word there is no block, and no parse is needed.
  if (!text.includes("sops")) return false;
  try {
    const docs = parseEncryptedText(text, format);
    if (format === "dotenv") return docs[0]?.items.some((i) => typeof i.key === "string" && i.key.startsWith("sops_")) ?? false;
    return docs.some((d) => d.items.some((i) => i.key === "sops"));
  } catch {
    return false;
  }
}

const aadOf = (path: readonly string[]) => path.join(":") + ":";

/** Decrypts the values and checks them against the MAC. */
function decryptBranches(f: SopsFile, key: Buffer, ignoreMac = false): { plain: Branch[]; stash: IvStash } {
  const rs = new RuleSet(f.metadata.rules);
  const macOnly = !!rs.rules.macOnlyEncrypted;
  const hash = createHash("sha512");
  if (macOnly) hash.update(MAC_ONLY_ENCRYPTED_INIT);
  const stash = new IvStash();
  const plain = f.branches.map((b) => cloneValue(b));
  for (const [doc, b] of plain.entries()) {
    walkBranch(b, (leaf, path, stack, pos) => {
      const at = `${doc}${pos}`;
      const isComment = leaf instanceof Comment;
      const encrypted = rs.shouldBeEncrypted(path, stack, isComment);
      let v: Scalar | Comment = leaf;
      if (encrypted) {
        if (leaf instanceof Comment) {
          // Comments are outside the MAC; sops keeps the text when it does not decrypt.
          try {
            v = decryptValue(leaf.value, key, aadOf(path), stash, at);
            if (!(v instanceof Comment)) v = leaf;
            else v = new Comment(v.value, leaf.inline);
          } catch {
            v = leaf;
          }
        } else if (typeof leaf === "string") {
          try {
            v = decryptValue(leaf, key, aadOf(path), stash, at);
          } catch (e) {
            if (!(e instanceof ValueDecryptError)) throw e;
            const where = path.join(".") || "(top level)";
            throw new BadValueError(
              f.file,
              e.kind === "auth" ? `the value at ${where} does not authenticate under its key path` : `the value at ${where} is not a valid encrypted value (${e.message})`,
            );
          }
        } else {
          throw new MacMismatchError(f.file, `the value at ${path.join(".")} is a plain ${leafType(leaf)}, not an encrypted value`);
        }
      }
      if ((!macOnly || encrypted) && !(v instanceof Comment)) hash.update(leafBytes(v));
      return v;
    });
  }
  const computed = hash.digest("hex").toUpperCase();
  // --ignore-mac (recovery): every value still had to authenticate under its key path above.
  if (ignoreMac) return { plain, stash };
  let stored: string;
  try {
    const m = decryptValue(f.metadata.mac, key, macAdditionalData(f.metadata.lastmodified), stash);
    stored = typeof m === "string" ? m : "";
  } catch (e) {
    if (!(e instanceof ValueDecryptError)) throw e;
    throw new MacMismatchError(f.file, "the stored MAC does not authenticate: sops.mac or sops.lastmodified was changed");
  }
  if (stored !== computed) throw new MacMismatchError(f.file, "the content does not match the stored MAC");
  return { plain, stash };
}

/**
 * Recovers the data key with any identity of the key ring. Like sops, every stanza is tried: one
 * broken stanza (another recipient's, say) must not lock out the recipients whose stanzas are fine.
 */
export async function unwrapFileKey(f: SopsFile, keys: KeyRing): Promise<{ dataKey: Buffer; openedBy: string }> {
  const identities = keys.entries.map((e) => e.identity);
  const broken: string[] = [];
  for (const a of f.metadata.age) {
    let k: Uint8Array | null;
    try {
      k = await unwrapDataKey(a.enc, identities);
    } catch (e) {
      broken.push(`age recipient ${a.recipient}: ${(e as Error).message}`);
      continue;
    }
    if (!k) {
      // The stanza names its recipient: when we hold that recipient's key and it still does not open,
      // the armored data key is damaged, which is a broken file, not a missing key.
      if (keys.entries.some((e) => e.recipient === a.recipient))
        broken.push(`age recipient ${a.recipient}: its key is available but the armored data key does not open with it (the stanza is corrupt)`);
      continue;
    }
    if (k.length !== DATA_KEY_BYTES) {
      broken.push(`age recipient ${a.recipient}: the data key is ${k.length} bytes, expected ${DATA_KEY_BYTES}`);
      continue;
    }
    return { dataKey: Buffer.from(k), openedBy: a.recipient };
  }
  if (broken.length) {
    throw new SopsFormatError(`${f.file}: no age stanza could be opened; broken stanzas:\n${broken.map((b) => `  - ${b}`).join("\n")}`);
  }
  throw new NoMatchingKeyError(
    f.file,
    f.metadata.age.map((a) => a.recipient),
    keys.entries.map((e) => ({ recipient: e.recipient, source: e.source })),
    keys.searched,
  );
}

/**
 * Unwraps the data key, decrypts every value and verifies the MAC. `ignoreMac` skips only the last
 * step, as sops' --ignore-mac does: for recovering a file whose MAC is broken, never routinely.
 */
export async function openSopsFile(f: SopsFile, keys: KeyRing, opts: { ignoreMac?: boolean } = {}): Promise<OpenedSopsFile> {
  const { dataKey, openedBy } = await unwrapFileKey(f, keys);
  const { plain, stash } = decryptBranches(f, dataKey, opts.ignoreMac);
  return { ...f, plain, dataKey, stash, openedBy };
}

export interface SealInput {
  readonly format: SopsFormat;
  /** Plaintext documents. */
  readonly plain: readonly Branch[];
  readonly dataKey: Buffer;
  readonly rules: EncryptionRules;
  /** Wrapped data keys to store (see wrapForRecipients). */
  readonly age: readonly AgeKey[];
  /** Carried-over master keys of other types (only valid while the data key is unchanged). */
  readonly foreign?: SopsMetadata["foreign"];
  readonly stash?: IvStash;
  readonly store?: StoreOptions;
  /** @default the current time */
  readonly now?: Date;
}

/** Encrypts documents and writes them with their sops block. */
export function seal(input: SealInput): string {
  const rules = normalizeRules(input.rules);
  const rs = new RuleSet(rules);
  const macOnly = !!rules.macOnlyEncrypted;
  const hash = createHash("sha512");
  if (macOnly) hash.update(MAC_ONLY_ENCRYPTED_INIT);
  const out = input.plain.map((b) => cloneValue(b));
  for (const [doc, b] of out.entries()) {
    if (input.format !== "dotenv" && b.items.some((i) => i.key === "sops")) throw new AlreadyEncryptedError("input");
    walkBranch(b, (leaf, path, stack, pos) => {
      const isComment = leaf instanceof Comment;
      const encrypted = rs.shouldBeEncrypted(path, stack, isComment);
      if ((!macOnly || encrypted) && !isComment) hash.update(leafBytes(leaf));
      if (!encrypted) return leaf;
      const enc = encryptValue(leaf, input.dataKey, aadOf(path), input.stash, `${doc}${pos}`);
      return isComment ? new Comment(enc, (leaf as Comment).inline) : enc;
    });
  }
  const lastmodified = nowTimestamp(input.now);
  const mac = encryptValue(hash.digest("hex").toUpperCase(), input.dataKey, macAdditionalData(lastmodified), input.stash);
  const metadata: SopsMetadata = {
    age: input.age,
    lastmodified,
    mac,
    version: SOPS_FORMAT_VERSION,
    rules,
    foreign: input.foreign ?? [],
    keyGroups: 1,
  };
  return emitEncryptedText(attachMetadata(out, metadata, input.format), input.format, input.store);
}

/** Encrypts the data key to each recipient, reusing stanzas that already exist for it. */
export async function wrapForRecipients(dataKey: Buffer, recipients: readonly string[], existing: readonly AgeKey[] = []): Promise<AgeKey[]> {
  if (recipients.length === 0) throw new SopsFormatError("no age recipients to encrypt to");
  const out: AgeKey[] = [];
  for (const r of [...new Set(recipients)]) {
    const keep = existing.find((a) => a.recipient === r);
    out.push(keep ?? { recipient: r, enc: await wrapDataKey(dataKey, r) });
  }
  return out;
}

export function newDataKey(): Buffer {
  return randomBytes(DATA_KEY_BYTES);
}

export interface EncryptOptions {
  readonly format: SopsFormat;
  readonly recipients: readonly string[];
  readonly rules?: EncryptionRules;
  readonly store?: StoreOptions;
  readonly file?: string;
  readonly now?: Date;
}

/** Encrypts a plaintext file with a new data key (bytes are kept exactly by the binary store). */
export async function encrypt(plaintext: string | Uint8Array, opts: EncryptOptions): Promise<string> {
  const file = opts.file ?? "<input>";
  const bytes = typeof plaintext === "string" ? Buffer.from(plaintext, "utf8") : Buffer.from(plaintext);
  const plain = parsePlainBytes(bytes, opts.format, file);
  if (hasSopsBlock(bytes.toString("utf8"), opts.format)) throw new AlreadyEncryptedError(file);
  const dataKey = newDataKey();
  const age = await wrapForRecipients(dataKey, opts.recipients);
  return seal({ format: opts.format, plain, dataKey, rules: opts.rules ?? {}, age, store: opts.store, now: opts.now });
}

/** Decrypts to the plaintext file (sops block removed), after verifying the MAC. */
export async function decrypt(text: string, format: SopsFormat, keys: KeyRing, opts: { file?: string; store?: StoreOptions } = {}): Promise<string> {
  const f = await openSopsFile(loadSopsFile(text, format, opts.file), keys);
  return emitPlain(f.plain, format, opts.store);
}

/** Decrypts to the plaintext bytes: for a binary file exactly the bytes that were encrypted. */
export async function decryptBytes(text: string, format: SopsFormat, keys: KeyRing, opts: { file?: string; store?: StoreOptions; outputFormat?: SopsFormat } = {}): Promise<Buffer> {
  const f = await openSopsFile(loadSopsFile(text, format, opts.file), keys);
  return emitPlainBytes(f.plain, opts.outputFormat ?? format, opts.store);
}

/** Decrypts to plain JavaScript: the first document (what EXPECTED-style comparisons want). */
export async function decryptToObject(text: string, format: SopsFormat, keys: KeyRing, file?: string): Promise<unknown> {
  const f = await openSopsFile(loadSopsFile(text, format, file), keys);
  return toPlain(f.plain[0] ?? new Branch());
}

/** Throws MacMismatchError / NoMatchingKeyError / SopsFormatError; resolves when the file is intact. */
export async function verify(text: string, format: SopsFormat, keys: KeyRing, file?: string): Promise<{ openedBy: string }> {
  const f = await openSopsFile(loadSopsFile(text, format, file), keys);
  return { openedBy: f.openedBy };
}

/** Re-seals an opened file with edited plaintext: same data key, same rules, unchanged values keep their ciphertext. */
export function reseal(f: OpenedSopsFile, plain: readonly Branch[], opts: { store?: StoreOptions; now?: Date } = {}): string {
  return seal({
    format: f.format,
    plain,
    dataKey: f.dataKey,
    rules: f.metadata.rules,
    age: f.metadata.age,
    foreign: f.metadata.foreign,
    stash: f.stash,
    store: opts.store,
    now: opts.now,
  });
}

export interface KeyChange {
  readonly text: string;
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** Non-age master keys that were dropped because homelab cannot re-wrap for them. */
  readonly dropped: readonly string[];
  readonly changed: boolean;
}

function keyDiff(before: readonly AgeKey[], after: readonly string[]) {
  const b = before.map((a) => a.recipient);
  return { added: after.filter((r) => !b.includes(r)), removed: b.filter((r) => !after.includes(r)) };
}

/**
 * Re-wraps the data key for exactly these recipients. Values, MAC and lastmodified stay as they
 * are, so the file's ciphertext does not churn. The file is verified first.
 */
export async function updateKeys(text: string, format: SopsFormat, keys: KeyRing, recipients: readonly string[], opts: { file?: string; store?: StoreOptions } = {}): Promise<KeyChange> {
  const f = await openSopsFile(loadSopsFile(text, format, opts.file), keys);
  const { added, removed } = keyDiff(f.metadata.age, recipients);
  const dropped = f.metadata.foreign.map((x) => String(x.key));
  if (added.length === 0 && removed.length === 0 && dropped.length === 0) return { text, added, removed, dropped, changed: false };
  const age = await wrapForRecipients(f.dataKey, recipients, f.metadata.age);
  const md: SopsMetadata = { ...f.metadata, age, foreign: [] };
  return { text: emitEncryptedText(attachMetadata([...f.branches], md, format), format, opts.store), added, removed, dropped, changed: true };
}

/**
 * A new data key: every value is re-encrypted and the key wrapped for `recipients` (default: the
 * file's current age recipients). Old copies of the file stay readable only with the old key.
 */
export async function rotate(
  text: string,
  format: SopsFormat,
  keys: KeyRing,
  opts: {
    recipients?: readonly string[];
    /** Which values to encrypt from now on (the current `.sops.yaml` rule). @default the file's own rules */
    rules?: EncryptionRules;
    file?: string;
    store?: StoreOptions;
    now?: Date;
  } = {},
): Promise<KeyChange> {
  const f = await openSopsFile(loadSopsFile(text, format, opts.file), keys);
  const recipients = opts.recipients ?? f.metadata.age.map((a) => a.recipient);
  const { added, removed } = keyDiff(f.metadata.age, recipients);
  const dataKey = newDataKey();
  const age = await wrapForRecipients(dataKey, recipients);
  const out = seal({ format, plain: f.plain, dataKey, rules: opts.rules ?? f.metadata.rules, age, store: opts.store, now: opts.now });
  return { text: out, added, removed, dropped: f.metadata.foreign.map((x) => String(x.key)), changed: true };
}

/** The result of checking a sops file without any key. */
export interface Inspection {
  readonly problems: readonly string[];
  readonly file?: SopsFile;
}

/**
 * Structural check, no key needed: parseable, a valid sops block, and every value the rules say
 * must be encrypted really is an `ENC[...]` value (a hand-edited plaintext value is caught here).
 */
export function inspectSopsText(text: string, format: SopsFormat, fileName = "<input>"): Inspection {
  let f: SopsFile;
  try {
    const docs = parseEncryptedText(text, format, fileName);
    const { branches, block } = extractMetadata(docs, format, fileName);
    const { metadata, problems } = readMetadata(block);
    if (!metadata) return { problems };
    f = { format, file: fileName, branches, metadata };
  } catch (e) {
    return { problems: [(e as Error).message.replace(`${fileName}: `, "")] };
  }
  return { problems: plaintextWhereRequired(f.branches, f.metadata.rules), file: f };
}

/**
 * Values that `rules` say must be encrypted but are not `ENC[...]` in these (still encrypted)
 * documents. With the file's own rules this catches hand edits; with the `.sops.yaml` rule for the
 * path it catches a file whose own rules were loosened (its MAC cannot: rules are not in the MAC).
 */
export function plaintextWhereRequired(branches: readonly Branch[], rules: EncryptionRules): string[] {
  const problems: string[] = [];
  const rs = new RuleSet(rules);
  for (const b of branches) {
    walkBranch(cloneValue(b), (leaf, path, stack) => {
      const isComment = leaf instanceof Comment;
      if (isComment || !rs.shouldBeEncrypted(path, stack, false)) return leaf;
      const where = path.join(".");
      if (typeof leaf !== "string") problems.push(`${where} holds a plaintext ${leafType(leaf)} where an encrypted value is required`);
      else if (leaf !== "") {
        try {
          parseEncryptedValue(leaf);
        } catch {
          problems.push(`${where} holds plaintext where an encrypted value is required`);
        }
      }
      return leaf;
    });
  }
  return problems;
}

/** The public recipients of the key ring (for messages). */
export async function recipientsOf(identities: readonly string[]): Promise<string[]> {
  return Promise.all(identities.map((i) => recipientOf(i)));
}

/** Builds a key ring from literal identities (tests, programmatic use). */
export async function keyRingOf(identities: readonly string[], source = "given identities"): Promise<KeyRing> {
  const entries = await Promise.all(
    identities.map(async (identity) => {
      try {
        return { identity, recipient: await recipientOf(identity), source };
      } catch (e) {
        throw new UserError(`an age identity from ${source} is not a valid key (${(e as Error).message.replace(/AGE-SECRET-KEY-[0-9A-Z-]+/g, "AGE-SECRET-KEY-…").split("\n")[0]})`);
      }
    }),
  );
  return { entries, searched: [source] };
}
