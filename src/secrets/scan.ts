/**
 * The plaintext scanner: finds secrets that would reach Git unencrypted. Pure (files in, findings
 * out) so the build, the policy engine and `homelab secrets scan` share it. Findings never repeat the
 * secret itself, only where it is and what it looks like.
 */
import { LineCounter, isMap, isPair, isScalar, isSeq, parseAllDocuments, type Node as YNode, type Scalar as YScalar, type YAMLMap } from "yaml";
import { UserError } from "../errors.ts";
import { isEncryptedValue } from "./cipher.ts";
import { hasSopsBlock, inspectSopsText } from "./sops.ts";
import { formatForPath } from "./stores.ts";

export interface Finding {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  readonly rule: string;
  readonly message: string;
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
}

/** Literal formats that are secrets wherever they appear. */
const TOKEN_RULES: readonly TokenRule[] = [
  { rule: "private-key", what: "a PEM private key", re: /-----BEGIN (?:(?:RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY(?: BLOCK)?-----/ },
  { rule: "age-secret-key", what: "an age identity (AGE-SECRET-KEY-1…)", re: /AGE-SECRET-KEY-(?:PQ-)?1[0-9A-Z]{20,}/ },
  { rule: "github-token", what: "a GitHub token", re: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})/ },
  { rule: "gitlab-token", what: "a GitLab token", re: /\bglpat-[A-Za-z0-9_-]{20,}/ },
  { rule: "slack-token", what: "a Slack token", re: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
  { rule: "slack-webhook", what: "a Slack webhook URL", re: /hooks\.slack\.com\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/[A-Za-z0-9]{16,}/ },
  { rule: "aws-access-key", what: "an AWS access key id", re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { rule: "cloudflare-tunnel-token", what: "a Cloudflare tunnel token", re: /\beyJhIjoi[A-Za-z0-9+/=_-]{60,}/ },
  { rule: "cloudflare-tunnel-credentials", what: "Cloudflare tunnel credentials (TunnelSecret)", re: /"?TunnelSecret"?\s*:\s*"?[A-Za-z0-9+/=]{32,}/ },
  { rule: "cloudflare-origin-ca-key", what: "a Cloudflare Origin CA key", re: /\bv1\.0-[0-9a-f]{24}-[0-9a-f]{146}\b/ },
  { rule: "jwt", what: "a JSON Web Token", re: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/ },
  { rule: "anthropic-key", what: "an Anthropic API key", re: /\bsk-ant-[a-z]+\d{2}-[A-Za-z0-9_-]{80,}/ },
  { rule: "openai-key", what: "an OpenAI API key", re: /\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}|\bsk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}/ },
  { rule: "google-api-key", what: "a Google API key", re: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { rule: "stripe-key", what: "a Stripe live key", re: /\b(?:sk|rk)_live_[0-9a-zA-Z]{24,}/ },
  { rule: "ntfy-token", what: "an ntfy access token", re: /\btk_[a-z0-9]{29}\b/ },
  {
    rule: "credentials-in-url",
    what: "a password inside a URL",
    re: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@"'`$<{]+:(?![$<{*x]+@)[^\s:/@"'`$<{]{3,}@[^\s]/,
  },
];

/** Every rule, for `--help` and the docs. */
export const SCAN_RULES: readonly { readonly rule: string; readonly what: string }[] = [
  { rule: "plaintext-secret-object", what: "a Kubernetes Secret with readable data/stringData values" },
  ...TOKEN_RULES.map(({ rule, what }) => ({ rule, what })),
  { rule: "high-entropy-secret", what: "a random-looking value under a key named like password/token/secret/key" },
  { rule: "sops-block-invalid", what: "a *.sops.* file (or any file with a sops block) whose sops block or encrypted values are broken" },
  { rule: "sops-file-as-resource", what: "a *.sops.yaml listed as a kustomize resource, which would be applied still encrypted" },
];

const SENSITIVE_KEY = /passw(?:or)?d|passwd|secret|token|api[-_]?key|apikey|private[-_]?key|access[-_]?key|credential|auth/i;
/** Keys that name or point to a secret rather than hold one. */
const REFERENCE_KEY = /(?:name|ref|file|path|dir|url|uri|endpoint|enabled|length|type|mode|field|header|ttl|expiry|expires|key[-_]?id|secretkey[-_]?ref|existing[-_]?secret.*|template|format|policy|source)$/i;
const PLACEHOLDER = /^(?:x+|\*+|changeme|change[-_]?me|replace[-_]?me|todo|example.*|placeholder.*|redacted|none|null|dummy.*|fake.*)$/i;

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

/** A value that reads like a generated secret (or a real password), not a name, path, URL or template. */
export function looksSecret(v: string): boolean {
  if (v.length < 12 || /\s/.test(v)) return false;
  if (isEncryptedValue(v) || PLACEHOLDER.test(v)) return false;
  if (/^(?:\$|\{\{|<|\/|~\/|\.\/|[a-z][a-z0-9+.-]*:\/\/)/i.test(v)) return false;
  // Kubernetes names and DNS names (with separators) are identifiers, not secrets.
  if (/^[a-z0-9]+(?:[-.][a-z0-9]+)+$/.test(v)) return false;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(v)).length;
  return classes >= 2 && entropy(v) >= 3.0;
}

function sensitiveKey(k: string): boolean {
  return SENSITIVE_KEY.test(k) && !REFERENCE_KEY.test(k);
}

function redact(s: string): string {
  return `${s.slice(0, Math.min(4, Math.floor(s.length / 4)))}… (${s.length} chars)`;
}

interface RawFinding extends Finding {
  /** The offending line, used only to match waivers. */
  readonly text: string;
}

class FileScan {
  readonly out: RawFinding[] = [];
  private readonly lines: string[];
  constructor(
    readonly path: string,
    readonly content: string,
  ) {
    this.lines = content.split(/\r?\n/);
  }
  add(line: number, rule: string, message: string): void {
    if (this.out.some((f) => f.line === line && f.rule === rule)) return;
    this.out.push({ file: this.path, line, rule, message, text: this.lines[line - 1] ?? "" });
  }

  tokens(): void {
    this.lines.forEach((l, i) => {
      for (const r of TOKEN_RULES) {
        const m = r.re.exec(l);
        if (m) this.add(i + 1, r.rule, `${r.what}: ${redact(m[0])}`);
      }
    });
  }

  /** Line-based `key = value` / `key: "value"` check for files that are not YAML/JSON. */
  assignments(): void {
    const re = /(["'`]?)([A-Za-z_][A-Za-z0-9_.-]*)\1\s*[:=]\s*(["'`]?)([^"'`\s,;)]+)\3/g;
    this.lines.forEach((l, i) => {
      for (const m of l.matchAll(re)) {
        const key = m[2]!;
        const value = m[4]!;
        if (sensitiveKey(key) && looksSecret(value)) {
          this.add(i + 1, "high-entropy-secret", `value of ${JSON.stringify(key)} looks like a secret: ${redact(value)}`);
        }
      }
    });
  }
}

function lineOf(lc: LineCounter, n: { range?: [number, number, number] | null } | null | undefined): number {
  return n?.range ? lc.linePos(n.range[0]).line : 1;
}

function scalarString(n: unknown): string | undefined {
  return isScalar(n) && typeof n.value === "string" ? n.value : undefined;
}

function mapGet(m: YAMLMap, key: string): unknown {
  for (const p of m.items) if (isPair(p) && isScalar(p.key) && p.key.value === key) return p.value;
  return undefined;
}

/** Walks YAML/JSON structure for Secret objects, sensitive keys and kustomizations. */
function structural(fs: FileScan, encryptedFile: boolean): void {
  const lc = new LineCounter();
  const docs = parseAllDocuments(fs.content, { lineCounter: lc, uniqueKeys: false, prettyErrors: false });
  if (!Array.isArray(docs)) return;
  const isKustomization = /(^|\/)kustomization\.ya?ml$/i.test(fs.path);

  const visit = (n: unknown, topLevel: boolean): void => {
    if (isSeq(n)) {
      for (const it of n.items) visit(it, false);
      return;
    }
    if (!isMap(n)) return;
    // The sops block holds only ciphertext and armored age stanzas.
    const skipSops = topLevel && encryptedFile;
    if (mapGet(n, "kind") !== undefined && scalarString(mapGet(n, "kind")) === "Secret" && scalarString(mapGet(n, "apiVersion")) === "v1") {
      for (const field of ["data", "stringData"]) {
        const d = mapGet(n, field);
        if (!isMap(d)) continue;
        for (const p of d.items) {
          if (!isPair(p)) continue;
          const v = p.value;
          const s = isScalar(v) ? v.value : v;
          if (s === null || s === "" || s === undefined) continue;
          if (typeof s === "string" && isEncryptedValue(s)) continue;
          const k = isScalar(p.key) ? String(p.key.value) : "?";
          fs.add(lineOf(lc, p.key as YNode), "plaintext-secret-object", `Secret ${field}.${k} is not encrypted; keep Secrets in secrets/<app>/<name>.sops.yaml`);
        }
      }
    }
    const name = scalarString(mapGet(n, "name"));
    const value = mapGet(n, "value");
    if (name && sensitiveKey(name) && isScalar(value) && typeof value.value === "string" && looksSecret(value.value)) {
      fs.add(lineOf(lc, value), "high-entropy-secret", `value of ${JSON.stringify(name)} looks like a secret: ${redact(value.value)}`);
    }
    for (const p of n.items) {
      if (!isPair(p) || !isScalar(p.key)) continue;
      const key = String(p.key.value);
      if (skipSops && key === "sops") continue;
      const v = p.value as YScalar | null;
      if (isScalar(v) && typeof v.value === "string" && sensitiveKey(key) && looksSecret(v.value)) {
        fs.add(lineOf(lc, v), "high-entropy-secret", `value of ${JSON.stringify(key)} looks like a secret: ${redact(v.value)}`);
      }
      if (isKustomization && key === "resources" && isSeq(p.value)) {
        for (const r of p.value.items) {
          const s = scalarString(r);
          if (s && /\.sops\.(ya?ml|json)$/.test(s)) {
            fs.add(lineOf(lc, r as YNode), "sops-file-as-resource", `${s} is listed as a resource and would be applied encrypted; list it in a ksops generator`);
          }
        }
      }
      visit(p.value, false);
    }
  };
  for (const d of docs) {
    if (d.errors.length) continue;
    visit(d.contents, true);
  }
}

function sopsChecks(fs: FileScan, format: ReturnType<typeof formatForPath>): void {
  const { problems } = inspectSopsText(fs.content, format, fs.path);
  const at = Math.max(1, fs.content.split(/\r?\n/).findIndex((l) => /^sops[:_]|^\s*"sops"\s*:/.test(l)) + 1);
  for (const p of problems) fs.add(at, "sops-block-invalid", p);
}

function globRe(glob: string): RegExp {
  const re = glob
    .split("**")
    .map((part) => part.replace(/[.+^${}()|[\]\\?]/g, "\\$&").replace(/\*/g, "[^/]*"))
    .join(".*");
  return new RegExp(`^${re}$`);
}

/** Rejects waivers that cannot be honoured; a waiver without a reason is an error, not a warning. */
export function checkWaivers(waivers: readonly Waiver[]): void {
  const known = new Set(SCAN_RULES.map((r) => r.rule));
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

function scanOne(path: string, content: string): RawFinding[] {
  if (content.includes("\u0000")) return [];
  const fs = new FileScan(path, content);
  fs.tokens();
  const format = formatForPath(path);
  const named = /\.sops\.(ya?ml|json|env)$/i.test(path);
  if (format === "yaml" || format === "json") {
    const encrypted = hasSopsBlock(content, format);
    if (named || encrypted) sopsChecks(fs, format);
    structural(fs, encrypted);
  } else if (format === "dotenv" && (named || hasSopsBlock(content, "dotenv"))) {
    sopsChecks(fs, "dotenv");
  } else {
    fs.assignments();
  }
  return fs.out;
}

/** Scans and sorts findings; waived ones are reported separately, with unused waivers. */
export function scanReport(files: readonly { path: string; content: string }[], waivers: readonly Waiver[] = []): ScanReport {
  checkWaivers(waivers);
  const compiled = waivers.map((w) => ({ w, re: globRe(w.path), used: false }));
  const findings: Finding[] = [];
  const waived: { finding: Finding; waiver: Waiver }[] = [];
  for (const f of files) {
    for (const raw of scanOne(f.path, f.content)) {
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
export function scanFiles(files: readonly { path: string; content: string }[], waivers?: readonly Waiver[]): Finding[] {
  return [...scanReport(files, waivers).findings];
}

export function formatFinding(f: Finding): string {
  return `${f.file}:${f.line}: ${f.message} [${f.rule}]`;
}
