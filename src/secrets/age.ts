/** age: wrapping the 32-byte sops data key for recipients, and unwrapping it with identities. */
import { Decrypter, Encrypter, armor, generateX25519Identity, identityToRecipient } from "age-encryption";

const IDENTITY_RE = /^AGE-SECRET-KEY-(PQ-)?1[0-9A-Z]+$/;
const RECIPIENT_RE = /^age1(pq1)?[0-9a-z]+$/;

export function isAgeIdentity(s: string): boolean {
  return IDENTITY_RE.test(s);
}

/** Checks a recipient string, throwing a message that names it. */
export function assertRecipient(r: string, where: string): void {
  if (!RECIPIENT_RE.test(r)) throw new Error(`${where}: ${JSON.stringify(r)} is not an age recipient (age1…)`);
}

/** A new X25519 identity and its public recipient. */
export async function newIdentity(): Promise<{ identity: string; recipient: string }> {
  const identity = await generateX25519Identity();
  return { identity, recipient: await identityToRecipient(identity) };
}

export async function recipientOf(identity: string): Promise<string> {
  return identityToRecipient(identity);
}

/** Encrypts the data key to one recipient, armored, as sops stores it in `sops.age[].enc`. */
export async function wrapDataKey(dataKey: Uint8Array, recipient: string): Promise<string> {
  assertRecipient(recipient, "age recipient");
  const e = new Encrypter();
  e.addRecipient(recipient);
  return armor.encode(await bytesOf(await e.encrypt(streamOf(dataKey))));
}

/**
 * Tries every identity on one armored stanza. Returns null when none matches (the normal case for
 * a file with several recipients); throws when the stanza itself is broken.
 */
export async function unwrapDataKey(enc: string, identities: readonly string[]): Promise<Uint8Array | null> {
  if (identities.length === 0) return null;
  let file: Uint8Array;
  try {
    file = armor.decode(enc);
  } catch (e) {
    throw new Error(`the age-encrypted data key is not valid armor: ${(e as Error).message}`);
  }
  const d = new Decrypter();
  for (const id of identities) d.addIdentity(id);
  try {
    return await bytesOf(await d.decrypt(streamOf(file)));
  } catch (e) {
    if (/no identity matched/.test((e as Error).message)) return null;
    throw new Error(`the age-encrypted data key could not be decrypted: ${(e as Error).message}`);
  }
}

/**
 * age-encryption reads a byte array it is given through `new Response(stream)`, and the first `Response`
 * loads Node's fetch implementation (undici, with http, tls, http2 and zlib: ~50 ms of a 0.3 s
 * `secrets decrypt`). Given a stream, it returns one, which is read here instead.
 */
function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      c.enqueue(bytes);
      c.close();
    },
  });
}

async function bytesOf(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const reader = stream.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
  return Buffer.concat(chunks);
}
