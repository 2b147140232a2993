/**
 * The per-value cipher of sops: AES-256-GCM with a 32-byte IV, the key path as additional data,
 * and the result written as `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { Comment, FloatValue, IntValue, TimeValue, leafBytes, leafType, stringOrBytes, type Scalar } from "./tree.ts";

const IV_BYTES = 32;
const TAG_BYTES = 16;
const ENC_PREFIX = "ENC[AES256_GCM,";
const ENC_FIELDS = ["data", "iv", "tag", "type"] as const;

/**
 * Splits `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` into its four fields, or undefined. A plain
 * split, not a regular expression: the scanner calls this on every string it reads, and nested
 * `(.+)` groups backtracked for minutes on a crafted value. Base64 has no commas, so a field never
 * contains one.
 */
function encFields(s: string): Record<(typeof ENC_FIELDS)[number], string> | undefined {
  if (!s.startsWith(ENC_PREFIX) || !s.endsWith("]")) return undefined;
  const parts = s.slice(ENC_PREFIX.length, -1).split(",", 5);
  if (parts.length !== 4) return undefined;
  const out: Partial<Record<(typeof ENC_FIELDS)[number], string>> = {};
  for (let i = 0; i < 4; i++) {
    const name = ENC_FIELDS[i]!;
    const part = parts[i]!;
    if (!part.startsWith(`${name}:`) || part.length === name.length + 1) return undefined;
    out[name] = part.slice(name.length + 1);
  }
  return out as Record<(typeof ENC_FIELDS)[number], string>;
}

/** Standard base64 with padding, checked by a loop (a regular expression overflowed V8's stack on values of a few MiB). */
export function isBase64(s: string): boolean {
  if (s.length % 4 !== 0) return false;
  const pad = s.endsWith("==") ? 2 : s.endsWith("=") ? 1 : 0;
  for (let i = 0; i < s.length - pad; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
    if (!ok) return false;
  }
  return true;
}

/** Why a value could not be decrypted: malformed text vs. failed authentication. */
export class ValueDecryptError extends Error {
  constructor(
    message: string,
    readonly kind: "format" | "auth",
  ) {
    super(message);
  }
}

export interface EncryptedValue {
  readonly data: Buffer;
  readonly iv: Buffer;
  readonly tag: Buffer;
  readonly type: string;
}

export function isEncryptedValue(s: unknown): s is string {
  return typeof s === "string" && encFields(s) !== undefined;
}

function b64(s: string, what: string): Buffer {
  if (!isBase64(s)) throw new ValueDecryptError(`${what} is not valid base64`, "format");
  return Buffer.from(s, "base64");
}

/** Parses an `ENC[...]` string without decrypting it. */
export function parseEncryptedValue(s: string): EncryptedValue {
  const m = encFields(s);
  if (!m) throw new ValueDecryptError("not a sops-encrypted value", "format");
  const v = { data: b64(m.data, "data"), iv: b64(m.iv, "iv"), tag: b64(m.tag, "tag"), type: m.type };
  if (v.iv.length === 0) throw new ValueDecryptError("empty iv", "format");
  if (v.tag.length !== TAG_BYTES) throw new ValueDecryptError(`tag is ${v.tag.length} bytes, expected ${TAG_BYTES}`, "format");
  if (!["str", "int", "float", "bool", "bytes", "time", "comment"].includes(v.type)) {
    throw new ValueDecryptError(`unknown value type ${JSON.stringify(v.type)}`, "format");
  }
  return v;
}

/**
 * Remembers the IV each value was decrypted with, by position and plaintext, so re-encrypting an
 * unchanged value yields the same ciphertext and Git diffs show only what really changed. Keyed by
 * position, not by additional data: list items share their parent's additional data, and reusing
 * one item's IV for an equal sibling would make equal values visibly equal.
 */
export class IvStash {
  private readonly map = new Map<string, Buffer>();

  private static id(at: string, v: Scalar | Comment): string {
    return `${at}\u0000${leafType(v)}\u0000${leafBytes(v).toString("base64")}`;
  }
  /** `at` identifies the value's position (or, for the MAC, its additional data). */
  remember(at: string, v: Scalar | Comment, iv: Buffer): void {
    this.map.set(IvStash.id(at, v), iv);
  }
  recall(at: string, v: Scalar | Comment): Buffer | undefined {
    return this.map.get(IvStash.id(at, v));
  }
}

/**
 * Encrypts one value; empty strings stay empty, as in sops. `at` is the stash key (the value's
 * position); it defaults to the additional data, which is unique only for the MAC.
 */
export function encryptValue(v: Scalar | Comment, key: Buffer, aad: string, stash?: IvStash, at: string = aad): string {
  if ((typeof v === "string" && v === "") || (v instanceof Comment && v.value === "")) return "";
  const iv = stash?.recall(at, v) ?? randomBytes(IV_BYTES);
  const c = createCipheriv("aes-256-gcm", key, iv);
  c.setAAD(Buffer.from(aad, "utf8"));
  const data = Buffer.concat([c.update(leafBytes(v)), c.final()]);
  const tag = c.getAuthTag();
  return `ENC[AES256_GCM,data:${data.toString("base64")},iv:${iv.toString("base64")},tag:${tag.toString("base64")},type:${leafType(v)}]`;
}

/** Decrypts one `ENC[...]` value back to its typed form. */
export function decryptValue(s: string, key: Buffer, aad: string, stash?: IvStash, at: string = aad): Scalar | Comment {
  if (s === "") return "";
  const e = parseEncryptedValue(s);
  let plain: Buffer;
  try {
    const d = createDecipheriv("aes-256-gcm", key, e.iv);
    d.setAAD(Buffer.from(aad, "utf8"));
    d.setAuthTag(e.tag);
    plain = Buffer.concat([d.update(e.data), d.final()]);
  } catch {
    throw new ValueDecryptError("authentication failed", "auth");
  }
  // Strings keep their exact bytes (binary files); the other types are ASCII text.
  const out = e.type === "str" || e.type === "bytes" ? stringOrBytes(plain) : typed(plain.toString("utf8"), e.type);
  stash?.remember(at, out, e.iv);
  return out;
}

function typed(text: string, type: string): Scalar | Comment {
  switch (type) {
    case "str":
    case "bytes":
      return text;
    case "comment":
      return new Comment(text);
    case "time":
      return new TimeValue(text);
    case "int":
      if (!/^[+-]?\d+$/.test(text)) throw new ValueDecryptError(`decrypted int ${JSON.stringify(text)} is not a number`, "format");
      return new IntValue(BigInt(text));
    case "float": {
      const t = text.toLowerCase().replace(/^\+/, "");
      if (t === "inf" || t === "infinity") return new FloatValue(text.startsWith("-") ? -Infinity : Infinity);
      if (t === "-inf" || t === "-infinity") return new FloatValue(-Infinity);
      if (t === "nan") return new FloatValue(NaN);
      const n = Number(text);
      if (text.trim() === "" || Number.isNaN(n)) throw new ValueDecryptError(`decrypted float ${JSON.stringify(text)} is not a number`, "format");
      return new FloatValue(n);
    }
    case "bool":
      if (["1", "t", "T", "TRUE", "true", "True"].includes(text)) return true;
      if (["0", "f", "F", "FALSE", "false", "False"].includes(text)) return false;
      throw new ValueDecryptError(`decrypted bool ${JSON.stringify(text)} is not a boolean`, "format");
    default:
      throw new ValueDecryptError(`unknown value type ${JSON.stringify(type)}`, "format");
  }
}
