/**
 * The plaintext scanner: finds secrets that would reach Git unencrypted. Pure (files in, findings
 * out) so the build, the policy engine and `homelab secrets scan` share it. Findings never repeat the
 * secret itself, only where it is and what it looks like.
 */
import {
  LineCounter,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parseAllDocuments,
  type Document,
  type Node as YNode,
  type YAMLMap,
} from "yaml";
import { UserError } from "../errors.ts";
import { analyseAliases } from "../model/yaml-aliases.ts";
import { isEncryptedValue } from "./cipher.ts";
import { hasSopsBlock, inspectSopsText } from "./sops.ts";
import { guessFormatForPath as formatForPath } from "./stores.ts";

export interface Finding {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  readonly rule: string;
  readonly message: string;
}

/** One file to scan. */
export interface ScanInput {
  /** Path relative to the repo root (waivers match it). */
  readonly path: string;
  readonly content: string;
  /**
   * Why the content could not be read (too large, unreadable); the file is then reported as an
   * `unscanned-file` finding instead of being skipped silently.
   */
  readonly unscanned?: string;
}

/** An accepted false positive. The reason is mandatory and is printed with every waived finding. */
export interface Waiver {
  readonly rule: string;
  /** File path relative to the repo root; `*` matches within a segment, `**` across segments. */
  readonly path: string;
  /** Only findings whose line contains this text are waived. */
  readonly match?: string;
  readonly reason: string;
}

export interface ScanReport {
  readonly findings: readonly Finding[];
  readonly waived: readonly { readonly finding: Finding; readonly waiver: Waiver }[];
  readonly unusedWaivers: readonly Waiver[];
}

interface TokenRule {
  readonly rule: string;
  readonly what: string;
  readonly re: RegExp;
  /** Text every match contains: a line without it is not searched (one of these runs per rule and line). */
  readonly needs: string;
  /**
   * For a string about to be printed as JSON (`"key": "<escaped>"`, the object walk): whether the printed
   * line can hold a match, read from the string itself. A match in the printed line is a match in the
   * string, since JSON's escapes (`\"`, `\\`, `\n`, `\t`, `\u001b`, …) start with a backslash that no
   * rule's text holds, with two exceptions that ntfy-token below and the JWT rules make up for: an escape's
   * last letter may start a rule's text (`\t` then `k_…` is `tk_…` after a backslash), and a hex digit `e`
   * may start `eyJ`, which both JWT rules refuse after a letter or digit.
   * @default the string holds `needs`
   */
  readonly inString?: (raw: string) => boolean;
}

