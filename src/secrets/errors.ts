import { UserError } from "../errors.ts";

/**
 * Exit codes of the secrets pipeline. They reuse the numbers of the `sops` CLI so scripts written
 * against `sops` keep working when they call `homelab secrets` instead.
 */
export const SECRETS_EXIT = {
  /** The file or its sops block is malformed. */
  format: 1,
  /** The MAC or a value's authentication tag does not match: the file changed after it was encrypted. */
  macMismatch: 51,
  /** None of the available age identities is a recipient of the file. */
  noMatchingKey: 128,
  /** `encrypt` was asked to encrypt a file that already has a sops block. */
  alreadyEncrypted: 203,
  /** A value does not decrypt (codes.ErrorDecryptingTree). */
  decryptValue: 25,
  /** A `--extract`/`set` path sops' syntax does not allow (codes.InvalidTreePathFormat). */
  invalidTreePath: 91,
  /** A `set` value that is not JSON (codes.ErrorInvalidSetFormat). */
  invalidSetFormat: 7,
  /** `edit` ended without a change (codes.FileHasNotBeenModified). */
  notModified: 200,
} as const;

/** The file is not a well-formed sops document (missing or broken `sops` block, bad `ENC[...]` value). */
export class SopsFormatError extends UserError {
  constructor(message: string) {
    super(message, SECRETS_EXIT.format);
    this.name = "SopsFormatError";
  }
}

/** The text parses but its aliases expand past the bound (see model/yaml-aliases.ts), or dangle. */
export class SopsAliasError extends SopsFormatError {
  constructor(message: string) {
    super(message);
    this.name = "SopsAliasError";
  }
}

/**
 * Integrity failure: a value, a key name above an encrypted value, `lastmodified` or the MAC was
 * changed after the file was encrypted.
 */
export class MacMismatchError extends UserError {
  constructor(
    readonly file: string,
    readonly detail: string,
    code: number = SECRETS_EXIT.macMismatch,
  ) {
    super(
      `${file}: MAC mismatch: the file was changed after it was encrypted (${detail}). ` +
        "Restore it from Git, or re-enter the value with `homelab secrets set`.",
      code,
    );
    this.name = "MacMismatchError";
  }
}

/**
 * One value does not decrypt (fails its tag, or is not an `ENC[...]` value where one belongs). The
 * same integrity failure, but sops stops at that value with "Error decrypting tree", exit 25
 * (cmd/sops/common/common.go DecryptTree), before it gets to the MAC; so does homelab.
 */
export class BadValueError extends MacMismatchError {
  constructor(file: string, detail: string) {
    super(file, detail, SECRETS_EXIT.decryptValue);
    this.name = "BadValueError";
  }
}

/** No available age identity can unwrap the file's data key. */
export class NoMatchingKeyError extends UserError {
  constructor(
    readonly file: string,
    /** The age recipients the file is encrypted to. */
    readonly expected: readonly string[],
    /** Public recipients of the identities that were tried, and where they came from. */
    readonly tried: readonly { recipient: string; source: string }[],
    /** Places that were searched for identities. */
    readonly searched: readonly string[],
  ) {
    const lines = [
      `${file}: no available age key can decrypt this file.`,
      "It is encrypted to these recipients:",
      ...(expected.length ? expected.map((r) => `  - ${r}`) : ["  (none: the sops block lists no age recipient)"]),
      tried.length
        ? `Identities tried:\n${tried.map((t) => `  - ${t.recipient} (from ${t.source})`).join("\n")}`
        : "No age identity was found.",
      `Searched: ${searched.join(", ")}.`,
      "Provide the private key of one of the recipients through SOPS_AGE_KEY_FILE, SOPS_AGE_KEY or the sops keys.txt.",
    ];
    super(lines.join("\n"), SECRETS_EXIT.noMatchingKey);
    this.name = "NoMatchingKeyError";
  }
}

/** `encrypt` refuses to encrypt twice. */
export class AlreadyEncryptedError extends UserError {
  constructor(file: string) {
    super(`${file}: already encrypted (it has a sops block); use \`homelab secrets edit\` or \`set\``, SECRETS_EXIT.alreadyEncrypted);
    this.name = "AlreadyEncryptedError";
  }
}
