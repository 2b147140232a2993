/**
 * The last line of defence against plaintext in a sops file. A `.sops.yaml` rule such as
 * `encrypted_regex: ^(data|stringData)$` encrypts only the keys it selects: a file under that rule
 * that is not a Kubernetes Secret (or a Secret with a stray top-level key) is sealed with its values
 * in the clear, gets a valid MAC and opens fine. Real sops does exactly that; homelab refuses.
 *
 * Used by `set`, `edit` and `encrypt` before anything is written, and by `verify` on files already
 * in the repository.
 */
import { UserError } from "../errors.ts";
import { isEncryptedValue } from "./cipher.ts";
import { SOPS_CONFIG_FILE, type CreationRule } from "./config.ts";
import { SECRETS_EXIT } from "./errors.ts";
import { sensitiveClearValue } from "./scan.ts";
import { Branch, Comment, RuleSet, cloneValue, leafBytes, normalizeRules, walkBranch, type EncryptionRules, type Scalar } from "./tree.ts";

/** A key path as `set` takes it: map keys and list indexes. */
export type KeyPath = readonly (string | number)[];

/** Plaintext would have been written; nothing was. */
export class PlaintextRefusedError extends UserError {
  constructor(message: string) {
    super(message, SECRETS_EXIT.format);
    this.name = "PlaintextRefusedError";
  }
}

interface Leaf {
  readonly path: readonly string[];
  readonly value: Scalar;
  readonly encrypted: boolean;
}

/** Every value leaf (comments left out) with whether `encrypted` says it is or will be encrypted. */
function leaves(docs: readonly Branch[], encrypted: (leaf: Scalar, path: readonly string[], stack: readonly (readonly string[])[]) => boolean): Leaf[] {
  const out: Leaf[] = [];
  for (const d of docs) {
    walkBranch(cloneValue(d), (leaf, path, stack) => {
      if (!(leaf instanceof Comment)) out.push({ path, value: leaf, encrypted: encrypted(leaf, path, stack) });
      return leaf;
    });
  }
  return out;
}

/** What is wrong with these leaves: the given value or a sensitive one in the clear, or nothing encrypted at all. */
function problemsOf(all: readonly Leaf[], given?: KeyPath): string[] {
  const problems: string[] = [];
  // List items share their parent's path in the sops walk, so compare map keys only.
  const givenKeys = given?.filter((k): k is string => typeof k === "string").join(".");
  for (const l of all) {
    if (l.encrypted) continue;
    const where = l.path.join(".");
    const text = leafBytes(l.value).toString("utf8");
    if (givenKeys !== undefined && where === givenKeys) {
      problems.push(`${where}: the value you gave would be stored in plaintext`);
      continue;
    }
    if (text === "" || typeof l.value === "boolean") continue;
    const why = sensitiveClearValue(l.path[l.path.length - 1] ?? "", typeof l.value === "string" ? l.value : text);
    if (why) problems.push(`${where}: a sensitive-looking value would be stored in plaintext (${why})`);
  }
  // sops leaves empty strings as they are, so they say nothing either way.
  const counted = all.filter((l) => l.value !== "");
  if (counted.length > 0 && counted.every((l) => !l.encrypted)) problems.push("no value in the file is encrypted");
  return problems;
}

/** The selector of a rule set as `.sops.yaml` spells it, e.g. `encrypted_regex ^(data|stringData)$`. */
export function describeRules(rules: EncryptionRules): string {
  const r = normalizeRules(rules);
  const pairs: [keyof EncryptionRules, string][] = [
    ["encryptedRegex", "encrypted_regex"],
    ["unencryptedRegex", "unencrypted_regex"],
    ["encryptedSuffix", "encrypted_suffix"],
    ["unencryptedSuffix", "unencrypted_suffix"],
    ["encryptedCommentRegex", "encrypted_comment_regex"],
    ["unencryptedCommentRegex", "unencrypted_comment_regex"],
  ];
  const hit = pairs.find(([k]) => typeof r[k] === "string");
  return hit ? `${hit[1]} ${String(r[hit[0]])}` : "no selector";
}

/** Names the rule in a message: the `.sops.yaml` creation rule, or the rules stored in the file itself. */
export function ruleOrigin(rules: EncryptionRules, creationRule?: CreationRule): string {
  if (!creationRule) return `the file's own encryption rule (${describeRules(rules)}, fixed when it was created)`;
  const path = creationRule.pathRegex ? `path_regex ${creationRule.pathRegex}, ` : "";
  return `${SOPS_CONFIG_FILE} creation_rules[${creationRule.index}] (${path}${describeRules(rules)})`;
}

function waysOut(): string[] {
  return [
    "Two ways out:",
    "  - store the value under data or stringData of a Kubernetes Secret (e.g. `homelab secrets set secrets/<app>/<name>.sops.yaml <key>`), or",
    `  - add a rule for this path to ${SOPS_CONFIG_FILE}, above the one named here, that encrypts every value (no encrypted_regex).`,
  ];
}

/** `verify`'s message for a file on disk that clearValueProblems found wanting. */
export function plaintextOnDiskMessage(file: string, problems: readonly string[], rules: EncryptionRules, creationRule?: CreationRule): string {
  return [
    `${file}: plaintext in a sops file:`,
    ...problems.map((p) => `  - ${p}`),
    `The file was sealed under ${ruleOrigin(rules)}${creationRule ? `; ${ruleOrigin(creationRule.rules, creationRule)} applies to its path now` : ""}.`,
    "Move the values out of the file's history (they are public now: change them at their source), then:",
    ...waysOut(),
  ].join("\n");
}

export interface RefuseOptions {
  /** Name of the file in messages. */
  readonly file: string;
  /** The `.sops.yaml` rule the file is created under; absent when an existing file keeps its own rules. */
  readonly creationRule?: CreationRule;
  /** The key path `set` was given: its value must be encrypted whatever it looks like. */
  readonly given?: KeyPath;
}

/**
 * Throws PlaintextRefusedError when sealing `plain` under `rules` would leave the given value, or any
 * value the scanner calls sensitive, in the clear, or would encrypt nothing at all. Call it before
 * writing: the error says which rule caused it and the two ways out.
 */
export function refuseClearValues(plain: readonly Branch[], rules: EncryptionRules, opts: RefuseOptions): void {
  const rs = new RuleSet(rules);
  const problems = problemsOf(
    leaves(plain, (_leaf, path, stack) => rs.shouldBeEncrypted(path, stack, false)),
    opts.given,
  );
  if (problems.length === 0) return;
  throw new PlaintextRefusedError(
    [
      `${opts.file}: refusing to write plaintext; nothing was written:`,
      ...problems.map((p) => `  - ${p}`),
      `The rule that decides it is ${ruleOrigin(rules, opts.creationRule)}: it encrypts only the values it selects.`,
      ...waysOut(),
    ].join("\n"),
  );
}

/**
 * The same judgement on a file as it sits on disk (values still encrypted): what `verify` reports for a
 * file under a creation rule. A value counts as encrypted when it is an `ENC[...]` value.
 */
export function clearValueProblems(branches: readonly Branch[]): string[] {
  return problemsOf(leaves(branches, (leaf) => isEncryptedValue(leaf)));
}