const PRIVATE_KEY_HEADER = /-----BEGIN (?:(?:RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY(?: BLOCK)?-----/;

/** Literal formats that are secrets wherever they appear. */
const TOKEN_RULES: readonly TokenRule[] = [
  { rule: "private-key", needs: "-----BEGIN ", what: "a PEM private key", re: PRIVATE_KEY_HEADER },
  { rule: "age-secret-key", needs: "AGE-SECRET-KEY-", what: "an age identity (AGE-SECRET-KEY-1…)", re: /AGE-SECRET-KEY-(?:PQ-)?1[0-9A-Z]{20,}/ },
  // `_` is in nearly every long string; a match needs one of these.
  { rule: "github-token", needs: "_", what: "a GitHub token", re: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})/, inString: (raw) => /gh[pousr]_|github_pat_/.test(raw) },
  { rule: "gitlab-token", needs: "glpat-", what: "a GitLab token", re: /\bglpat-[A-Za-z0-9_-]{20,}/ },
  { rule: "slack-token", needs: "xox", what: "a Slack token", re: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
  { rule: "slack-webhook", needs: "hooks.slack.com/services/", what: "a Slack webhook URL", re: /hooks\.slack\.com\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/[A-Za-z0-9]{16,}/ },
  { rule: "aws-access-key", needs: "IA", what: "an AWS access key id", re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { rule: "cloudflare-tunnel-token", needs: "eyJhIjoi", what: "a Cloudflare tunnel token", re: /\beyJhIjoi[A-Za-z0-9+/=_-]{60,}/ },
  { rule: "cloudflare-tunnel-credentials", needs: "TunnelSecret", what: "Cloudflare tunnel credentials (TunnelSecret)", re: /"?TunnelSecret"?\s*:\s*"?[A-Za-z0-9+/=]{32,}/ },
  { rule: "cloudflare-origin-ca-key", needs: "v1.0-", what: "a Cloudflare Origin CA key", re: /\bv1\.0-[0-9a-f]{24}-[0-9a-f]{146}\b/ },
  // Starts only where a run of token characters starts: from every `eyJ` inside one long run the
  // greedy segment rescanned to the run's end, which was quadratic on a crafted line.
  { rule: "jwt", needs: "eyJ", what: "a JSON Web Token", re: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/ },
  { rule: "anthropic-key", needs: "sk-ant-", what: "an Anthropic API key", re: /\bsk-ant-[a-z]+\d{2}-[A-Za-z0-9_-]{80,}/ },
  { rule: "openai-key", needs: "sk-", what: "an OpenAI API key", re: /\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}|\bsk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}/ },
  { rule: "google-api-key", needs: "AIza", what: "a Google API key", re: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { rule: "stripe-key", needs: "_live_", what: "a Stripe live key", re: /\b(?:sk|rk)_live_[0-9a-zA-Z]{24,}/ },
  { rule: "ntfy-token", needs: "tk_", what: "an ntfy access token", re: /\btk_[a-z0-9]{29}\b/, inString: (raw) => raw.includes("tk_") || raw.includes("\tk_") },
  {
    rule: "credentials-in-url", needs: "://",
    what: "a password inside a URL",
    // The user may be empty (`redis://:password@host`); `$VAR`, `<placeholder>`, `{{ tpl }}` and `***` are not passwords.
    // The scheme starts where a run of scheme characters starts (so `a.a.a…` is not rescanned from
    // every letter), and no class contains the character that ends it: one pass per URL.
    re: /(?<![\w+.-])[a-z][a-z0-9+.-]*:\/\/[^\s:/@"'`$<{]*:(?![$<{*x]+@)[^\s:/@"'`$<{]{2,}@[^\s]/,
    // A URL with a password has an `@`, which JSON never escapes.
    inString: (raw) => raw.includes("://") && raw.includes("@"),
  },
];

/**
 * What rule `r` finds in `line` (line `i` of `lines`, when the text has more): its message, or undefined.
 * A private key's header counts only with key material after it.
 */
function tokenFinding(r: TokenRule, line: string, lines?: readonly string[], i = 0): string | undefined {
  if (!line.includes(r.needs)) return undefined;
  const m = r.re.exec(line);
  if (!m) return undefined;
  if (r.rule === "private-key" && !hasKeyMaterial(lines ?? [line], i, m.index + m[0].length)) return undefined;
  return `${r.what}: ${redact(m[0])}`;
}

/** Every rule, for `--help` and the docs. */
export const SCAN_RULES: readonly { readonly rule: string; readonly what: string }[] = [
  { rule: "plaintext-secret-object", what: "a Kubernetes Secret with readable data/stringData values" },
  ...TOKEN_RULES.map(({ rule, what }) => ({ rule, what })),
  { rule: "literal-password", what: "a literal value (not a reference or placeholder) under a name ending in password/passwd/pass/pwd/passphrase/token/secret" },
  { rule: "high-entropy-secret", what: "a random-looking value under a key named like secret/key/credential/auth" },
  { rule: "sops-block-invalid", what: "a *.sops.* file (or any file with a sops block) whose sops block or encrypted values are broken" },
  { rule: "sops-file-as-resource", what: "a *.sops.yaml listed as a kustomize resource, which would be applied still encrypted" },
  { rule: "unparsable-file", what: "a YAML/JSON file that does not parse, so its structure could not be checked" },
  { rule: "unscanned-file", what: "a file that could not be scanned in full: too large, unreadable or binary" },
];

// ---------------------------------------------------------------- what a name says about its value

/** `smtp_auth_password` → smtp, auth, password; `adminPassword` → admin, password; `checksum/secret` → checksum, secret. */
function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    // Only from the start of a capital run: from inside one it could only fail again, after a rescan.
    .replace(/(?<![A-Z])([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** Last words that make a name point to, describe or configure a secret instead of holding one. */
const REFERENCE_WORDS = new Set(
  (
    "name names ref refs file files path paths dir directory url urls uri endpoint enabled enable disabled length type types mode field fields " +
    "header headers ttl expiry expires expiration id ids template format policy source env var vars variable provider providers method methods " +
    "scheme strategy hash hashed checksum digest fingerprint algorithm algo version duration timeout seconds minutes hours days period interval " +
    "count size max min limit annotation annotations label labels selector mount volume location backend store class kind realm issuer " +
    "audience scope scopes role roles user username login email host port prefix suffix regex pattern required create rotation namespace " +
    "reference keys level cache lifetime age"
  ).split(" "),
);
/** Any of these words anywhere in the name (existingSecret, checksum/secret) means it is not the secret itself. */
const REFERENCE_ANYWHERE = new Set(["existing", "checksum", "sha256", "sha1", "md5"]);
/** Names whose value is a password or token: any literal there is a leak, however short. */
const STRONG_LAST = /^(?:password|passwd|pass|pwd|passphrase|token|secret)$|(?:password|passwd|passphrase|token|secret)$/;
const PASSWORD_FAMILY = /(?:password|passwd|passphrase)$|^(?:pass|pwd)$/;
/** Words that make a name sensitive anywhere in it; the value must then look random to be flagged. */
const SENSITIVE_WORD = /^(?:.*password|.*passwd|passphrase|.*token|.*secret|credentials?|auth|authorization|apikey|privatekey|accesskey|secretkey)$/;
/** `<qualifier> key` names a key that is a secret (api key, private key), unlike `passwordKey` (a key name). */
const KEY_QUALIFIERS = new Set(["api", "private", "access", "secret", "signing", "encryption", "master", "shared", "client", "license", "ssh", "deploy", "session", "cookie", "auth", "webhook", "hmac", "app"]);

type Tier = "strong" | "medium";

/**
 * Text in which some name could have a tier: every name `secretTier` accepts has one of these in it
 * (STRONG_LAST, SENSITIVE_WORD, the `…key` forms). Lines without any are skipped unread.
 */
const SECRET_NAME_HINT = /pass|pwd|token|secret|key|auth|credential/i;
const SECRET_NAME_HINTS = new RegExp(SECRET_NAME_HINT.source, "gi");

/**
 * The lines of `text` (split as `text.split(/\r?\n/)` splits it) in which `re` (global) matches, in
 * order; a match never spans lines, as none of the hints holds a line break.
 */
function linesWith(text: string, re: RegExp): string[] {
  const out: string[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const start = text.lastIndexOf("\n", m.index) + 1;
    const nl = text.indexOf("\n", m.index);
    const end = nl < 0 ? text.length : nl;
    // `\r\n` ends a line as `\n` does; a lone `\r` stays in it.
    out.push(text.slice(start, nl > 0 && text.charCodeAt(nl - 1) === 13 && nl - 1 >= start ? nl - 1 : end));
    if (nl < 0) break;
    re.lastIndex = nl + 1;
  }
  return out;
}

/**
 * The tiers of names already judged: the same few hundred keys (name, image, labels, …) come back for
 * every object, and splitting each into words again was most of the scanner's time on key names.
 * Bounded, so a file of endless distinct keys cannot grow it without end.
 */
const TIERS = new Map<string, Tier | null>();

/** How strongly a key name says its value is a secret, or undefined when it does not. */
export function secretTier(key: string): Tier | undefined {
  const known = TIERS.get(key);
  if (known !== undefined) return known ?? undefined;
  const tier = tierOf(key);
  if (TIERS.size >= 10_000) TIERS.clear();
  TIERS.set(key, tier ?? null);
  return tier;
}

function tierOf(key: string): Tier | undefined {
  const w = words(key);
  const last = w[w.length - 1];
  if (!last || w.some((x) => REFERENCE_ANYWHERE.has(x))) return undefined;
  if (REFERENCE_WORDS.has(last)) return undefined;
  if (STRONG_LAST.test(last)) return "strong";
  if (last === "key") {
    const before = w[w.length - 2];
    if (before && KEY_QUALIFIERS.has(before)) return before === "secret" || before === "api" ? "strong" : "medium";
    return undefined;
  }
  if (last === "apikey" || last === "secretkey") return "strong";
  return w.some((x) => SENSITIVE_WORD.test(x)) ? "medium" : undefined;
}

const PLACEHOLDER =
  /^(?:x+|\*+|\.+|-+|_+|#+|changeme|change[-_ ]?me|change[-_ ]?it|replace[-_ ]?me|to[-_ ]?be[-_ ]?replaced|todo|tbd|fixme|example.*|placeholder.*|redacted|hidden|masked|none|null|nil|undefined|unset|dummy.*|fake.*|sample.*|your[-_ ].*|.*[-_ ]here|true|false|yes|no|on|off|~)$/i;

function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

function looksRandom(s: string): boolean {
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(s)).length;
  return s.length >= 12 && classes >= 2 && entropy(s) >= 3.0;
}

/** `/run/secrets/db`, `./creds`, `~/.config/x`: a path, unless one segment is random-looking (a base64 token may start with `/`). */
function isPathLike(v: string): boolean {
  const m = /^(?:~|\.{1,2})?\/(.*)$/.exec(v);
  if (!m || /[+=\s]/.test(v)) return false;
  return m[1]!.split("/").every((seg) => /^[A-Za-z0-9._@-]*$/.test(seg) && !(seg.length >= 16 && /[a-z]/.test(seg) && /[A-Z]/.test(seg) && /[0-9]/.test(seg)));
}

/**
 * `open` followed later by `close` (a template or a substitution). Two searches,
 * not `/\{\{.*\}\}/`, which rescanned the rest of the value from every `{{`.
 */
function enclosed(v: string, open: string, close: string): boolean {
  const a = v.indexOf(open);
  return a >= 0 && v.indexOf(close, a + open.length) >= 0;
}

/** A value that names or points to a secret (template, variable, path, URL, function call) rather than being one. */
function isReference(v: string): boolean {
  return (
    /^(?:\$|\{\{|<|%\(|@\w|\[\[)/.test(v) ||
    v.split("\n").some((line) => enclosed(line, "{{", "}}")) ||
    enclosed(v, "${", "}") ||
    enclosed(v, "$(", ")") ||
    /\$__\w+\{/.test(v) ||
    isPathLike(v) ||
    /^[a-z][a-z0-9+.-]*:\/\//i.test(v) ||
    // A secret manager's reference: 1Password (op://…, above), Vault (vault:path#key), vals (ref+…).
    /^(?:vault|ref\+[a-z0-9]+|awssm|awsssm|gcpsm|azkv|doppler|infisical|bws):\S/i.test(v) ||
    // A call or an attribute path in a config language: env("X"), sys.env("X"), local.file.token.content.
    /^[A-Za-z_][\w.]*\(/.test(v) ||
    /^[a-z_]\w*(?:\.[A-Za-z_]\w*)+$/.test(v) ||
    // An environment variable name, e.g. POSTGRES_PASSWORD_FILE.
    /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/.test(v)
  );
}

/** The token part of `Bearer <token>` / `Basic <creds>`. */
function credentialPart(v: string): string {
  const m = /^(?:bearer|basic|token)\s+(\S+)$/i.exec(v.trim());
  return m ? m[1]! : v.trim();
}

/** A value that reads like a generated secret (or a real password), not a name, path, URL or template. */
export function looksSecret(value: string): boolean {
  const v = credentialPart(value);
  if (v.length < 12 || /\s/.test(v)) return false;
  if (isEncryptedValue(v) || PLACEHOLDER.test(v) || isReference(v)) return false;
  // Kubernetes names and DNS names (with separators) are identifiers, not secrets.
  if (/^[a-z0-9]+(?:[-.][a-z0-9]+)+$/.test(v)) return false;
  // snake_case identifiers such as generic_oauth.
  if (/^[a-z]+(?:_[a-z]+)+$/.test(v)) return false;
  // IP addresses and CIDR ranges (PLEX_NO_AUTH_NETWORKS: 192.168.10.0/24), one or a list.
  if (/^(?:\d{1,3}\.){3}\d{1,3}(?:\/\d{1,2})?(?:,\s*(?:\d{1,3}\.){3}\d{1,3}(?:\/\d{1,2})?)*$/.test(v)) return false;
  return looksRandom(v);
}

/** A literal the operator typed in: anything but a placeholder, a reference or an encrypted value. */
function isLiteral(value: string, key: string): boolean {
  const v = credentialPart(value);
  if (v === "" || isEncryptedValue(v) || PLACEHOLDER.test(v) || isReference(v)) return false;
  // Under `secret`/`token` names a Kubernetes-style name is usually the name of a Secret object
  // (TS_KUBE_SECRET: tailscale), and under `secretKey` a snake_case word the name of a key in one
  // (an ExternalSecret's `secretKey: github_app_id`). A random-looking value is still judged below.
  if (!PASSWORD_FAMILY.test(words(key).pop() ?? "")) {
    if (/^[a-z0-9]+(?:[-.][a-z0-9]+)*$/.test(v) && /[-.]/.test(v)) return false;
    if (/^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$/.test(v) && !looksSecret(v)) return false;
    if (words(key).pop() === "secret" && /^[a-z][a-z0-9]*$/.test(v) && !looksSecret(v)) return false;
  }
  return true;
}

/** What is wrong with `value` under `key`, as a rule and a message, or undefined. */
function judge(key: string, raw: string | number, opts: { literal: boolean } = { literal: true }): { rule: string; message: string } | undefined {
  const tier = secretTier(key);
  if (!tier) return undefined;
  const value = String(raw);
  // A number under a password name (PIN, numeric password) is a literal too; under token/secret it is a setting.
  const passwordName = PASSWORD_FAMILY.test(words(key).pop() ?? "");
  if (tier === "strong" && opts.literal && isLiteral(value, key) && (passwordName || !/^\d+$/.test(value))) {
    return { rule: "literal-password", message: `${JSON.stringify(key)} holds a literal value: ${redact(value)}` };
  }
  if (typeof raw === "string" && looksSecret(value)) return { rule: "high-entropy-secret", message: `value of ${JSON.stringify(key)} looks like a secret: ${redact(value)}` };
  return undefined;
}

/**
 * Why a value stored in the clear under `key` would be a leak, as the scanner's rule name, or
 * undefined. Stricter than a scan of arbitrary files: inside a sops file any literal under a
 * sensitive-looking name counts, however weak it looks (the operator meant it to be a secret).
 */
export function sensitiveClearValue(key: string, raw: string | number): string | undefined {
  const j = judge(key, raw);
  if (j) return j.rule;
  return secretTier(key) && isLiteral(String(raw), key) ? "sensitive-key" : undefined;
}

function redact(s: string): string {
  return `${s.slice(0, Math.min(4, Math.floor(s.length / 4)))}… (${s.length} chars)`;
}

/** File types whose unquoted right-hand sides are expressions (variables), not literals. */
const CODE_FILE = /\.(?:[cm]?[jt]sx?|py|go|rb|java|kt|rs|cs|php|swift|c|h|cc|cpp|hpp|lua)$/i;
/** Documentation: `password: see the runbook` is prose, so only random-looking values count there. */
const PROSE_FILE = /\.(?:md|markdown|txt|rst|adoc|html?)$/i;

/**
 * How line-based text is read: `config` (env, ini, properties, text inside YAML strings) where a
 * right-hand side is a literal; `code` where only quoted ones are; `prose` where only random ones count.
 */
type TextKind = "config" | "code" | "prose";

/** Keys whose string values are documentation (JSON schema descriptions, help texts). */
const PROSE_KEY = /^(?:description|summary|help|title|comment|comments|message|note|notes|usage|doc|docs|example|examples|markdownDescription)$/i;

function textKind(path: string): TextKind {
  return CODE_FILE.test(path) ? "code" : PROSE_FILE.test(path) ? "prose" : "config";
}

// ---------------------------------------------------------------- one file

interface RawFinding extends Finding {
  /** The offending line, used only to match waivers. */
  readonly text: string;
}

/** `key = value`, `key: "value"`, `"key": "value"`, `--key=value` (the `=` form of a flag included). */
// Not `$password := …` (a template variable) nor `==`, `=>`, `=~` (comparisons).
// The key is at most 128 characters: a start after every `-` of a long `a-a-a…` run would otherwise
// rescan the run to its end.
const ASSIGNMENT = /(?<![\w$.])(["'`]?)([A-Za-z_][A-Za-z0-9_.-]{0,127})\1\s*(?::(?!=)|=(?![=>~]))\s*(["'`]?)([^"'`\s,;)=:][^"'`\s,;)]*)\3/g;
/** `--password value` inside a command line. */
const FLAG_VALUE = /(?:^|\s)--?([A-Za-z][A-Za-z0-9_.-]*)\s+(["']?)([^\s"'-][^\s"']*)\2/g;

class FileScan {
  readonly out: RawFinding[] = [];
  readonly lines: string[];
  constructor(
    readonly path: string,
    readonly content: string,
  ) {
    this.lines = content.split(/\r?\n/);
  }
  private readonly reported = new Set<string>();
  add(line: number, rule: string, message: string): void {
    // A set, not a search of `out`: a file with many findings made every addition linear.
    const id = `${line}\u0000${rule}`;
    if (this.reported.has(id)) return;
    this.reported.add(id);
    this.out.push({ file: this.path, line, rule, message, text: this.lines[line - 1] ?? "" });
  }

  tokens(lines: readonly string[] = this.lines): void {
    lines.forEach((l, i) => {
      for (const r of TOKEN_RULES) {
        const found = tokenFinding(r, l, lines, i);
        if (found) this.add(i + 1, r.rule, found);
      }
    });
  }

  /**
   * Line-based `key = value` / `key: "value"` / `--key value` checks, for files that are not
   * YAML/JSON and for text embedded in YAML/JSON strings (config files, env lists, command lines).
   * `at` maps an index in `lines` to a line of the file.
   */
  assignments(lines: readonly string[], opts: { kind: TextKind; at: (i: number, needles: readonly string[]) => number; skip?: ReadonlySet<number> }): void {
    const add = (line: number, j: { rule: string; message: string }) => {
      if (!opts.skip?.has(line)) this.add(line, j.rule, j.message);
    };
    lines.forEach((l, i) => {
      if (/^\s*(?:#|\/\/|;|\*|--\s)/.test(l)) return;
      // Both checks judge a name that `secretTier` accepts, and every such name holds one of these.
      if (!SECRET_NAME_HINT.test(l)) return;
      for (const m of l.matchAll(ASSIGNMENT)) {
        const [, , key, quote, value] = m as unknown as [string, string, string, string, string];
        // `secret: secretName: x` in a one-line example: the "value" is the next key.
        if (!quote && value.endsWith(":")) continue;
        // `${NAME:?message}` (shell, Compose) requires NAME to be set: what follows `?` is the error
        // message, not a value.
        if (!quote && value.startsWith("?") && l.slice(0, m.index).endsWith("${")) continue;
        // In code an unquoted right-hand side is a variable or an expression.
        if (opts.kind === "code" && !quote) continue;
        const j = judge(key, value, { literal: opts.kind !== "prose" });
        if (j) add(opts.at(i, [key, value]), j);
      }
      if (opts.kind === "code") return;
      // `--password value` is only flagged when the value looks generated: prose says "--token is required".
      for (const m of l.matchAll(FLAG_VALUE)) {
        const [, flag, , value] = m as unknown as [string, string, string, string];
        if (secretTier(flag) !== "strong") continue;
        const j = judge(flag, value, { literal: false });
        if (j) add(opts.at(i, [flag, value]), j);
      }
    });
  }
}

/** A PEM header followed by base64 key material; header-only examples (`...`) are not keys. */
function hasKeyMaterial(lines: readonly string[], i: number, afterHeader: number): boolean {
  const material = (s: string) => /[A-Za-z0-9+/]{32,}/.test(s.replace(/\\n/g, "\n").replace(/^[\s#"'|>-]*/gm, ""));
  if (material(lines[i]!.slice(afterHeader))) return true;
  for (let j = i + 1; j < Math.min(lines.length, i + 8); j++) {
    const l = lines[j]!;
    if (/-----END /.test(l)) return false;
    if (material(l)) return true;
  }
  return false;
}

function lineOf(lc: LineCounter, n: { range?: [number, number, number] | null } | null | undefined): number {
  return n?.range ? lc.linePos(n.range[0]).line : 1;
}

function endLineOf(lc: LineCounter, n: { range?: [number, number, number] | null } | null | undefined): number {
  return n?.range ? lc.linePos(Math.max(n.range[0], n.range[1] - 1)).line : 1;
}

function isMergeKey(k: unknown): boolean {
  if (!isScalar(k)) return false;
  const v = k.value;
  return (typeof v === "symbol" && v.description === "<<") || (v === "<<" && (!k.type || k.type === "PLAIN"));
}

interface Entry {
  readonly key: string;
  readonly keyNode: YNode;
  readonly value: unknown;
  /** Pulled in through a `<<` merge key: reported at the merge key's line. */
  readonly merged?: YNode;
}

/**
 * Walks YAML/JSON structure for Secret objects, sensitive keys, secrets embedded in strings and
 * kustomizations. Merge keys (`<<: *anchor`) and aliases are followed, as kubectl does.
 */
class Structure {
  private readonly lc = new LineCounter();
  private readonly docs: Document.Parsed[];
  private targets: ReadonlyMap<unknown, unknown> = new Map();
  private readonly isKustomization: boolean;
  /** data/stringData maps of Secret objects: already reported as plaintext-secret-object. */
  private readonly secretData = new Set<unknown>();

  constructor(
    private readonly fs: FileScan,
    private readonly encryptedFile: boolean,
  ) {
    this.docs = parseAllDocuments(fs.content, { lineCounter: this.lc, uniqueKeys: false, prettyErrors: false, merge: true }) as Document.Parsed[];
    this.isKustomization = /(^|\/)kustomization\.ya?ml$/i.test(fs.path);
  }

  /** Reports parse errors; returns false when the structure could not be read at all. */
  run(): boolean {
    if (!Array.isArray(this.docs)) return false;
    let ok = true;
    for (const d of this.docs) {
      if (d.errors.length) {
        ok = false;
        const e = d.errors[0]!;
        const line = e.pos ? this.lc.linePos(e.pos[0]).line : 1;
        this.fs.add(line, "unparsable-file", `does not parse as YAML/JSON (${e.message.split("\n")[0]}); nothing in it was checked structurally`);
      }
      const aliases = analyseAliases(d);
      if (aliases.problem) {
        ok = false;
        this.fs.add(this.lc.linePos(aliases.problem.offset).line, "unparsable-file", `${aliases.problem.message}; nothing in this document was checked structurally`);
        continue;
      }
      this.targets = aliases.targets;
      // A broken document still yields a partial tree; what can be read is checked.
      this.visit(d.contents, true, new Set());
    }
    return ok;
  }

  private deref(n: unknown, seen: Set<unknown> = new Set()): unknown {
    let cur = n;
    while (isAlias(cur)) {
      if (seen.has(cur)) return undefined;
      seen.add(cur);
      // Resolved once per document: `Alias.resolve` walks the whole document on every call.
      cur = this.targets.get(cur);
    }
    return cur;
  }

  /** A map's entries, merge keys resolved: own keys win over merged ones, earlier merge sources over later. */
  private entries(m: YAMLMap, seen: Set<unknown> = new Set()): Entry[] {
    if (seen.has(m)) return [];
    seen.add(m);
    const own: Entry[] = [];
    const merged: Entry[] = [];
    for (const p of m.items) {
      if (!isPair(p)) continue;
      if (isMergeKey(p.key)) {
        const src = this.deref(p.value);
        const sources = isSeq(src) ? src.items.map((x) => this.deref(x)) : [src];
        for (const s of sources) {
          if (!isMap(s)) continue;
          for (const e of this.entries(s, seen)) merged.push({ ...e, merged: e.merged ?? (p.key as YNode) });
        }
        continue;
      }
      if (!isScalar(p.key)) continue;
      own.push({ key: String(p.key.value), keyNode: p.key as YNode, value: p.value });
    }
    const out = [...own];
    const keys = new Set(own.map((o) => o.key));
    for (const e of merged) {
      if (keys.has(e.key)) continue;
      keys.add(e.key);
      out.push(e);
    }
    return out;
  }

  private get(m: YAMLMap, key: string): unknown {
    return this.deref(this.entries(m).find((e) => e.key === key)?.value);
  }

  private str(m: YAMLMap, key: string): string | undefined {
    const v = this.get(m, key);
    return isScalar(v) && typeof v.value === "string" ? v.value : undefined;
  }

  private at(e: Entry, node: unknown): number {
    return lineOf(this.lc, e.merged ?? (node as YNode) ?? e.keyNode);
  }

  /** Checks a scalar found under `key` (a map key, or the `name` of a name/value pair). */
  private value(key: string, node: unknown, line: number): void {
    if (!isScalar(node)) return;
    const v = node.value;
    const j = typeof v === "string" ? judge(key, v) : typeof v === "number" || typeof v === "bigint" ? judge(key, Number(v)) : undefined;
    if (j) this.fs.add(line, j.rule, j.message);
  }

  /** Text inside a string value: config files, env lists, command lines. `key` is the map key above it, if any. */
  private embedded(node: unknown, key?: string): void {
    if (!isScalar(node) || typeof node.value !== "string") return;
    const text = node.value;
    if (!/[:=]|\s-/.test(text)) return;
    const from = lineOf(this.lc, node);
    const to = endLineOf(this.lc, node);
    const block = node.type === "BLOCK_LITERAL";
    this.fs.assignments(text.split(/\r?\n/), {
      kind: key !== undefined && PROSE_KEY.test(key) ? "prose" : "config",
      at: (i, needles) => {
        // A literal block maps line for line; elsewhere (folded, quoted, JSON-escaped) find the source line.
        if (block && from + 1 + i <= to) return from + 1 + i;
        for (let l = from; l <= to; l++) if (needles.every((n) => this.fs.lines[l - 1]?.includes(n))) return l;
        return from;
      },
    });
  }

  private secretObject(n: YAMLMap): void {
    if (this.str(n, "kind") !== "Secret" || this.str(n, "apiVersion") !== "v1") return;
    for (const field of ["data", "stringData"]) {
      const d = this.get(n, field);
      if (!isMap(d)) continue;
      this.secretData.add(d);
      for (const e of this.entries(d)) {
        const v = this.deref(e.value);
        const s = isScalar(v) ? v.value : v;
        if (s === null || s === "" || s === undefined) continue;
        if (typeof s === "string" && isEncryptedValue(s)) continue;
        this.fs.add(this.at(e, e.keyNode), "plaintext-secret-object", `Secret ${field}.${e.key} is not encrypted; ${plaintextAdvice(this.fs.path)}`);
      }
    }
  }

  private visit(n: unknown, topLevel: boolean, seen: Set<unknown>): void {
    if (!n || seen.has(n)) return;
    seen.add(n);
    if (isSeq(n)) {
      n.items.forEach((it, i) => {
        if (isScalar(it)) this.embedded(it);
        // `["--password", "value"]`: a flag and its value as separate arguments.
        const flag = isScalar(it) && typeof it.value === "string" ? /^--?([A-Za-z][A-Za-z0-9_.-]*)$/.exec(it.value) : null;
        const next = n.items[i + 1];
        if (flag && secretTier(flag[1]!) === "strong" && isScalar(next)) this.value(flag[1]!, next, lineOf(this.lc, next as YNode));
        this.visit(it, false, seen);
      });
      return;
    }
    if (!isMap(n)) return;
    // The sops block holds only ciphertext and armored age stanzas.
    const skipSops = topLevel && this.encryptedFile;
    this.secretObject(n);
    if (this.secretData.has(n)) return;
    const name = this.str(n, "name");
    if (name !== undefined) {
      const valueEntry = this.entries(n).find((e) => e.key === "value");
      if (valueEntry) this.value(name, this.deref(valueEntry.value), this.at(valueEntry, this.deref(valueEntry.value)));
    }
    for (const p of n.items) {
      if (!isPair(p) || !isScalar(p.key) || isMergeKey(p.key)) continue;
      const key = String(p.key.value);
      if (skipSops && key === "sops") continue;
      const target = this.deref(p.value);
      this.value(key, target, lineOf(this.lc, (p.value as YNode) ?? (p.key as YNode)));
      if (isScalar(p.value)) this.embedded(p.value, key);
      if (this.isKustomization && key === "resources" && isSeq(p.value)) {
        for (const r of p.value.items) {
          const s = isScalar(r) && typeof r.value === "string" ? r.value : undefined;
          if (s && /\.sops\.(ya?ml|json)$/.test(s)) {
            this.fs.add(lineOf(this.lc, r as YNode), "sops-file-as-resource", `${s} is listed as a resource and would be applied encrypted; list it in a ksops generator`);
          }
        }
      }
      // Aliases are checked where their anchor is defined.
      if (!isAlias(p.value)) this.visit(p.value, false, seen);
    }
  }
}

// ---------------------------------------------------------------- a parsed object

/** A finding on an object handed over already parsed: where it is, as a JSON pointer. */
export interface ObjectFinding {
  readonly file: string;
  /** JSON pointer of the field, e.g. `/spec/template/spec/containers/0/env/1/value`. */
  readonly path: string;
  readonly rule: string;
  readonly message: string;
}

/** `f`, called at most once. */
function lazy(f: () => string): () => string {
  let v: string | undefined;
  return () => (v ??= f());
}

const isPlain = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Bounded caches for the walk: the same few hundred keys come back in every object. A key's `"key": `
 * prefix, and whether that prefix holds any token rule's text (when it does not, a rule can only match
 * in the value, and a map's or list's opening line, `"key": {`, cannot match at all: no rule's text
 * holds a bracket).
 */
const HEADS = new Map<string, string>();
const HEAD_NEEDS = new Map<string, boolean>();

function headOf(key: string): string {
  let h = HEADS.get(key);
  if (h === undefined) {
    if (HEADS.size >= 10_000) HEADS.clear();
    h = `${JSON.stringify(key)}: `;
    HEADS.set(key, h);
  }
  return h;
}

function headNeeds(lead: string): boolean {
  let n = HEAD_NEEDS.get(lead);
  if (n === undefined) {
    if (HEAD_NEEDS.size >= 10_000) HEAD_NEEDS.clear();
    n = TOKEN_RULES.some((r) => lead.includes(r.needs));
    HEAD_NEEDS.set(lead, n);
  }
  return n;
}
const pointer = (segs: readonly (string | number)[]) => segs.map((s) => "/" + String(s).replace(/~/g, "~0").replace(/\//g, "~1")).join("");

/**
 * The structural checks of a YAML/JSON file (`Structure`) on a value that is already parsed, such as the
 * objects the manifest loader or the renderer hold: parsing their JSON text again cost more than the
 * checks themselves. Each check sees what it would see on `JSON.stringify(value, null, 2)`: the token
 * rules and waivers read the field's JSON line (`"key": "value"`), findings keep the same order (by that
 * text's line, then rule) and carry the field's path instead of a line.
 */
class ObjectWalk {
  readonly out: (ObjectFinding & { readonly line: number; readonly text: string })[] = [];
  private readonly reported = new Set<string>();
  /** The line of the pretty-printed JSON the walk is at. */
  private line = 1;

  constructor(private readonly file: string) {}

  private add(segs: readonly (string | number)[], line: number, text: string | (() => string), rule: string, message: string): void {
    const path = pointer(segs);
    const id = `${path}\u0000${rule}`;
    if (this.reported.has(id)) return;
    this.reported.add(id);
    this.out.push({ file: this.file, path, line, text: typeof text === "string" ? text : text(), rule, message });
  }

  private tokens(segs: readonly (string | number)[], text: string): void {
    for (const r of TOKEN_RULES) {
      const found = tokenFinding(r, text);
      if (found) this.add(segs, this.line, text, r.rule, found);
    }
  }

  /**
   * The token rules on a scalar's line, `lead` and the scalar's JSON (`text`, printed only when needed):
   * a rule whose text cannot be in that line (`inString`) is passed over without printing the scalar.
   */
  private scalarTokens(segs: readonly (string | number)[], lead: string, v: unknown, text: () => string): void {
    if (typeof v !== "string") return this.tokens(segs, text());
    const inLead = headNeeds(lead);
    for (const r of TOKEN_RULES) {
      if (!(inLead && lead.includes(r.needs)) && !(r.inString ? r.inString(v) : v.includes(r.needs))) continue;
      const t = text();
      const found = tokenFinding(r, t);
      if (found) this.add(segs, this.line, t, r.rule, found);
    }
  }

  private judged(segs: readonly (string | number)[], line: number, text: string | (() => string), key: string, v: unknown): void {
    const j = typeof v === "string" || typeof v === "number" ? judge(key, v) : undefined;
    if (j) this.add(segs, line, text, j.rule, j.message);
  }

  /** Text inside a string value (`Structure.embedded`). */
  private embedded(segs: readonly (string | number)[], text: () => string, value: string, key?: string): void {
    if (!/[:=]|\s-/.test(value)) return;
    // `assignments` passes over every line without a secret-like name, so only those lines are cut
    // out: a Grafana dashboard's JSON is thousands of lines, and splitting all of them cost more than
    // the rest of the walk.
    const lines = linesWith(value, SECRET_NAME_HINTS);
    if (lines.length === 0) return;
    const fs = new FileScan(this.file, "");
    fs.assignments(lines, { kind: key !== undefined && PROSE_KEY.test(key) ? "prose" : "config", at: () => 1 });
    for (const f of fs.out) this.add(segs, this.line, text, f.rule, f.message);
  }

  /**
   * Walks `v`, which starts on the current line, and leaves the line after it. `lead` is its `"key": `
   * prefix. Below a Secret's data only the token rules run (`checks` false), as in `Structure`.
   * `segs` is the path so far, shared down the walk (pushed and popped): a finding spells it out when
   * it is made. `line` gives the scalar's line as printed (`lead` and its JSON), when the caller has it.
   */
  visit(v: unknown, segs: (string | number)[], lead: string, checks = true, line?: () => string): void {
    if (Array.isArray(v)) {
      if (headNeeds(lead)) this.tokens(segs, `${lead}${v.length ? "[" : "[]"}`);
      this.line++;
      v.forEach((it, i) => {
        segs.push(i);
        if (!checks) {
          this.visit(it, segs, "", false);
          segs.pop();
          return;
        }
        const text = it === null || typeof it !== "object" ? lazy(() => JSON.stringify(it)) : undefined;
        if (typeof it === "string") this.embedded(segs, text!, it);
        // `["--password", "value"]`: a flag and its value as separate arguments.
        const flag = typeof it === "string" ? /^--?([A-Za-z][A-Za-z0-9_.-]*)$/.exec(it) : null;
        const next = v[i + 1];
        if (flag && secretTier(flag[1]!) === "strong" && (next === null || typeof next !== "object")) {
          this.judged([...segs.slice(0, -1), i + 1], this.line + 1, JSON.stringify(next), flag[1]!, next);
        }
        this.visit(it, segs, "", true, text);
        segs.pop();
      });
      if (v.length) this.line++;
      return;
    }
    if (!isPlain(v)) {
      this.scalarTokens(segs, lead, v, line ?? (() => `${lead}${JSON.stringify(v)}`));
      this.line++;
      return;
    }
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    if (headNeeds(lead)) this.tokens(segs, `${lead}${entries.length ? "{" : "{}"}`);
    this.line++;
    if (!checks) {
      for (const [key, x] of entries) {
        segs.push(key);
        this.visit(x, segs, headOf(key), false);
        segs.pop();
      }
      if (entries.length) this.line++;
      return;
    }
    const secret = v.kind === "Secret" && v.apiVersion === "v1";
    const name = typeof v.name === "string" ? v.name : undefined;
    for (const [key, x] of entries) {
      segs.push(key);
      this.entry(segs, key, x, secret, name);
      segs.pop();
    }
    if (entries.length) this.line++;
  }

  /** One field `key: x` of the map `v`; `here` is its path. */
  private entry(here: (string | number)[], key: string, x: unknown, secret: boolean, name: string | undefined): void {
    {
      const head = headOf(key);
      const scalar = x === null || typeof x !== "object";
      // Printed only when a check needs it: most scalars, and a dashboard's JSON, need none.
      const text = scalar ? lazy(() => head + JSON.stringify(x)) : () => head;
      if (secret && (key === "data" || key === "stringData") && isPlain(x)) {
        // Already reported as a whole; its values are not judged again (`Structure.secretObject`).
        this.tokens(here, `${head}{`);
        this.line++;
        for (const [k, d] of Object.entries(x)) {
          if (d === undefined) continue;
          const dText = `${JSON.stringify(k)}: ${JSON.stringify(d)}`;
          here.push(k);
          if (!(d === null || d === "" || (typeof d === "string" && isEncryptedValue(d))))
            this.add(here, this.line, dText, "plaintext-secret-object", `Secret ${key}.${k} is not encrypted; ${plaintextAdvice(this.file)}`);
          this.visit(d, here, `${JSON.stringify(k)}: `, false);
          here.pop();
        }
        this.line++;
        return;
      }
      if (key === "value" && name !== undefined) this.judged(here, this.line, text, name, x);
      this.judged(here, this.line, text, key, x);
      if (typeof x === "string") this.embedded(here, text, x, key);
      // The scalar's line is `text`: printing a long string (a dashboard's JSON) twice cost as much as
      // the checks on it.
      this.visit(x, here, head, true, scalar ? text : undefined);
    }
  }
}

/**
 * Scans one parsed object (a manifest the loader or the renderer holds) as `scanFiles` would scan its
 * pretty-printed JSON, without printing and parsing it again. Undefined when the object needs the file
 * checks (a top-level sops block, a kustomization by name): scan its text then.
 */
export function scanObject(file: string, value: unknown, waivers: readonly Waiver[] = []): ObjectFinding[] | undefined {
  if ((isPlain(value) && "sops" in value) || /(^|\/)kustomization\.ya?ml$/i.test(file)) return undefined;
  const walk = new ObjectWalk(file);
  walk.visit(value, [], "");
  const kept = walk.out.filter((f) => !waivers.some((w) => waiverCovers(w, f.rule, file, f.text)));
  kept.sort((a, b) => a.line - b.line || a.rule.localeCompare(b.rule));
  return kept.map(({ file: f, path, rule, message }) => ({ file: f, path: path || "/", rule, message }));
}

function sopsChecks(fs: FileScan, format: ReturnType<typeof formatForPath>): void {
  const { problems } = inspectSopsText(fs.content, format, fs.path);
  const at = Math.max(1, fs.content.split(/\r?\n/).findIndex((l) => /^sops[:_]|^\s*"sops"\s*:/.test(l)) + 1);
  // A *.sops.* file with no sops block at all was never encrypted: say how to encrypt it.
  for (const p of problems) fs.add(at, "sops-block-invalid", /\(the file is not encrypted\)$/.test(p) ? `${p}; encrypt it in place: \`homelab secrets encrypt ${fs.path}\`` : p);
}

/**
 * What to do about a readable Secret value. A file already at `secrets/<app>/<name>.sops.yaml` only
 * needs encrypting where it is; anything else belongs there, encrypted.
 */
function plaintextAdvice(path: string): string {
  if (/(^|\/)secrets\/[^/]+\/[^/]+\.sops\.ya?ml$/.test(path)) return `encrypt the file in place: \`homelab secrets encrypt ${path}\``;
  return "keep Secrets in secrets/<app>/<name>.sops.yaml, encrypted (`homelab secrets set` creates one, `homelab secrets encrypt` encrypts an existing file)";
}

function globRe(glob: string): RegExp {
  const re = glob
    .split("**")
    .map((part) => part.replace(/[.+^${}()|[\]\\?]/g, "\\$&").replace(/\*/g, "[^/]*"))
    .join(".*");
  return new RegExp(`^${re}$`);
}

/** Whether waiver `w` covers a finding of `rule` in `file` whose flagged text is `text`. */
export function waiverCovers(w: Waiver, rule: string, file: string, text: string): boolean {
  return w.rule === rule && globRe(w.path).test(file) && (w.match === undefined || text.includes(w.match));
}

/**
 * What the policy rule no-plaintext-secrets finds on Kubernetes objects beyond this scanner (by the
 * name of a value's slot, not its shape); its false positives are waived in the same file.
 */
export const OBJECT_SECRET_RULES: readonly { readonly rule: string; readonly what: string }[] = [
  { rule: "credential-name", what: "a ConfigMap key or literal env value named like a cloud credential, secret, token or password, whatever its value" },
  { rule: "private-key-header", what: "a PEM private-key header in a Kubernetes object, whatever follows it" },
];

/** Rejects waivers that cannot be honoured; a waiver without a reason is an error, not a warning. */
export function checkWaivers(waivers: readonly Waiver[]): void {
  const known = new Set([...SCAN_RULES, ...OBJECT_SECRET_RULES].map((r) => r.rule));
  const bad: string[] = [];
  waivers.forEach((w, i) => {
    if (!w || typeof w !== "object") bad.push(`waiver ${i + 1}: not a map`);
    else {
      if (!known.has(w.rule)) bad.push(`waiver ${i + 1}: unknown rule ${JSON.stringify(w.rule)}`);
      if (typeof w.path !== "string" || w.path === "") bad.push(`waiver ${i + 1}: path is required`);
      if (typeof w.reason !== "string" || w.reason.trim().length < 10) bad.push(`waiver ${i + 1} (${w.rule} ${w.path}): a reason of at least a few words is required`);
      if (w.match !== undefined && (typeof w.match !== "string" || w.match === "")) bad.push(`waiver ${i + 1}: match must be a non-empty string`);
    }
  });
  if (bad.length) throw new UserError(`invalid scan waivers:\n${bad.map((b) => `  - ${b}`).join("\n")}`);
}

function scanOne(f: ScanInput): RawFinding[] {
  const { path, content } = f;
  if (f.unscanned !== undefined) {
    const fs = new FileScan(path, "");
    fs.add(1, "unscanned-file", `not scanned: ${f.unscanned}`);
    return fs.out;
  }
  if (content.includes("\u0000")) {
    // Binary: the printable text can still carry a key or token in a known format.
    const fs = new FileScan(path, content.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, " "));
    fs.tokens();
    fs.add(1, "unscanned-file", "binary content (NUL bytes): only known token formats were checked; keep binaries out of the scanned tree or waive the file with a reason");
    return fs.out;
  }
  const fs = new FileScan(path, content);
  fs.tokens();
  const format = formatForPath(path);
  const named = /\.sops\.(ya?ml|json|env)$/i.test(path);
  const lineAt = (i: number) => i + 1;
  if (format === "yaml" || format === "json") {
    const encrypted = hasSopsBlock(content, format);
    if (named || encrypted) sopsChecks(fs, format);
    // Unparsable: fall back to the line-based checks so a `password: …` line is still named
    // (unless what could be parsed already reported that line).
    if (!new Structure(fs, encrypted).run()) fs.assignments(fs.lines, { kind: "config", at: lineAt, skip: new Set(fs.out.map((f) => f.line)) });
  } else if (format === "dotenv" && (named || hasSopsBlock(content, "dotenv"))) {
    sopsChecks(fs, "dotenv");
  } else {
    fs.assignments(fs.lines, { kind: textKind(path), at: lineAt });
  }
  return fs.out;
}

/** Scans and sorts findings; waived ones are reported separately, with unused waivers. */
export function scanReport(files: readonly ScanInput[], waivers: readonly Waiver[] = []): ScanReport {
  checkWaivers(waivers);
  const compiled = waivers.map((w) => ({ w, re: globRe(w.path), used: false }));
  const findings: Finding[] = [];
  const waived: { finding: Finding; waiver: Waiver }[] = [];
  for (const f of files) {
    for (const raw of scanOne(f)) {
      const { text, ...finding } = raw;
      const hit = compiled.find((c) => c.w.rule === finding.rule && c.re.test(finding.file) && (c.w.match === undefined || text.includes(c.w.match)));
      if (hit) {
        hit.used = true;
        waived.push({ finding, waiver: hit.w });
      } else findings.push(finding);
    }
  }
  const order = (a: Finding, b: Finding) => (a.file === b.file ? a.line - b.line || a.rule.localeCompare(b.rule) : a.file < b.file ? -1 : 1);
  findings.sort(order);
  return { findings, waived, unusedWaivers: compiled.filter((c) => !c.used).map((c) => c.w) };
}

/** Findings that no waiver covers. */
export function scanFiles(files: readonly ScanInput[], waivers?: readonly Waiver[]): Finding[] {
  return [...scanReport(files, waivers).findings];
}

export function formatFinding(f: Finding): string {
  return `${f.file}:${f.line}: ${f.message} [${f.rule}]`;
}
