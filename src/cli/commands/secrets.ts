/**
 * `homelab secrets <sub>`: the operator's side of the secrets pipeline, so nobody needs the sops
 * binary. Every file written here is a regular sops file.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { UserError } from "../../errors.ts";
import { newIdentity } from "../../secrets/age.ts";
import {
  EXAMPLE_RECIPIENT,
  SOPS_CONFIG_FILE,
  creationRuleFor,
  dropExampleNotice,
  findSopsConfig,
  loadSopsConfig,
  rewriteRecipients,
  sopsConfigTemplate,
  type SopsConfig,
} from "../../secrets/config.ts";
import { secretSourcePath } from "../../secrets/declared.ts";
import { envEntries, execWithFile, runForeground, withPath, type ExecCommand } from "../../secrets/exec.ts";
import { extractBytes, parseTreePath, truncate } from "../../secrets/extract.ts";
import { EXAMPLE_KEY_PATH, shippedExample } from "../../secrets/examples.ts";
import { PlaintextRefusedError, clearValueProblems, plaintextOnDiskMessage, refuseClearValues, type KeyPath } from "../../secrets/exposure.ts";
import { AlreadyEncryptedError, MacMismatchError, NoMatchingKeyError, SECRETS_EXIT, SopsFormatError } from "../../secrets/errors.ts";
import { PrivateScratch, ignoreInterrupts, removeStaleScratch, writeFileAtomic } from "../../secrets/files.ts";
import { withFileLock } from "../../secrets/lock.ts";
import { isBase64, isK8sSecret, secretKeyProblem, secretProblems } from "../../secrets/k8s-secret.ts";
import { loadKeyRing, type KeyRing } from "../../secrets/keys.ts";
import { promptHidden } from "../../secrets/prompt.ts";
import { DEFAULT_SCAN_PATHS, WAIVERS_FILE, loadWaivers, readScanTargets, repoRootOf } from "../../secrets/scan-inputs.ts";
import { SCAN_RULES, formatFinding, scanReport } from "../../secrets/scan.ts";
import {
  formatForPath,
  hasSopsBlock,
  inspectSopsText,
  loadSopsFile,
  newDataKey,
  openSopsFile,
  plaintextWhereRequired,
  reseal,
  rotate,
  seal,
  updateKeys,
  wrapForRecipients,
  type OpenedSopsFile,
  type SopsFormat,
} from "../../secrets/sops.ts";
import { emitPlain, emitPlainBytes, emitYaml, parseJsonValue, parsePlain, parsePlainBytes, type StoreOptions } from "../../secrets/stores.ts";
import { Branch, Comment, getPath, setPath, unsetPath, type Value } from "../../secrets/tree.ts";
import { formatHelp, UsageError, type CommandSpec, type OptionSpecs, type ParsedArgs } from "../args.ts";
import { defineCommand, EXIT, type Command } from "../command.ts";

const SUBCOMMANDS: Command[] = [];

/** `set <file> <key> [options]`: a subcommand as its parent's list shows it. */
const usageOf = (s: Command) => `${s.spec.name.replace(/^secrets /, "")} ${s.spec.synopsis}`;

const HELP_HEADER = `Usage: homelab secrets <subcommand> [options]

Encrypted files are sops files (age recipients). Keys are looked up like sops does: SOPS_AGE_KEY_FILE,
SOPS_AGE_KEY, SOPS_AGE_KEY_CMD, then $XDG_CONFIG_HOME/sops/age/keys.txt (~/.config/sops/age/keys.txt).
Recipients and encryption rules come from the nearest .sops.yaml (current directory or above); default
paths (secrets/, gitops/, the scan paths) are taken from the repository root: the directory of that
.sops.yaml, else the git top level.`;

function help(): string {
  const width = Math.max(...SUBCOMMANDS.map((s) => usageOf(s).length));
  return [
    HELP_HEADER,
    "",
    "Subcommands:",
    ...SUBCOMMANDS.map((s) => `  ${usageOf(s).padEnd(width)}  ${s.spec.summary}`),
    "",
    "Exit codes (sops' numbers): 0 ok, 1 error, 2 usage, 25 a value does not decrypt, 51 MAC mismatch",
    "(file changed after encryption), 91 bad --extract path, 128 no matching age key, 200 edit without",
    "a change, 203 file already encrypted; exec-env/exec-file exit with the command's status.",
    "Run `homelab secrets <subcommand> --help` (or `homelab help secrets <subcommand>`) for details.",
  ].join("\n");
}

const DETAILS: Record<string, string> = {
  init: `Generates an age identity and prints it once on stdout for your password manager; it is never
written into the repository. The .sops.yaml creation rules get its recipient: the example recipient
is replaced, or (with --add) the new recipient is added next to the existing ones.
The identity is saved and printed before .sops.yaml names its recipient, so a failure never leaves a
recipient whose private key nobody has.`,
  unset: "Removes one value (a map key or a list item) and re-encrypts, as sops unset does. Key syntax as for set.",
  set: `Sets one value, read from stdin (or a hidden prompt on a terminal), never from the command line.
One trailing newline of piped input is dropped. At the prompt Enter ends the value; a pasted value may
span several lines (a PEM key) and then ends with Ctrl-D. For Kubernetes Secrets a bare KEY means
stringData.KEY, data.KEY takes base64, and key names follow Kubernetes ([-._a-zA-Z0-9]+); otherwise KEY
is a dotted path (a.b.c) or sops syntax (["a"]["b"][0]). A missing file under
secrets/<app>/<name>.sops.yaml is created as Secret <name> in namespace <app>.
Typed values, as sops set: --value-stdin reads a JSON value from stdin, --value-file takes it from the
file named by a third argument; a third argument alone may be a number, true, false or null (5 stays an
integer). Text is never taken from the command line. The value must still be encrypted by the rules.`,
  edit: `Decrypts to a private temp file (RAM-backed where possible), opens $VISUAL/$EDITOR (default vi),
re-encrypts with the same data key so unchanged values keep their ciphertext, then shreds the temp
file. Ctrl-C goes to the editor, as with git; SIGTERM or SIGHUP stop the command and shred the temp
file. A missing file is created.`,
  decrypt: `Prints the decrypted file on stdout; nothing is written to disk. The MAC is verified first.
--extract prints one value: a string as its bare text (no newline), a map as a document of the
output type. A path sops cannot parse exits 91, as sops does.`,
  "exec-env": `Runs a command with the top-level values of the decrypted file as environment variables
(nested values are refused), as sops exec-env does. After -- the command runs directly; a single
quoted string instead runs with /bin/sh -c like sops. Signals (TERM, HUP, QUIT, USR1, USR2, and INT
when there is no terminal) are passed on; the exit status is the command's (128+N if signal N ended it).
Nothing is written to disk.`,
  "exec-file": `Runs a command with {} replaced by the path of the decrypted file, as sops exec-file does. By
default the path is a FIFO in a private directory (the plaintext only passes through a pipe and can
be read once); --no-fifo writes a 0600 file in a private RAM-backed directory (/dev/shm). Either is
removed when the command ends, whichever way it ends; signals and exit status as for exec-env.`,
  filestatus: `Prints {"encrypted":true} or {"encrypted":false} (sops' JSON shape), without any key: true when
the file has a sops block with a version and a MAC and every value that its own rules, or the
.sops.yaml rule for its path, require encrypted is encrypted (values found in the clear are listed
on stderr). For pre-commit hooks and CI. Exit 0 either way; 1 when the file cannot be read.`,
  encrypt: `Encrypts a plaintext file in place (or to --output PATH) with the rules and recipients of
.sops.yaml. Refuses a file that is already encrypted (exit 203).`,
  updatekeys: `Re-wraps each file's data key for the recipients the .sops.yaml rule now lists. Values and MAC do not
change. A folder means every *.sops.* file below it. Default: every *.sops.* file under secrets/. Follow with \`rotate\` after removing a recipient.`,
  rotate: `Generates a new data key per file, re-encrypts the values the current .sops.yaml rule selects
and wraps the key for its recipients. A folder means every *.sops.* file below it. Default: every
*.sops.* file under secrets/.`,
  verify: `Decrypts every file with the available key and checks its MAC, and that every value the
.sops.yaml rule for its path requires encrypted is encrypted (the MAC does not cover the file's own
rules). A folder means every *.sops.* file below it. Default: every *.sops.* file under secrets/ and
gitops/.`,
  scan: `Looks for plaintext secrets: unencrypted Secret objects, known token formats, private and age keys,
literal values under password/token/secret names and random-looking ones under other secret-like
names (also inside embedded config files, env lists and command lines), broken sops blocks, *.sops.yaml
listed as kustomize resources, files that do not parse or cannot be read. Default paths (from the
repository root): ${DEFAULT_SCAN_PATHS.join(", ")}. False positives are waived in ${WAIVERS_FILE}
(rule, path, optional match, and a reason).
Rules: ${SCAN_RULES.map((r) => r.rule).join(", ")}.`,
};

export const secrets: Command = {
  spec: { name: "secrets", summary: "Encrypt, edit, verify and scan secrets (sops + age, no sops binary needed)", synopsis: "<subcommand> [options]", options: {} },
  subcommands: SUBCOMMANDS,
  help(): string {
    return `${help()}\n\n${SUBCOMMANDS.map((s) => `${usageOf(s)}\n${formatHelp(s.spec).split("\n").slice(2).join("\n").replace(/^(?=.)/gm, "    ")}`).join("\n\n")}`;
  },
};

// ---------------------------------------------------------------- shared helpers

interface Workspace {
  /** Where paths given on the command line are relative to. */
  readonly cwd: string;
  /** The repository root: default paths and displayed names are relative to it. */
  readonly root: string;
  readonly config?: SopsConfig;
  readonly store: StoreOptions;
}

/** `--config PATH` or SOPS_CONFIG for the running subcommand (sops' --config flag and its EnvVar). */
let configOverride: { path: string; from: string } | undefined;

function workspace(): Workspace {
  const cwd = process.cwd();
  let path: string | undefined;
  if (configOverride) {
    // As sops: an explicit config file is used as it is, without searching upwards.
    path = resolve(cwd, configOverride.path);
    if (!existsSync(path)) throw new UserError(`${configOverride.from} ${configOverride.path}: no such file`);
  } else path = findSopsConfig(cwd);
  const config = path ? loadSopsConfig(path) : undefined;
  return { cwd, root: repoRootOf(cwd), ...(config ? { config } : {}), store: config?.stores ?? {} };
}

function requireConfig(ws: Workspace): SopsConfig {
  if (!ws.config) throw new UserError(`no ${SOPS_CONFIG_FILE} found in ${ws.cwd} or above; run \`homelab secrets init\` first`);
  return ws.config;
}

function display(ws: Workspace, abs: string): string {
  const r = relative(ws.root, abs);
  return r && !r.startsWith("..") && !isAbsolute(r) ? r.split(sep).join("/") : abs;
}

function readExisting(abs: string, shown: string): string {
  try {
    return readFileSync(abs, "utf8");
  } catch (e) {
    throw new UserError(`${shown}: cannot read (${(e as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

/** The file's bytes: the binary store keeps them exactly. */
function readExistingBytes(abs: string, shown: string): Buffer {
  try {
    return readFileSync(abs);
  } catch (e) {
    throw new UserError(`${shown}: cannot read (${(e as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

async function keys(): Promise<KeyRing> {
  return loadKeyRing(process.env);
}

async function openFile(ws: Workspace, abs: string, format: SopsFormat = formatForPath(abs), opts: { ignoreMac?: boolean } = {}): Promise<OpenedSopsFile> {
  const shown = display(ws, abs);
  const f = loadSopsFile(readExisting(abs, shown), format, shown);
  if (opts.ignoreMac) {
    console.error(
      `WARNING: --ignore-mac: the MAC of ${shown} is NOT checked. Values that were removed, reordered or ` +
        "left readable may have been tampered with; use this only to recover a file, and verify the result.",
    );
  }
  return openSopsFile(f, await keys(), opts);
}

const IGNORE_MAC = { type: "boolean", help: "do not check the MAC (recovery only; a loud warning is printed). Each value must still decrypt" } as const;

const STORE_HELP = "yaml, json, dotenv, ini or binary; default: from the file name, as sops does (case-sensitive .yaml/.yml, .json, .env, .ini; anything else is binary)";

/** A --input-type/--output-type value (sops' store names). */
function storeOption(v: string | undefined, flag: string): SopsFormat | undefined {
  if (v === undefined) return undefined;
  if (!["yaml", "json", "dotenv", "ini", "binary"].includes(v)) throw new UsageError(`${flag} ${v}: expected one of yaml, json, dotenv, ini, binary`);
  return v as SopsFormat;
}

/** The store for a file: --input-type, else sops' rule for the name (formats.go FormatForPath). */
function storeFor(abs: string, shown: string, given?: string, flag = "--input-type"): SopsFormat {
  const t = storeOption(given, flag);
  if (t) return t;
  return formatForPath(abs);
}

const SOPS_FILE_RE = /\.sops\.(ya?ml|json|env)$/i;

function sopsFilesUnder(ws: Workspace, dirs: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (abs: string) => {
    if (!existsSync(abs)) return;
    const st = statSync(abs);
    if (st.isDirectory()) {
      for (const n of readdirSync(abs).sort()) if (n !== "node_modules" && n !== ".git") walk(join(abs, n));
    } else if (SOPS_FILE_RE.test(abs)) out.push(abs);
  };
  for (const d of dirs) walk(resolve(ws.root, d));
  return out;
}

/**
 * Named files and folders (relative to the current directory; a folder means every sops file below it,
 * as with scan), else every sops file under the default folders of the repository.
 */
function targets(ws: Workspace, positionals: readonly string[], defaults: readonly string[]): string[] {
  if (positionals.length)
    return positionals.flatMap((p) => {
      const abs = resolve(ws.cwd, p);
      if (!existsSync(abs) || !statSync(abs).isDirectory()) return [abs];
      const found = sopsFilesUnder(ws, [abs]);
      if (found.length === 0) throw new UserError(`no *.sops.* files under ${p}`);
      return found;
    });
  const found = sopsFilesUnder(ws, defaults);
  if (found.length === 0) throw new UserError(`no *.sops.* files under ${defaults.map((d) => display(ws, resolve(ws.root, d))).join(", ")}`);
  return found;
}

/** `secrets/<app>/<name>.sops.yaml` relative to the config dir or the repository root. */
function secretLayout(ws: Workspace, abs: string): { app: string; name: string } | undefined {
  for (const base of [ws.config?.dir, ws.root]) {
    if (!base) continue;
    const rel = relative(base, abs).split(sep).join("/");
    const m = /^secrets\/([a-z0-9][-a-z0-9]*)\/([a-z0-9][-a-z0-9.]*)\.sops\.ya?ml$/.exec(rel);
    if (m) return { app: m[1]!, name: m[2]! };
  }
  return undefined;
}

/** Parses `a.b.0`, `["a"]["b"][0]`; a bare key of a Kubernetes Secret means stringData.<key>. */
export function parseKeyPath(key: string, secret: boolean): (string | number)[] {
  if (key.startsWith("[")) {
    const parts: (string | number)[] = [];
    const re = /\[(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|(\d+))\]/y;
    let i = 0;
    while (i < key.length) {
      re.lastIndex = i;
      const m = re.exec(key);
      if (!m) throw new UserError(`invalid key path ${JSON.stringify(key)}; use ["a"]["b"][0]`);
      parts.push(m[1] !== undefined ? JSON.parse(`"${m[1]}"`) : m[2] !== undefined ? m[2] : Number(m[3]));
      i = re.lastIndex;
    }
    return parts;
  }
  if (secret) {
    if (key.startsWith("stringData.") || key.startsWith("data.")) {
      const dot = key.indexOf(".");
      return [key.slice(0, dot), key.slice(dot + 1)];
    }
    return ["stringData", key];
  }
  return key.split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
  return Buffer.concat(chunks).toString("utf8");
}

async function readSecretValue(key: string): Promise<string> {
  let v: string;
  if (process.stdin.isTTY) v = await promptHidden(`Value for ${key} (input hidden; Enter ends it, a pasted multi-line value ends with Ctrl-D): `);
  else {
    v = await readStdin();
    if (v.endsWith("\r\n")) v = v.slice(0, -2);
    else if (v.endsWith("\n")) v = v.slice(0, -1);
  }
  if (v === "") throw new UserError(`no value given for ${key} (pipe it on stdin or type it at the prompt)`);
  return v;
}

/**
 * The path whose .sops.yaml rule applies: a build copy `gitops/<app>/<name>.sops.yaml` follows the
 * rule of its source `secrets/<app>/<name>.sops.yaml`, whose bytes it carries.
 */
function rulePath(ws: Workspace, abs: string): string {
  const copy = /^gitops\/([^/]+)\/([^/]+)\.sops\.ya?ml$/.exec(relative(ws.root, abs).split(sep).join("/"));
  return copy ? resolve(ws.root, secretSourcePath({ app: copy[1]!, name: copy[2]! })) : abs;
}

function recipientsFor(ws: Workspace, abs: string): { recipients: readonly string[]; rules: ReturnType<typeof creationRuleFor>["rules"] } {
  const rule = creationRuleFor(requireConfig(ws), rulePath(ws, abs));
  return { recipients: rule.age, rules: rule.rules };
}

/** Encrypts a new file under its .sops.yaml rule; refuses (before writing) when a value would stay in the clear. */
async function sealNew(ws: Workspace, abs: string, format: SopsFormat, plain: Branch[], given?: KeyPath): Promise<string> {
  const rule = creationRuleFor(requireConfig(ws), rulePath(ws, abs));
  const { age: recipients, rules } = rule;
  refuseClearValues(plain, rules, { file: display(ws, abs), creationRule: rule, given });
  const dataKey = newDataKey();
  return seal({ format, plain, dataKey, rules, age: await wrapForRecipients(dataKey, recipients), store: ws.store });
}

function writeOut(abs: string, text: string): void {
  mkdirSync(dirname(abs), { recursive: true });
  writeFileAtomic(abs, text);
}

function secretSkeleton(name: string, namespace: string): Branch {
  return new Branch([
    { key: "apiVersion", value: "v1" },
    { key: "kind", value: "Secret" },
    {
      key: "metadata",
      value: new Branch([
        { key: "name", value: name },
        { key: "namespace", value: namespace },
      ]),
    },
    { key: "type", value: "Opaque" },
    { key: "stringData", value: new Branch() },
  ]);
}

// ---------------------------------------------------------------- subcommands

/** Declares `homelab secrets <name>`; its description is DETAILS[name]. */
function define<const O extends OptionSpecs>(spec: Omit<CommandSpec<O>, "description">, run: (args: ParsedArgs<O>) => Promise<number>): void {
  const name = spec.name;
  const options = { ...spec.options, config: CONFIG_OPTION };
  const withConfig = (args: ParsedArgs<O>): Promise<number> => {
    const given = (args.values as Record<string, unknown>).config as string | undefined;
    const env = process.env.SOPS_CONFIG;
    configOverride = given ? { path: given, from: "--config" } : env ? { path: env, from: "SOPS_CONFIG" } : undefined;
    // Any secrets command clears the plaintext a killed `edit` or `exec-file --no-fifo` left behind.
    removeStaleScratch();
    return run(args);
  };
  SUBCOMMANDS.push(defineCommand({ spec: { ...spec, options, name: `secrets ${name}`, ...(DETAILS[name] !== undefined && { description: DETAILS[name] }) }, run: withConfig }));
}

const CONFIG_OPTION = { type: "string", value: "PATH", help: `the ${SOPS_CONFIG_FILE} to use instead of searching upwards (also SOPS_CONFIG), as sops --config` } as const;

/** `dir` and everything below it. */
function isInside(dir: string, p: string): boolean {
  const r = relative(dir, p);
  return r === "" || (!r.startsWith("..") && !isAbsolute(r));
}

/** The path with symlinks resolved as far as it exists (the key file itself usually does not yet). */
function realish(p: string): string {
  const rest: string[] = [];
  let cur = p;
  for (;;) {
    try {
      return join(realpathSync(cur), ...rest.reverse());
    } catch {
      const up = dirname(cur);
      if (up === cur) return p;
      rest.push(cur.slice(up.length).replace(/^[/\\]/, ""));
      cur = up;
    }
  }
}

/** A private key never goes into the repository: not below .sops.yaml, the git top level or the current directory. */
function refuseInsideRepo(ws: Workspace, saveKey: string): void {
  const target = realish(saveKey);
  const roots = [ws.config?.dir, ws.root, ws.cwd].filter((d): d is string => !!d).map(realish);
  const hit = roots.find((r) => isInside(r, target));
  if (hit) throw new UserError(`--save-key ${saveKey} is inside this repository; private keys never go into the repo (it is below ${hit})`);
}

/** Appends the identity block to the key file, creating it 0600 (its folder 0700). */
function saveIdentity(saveKey: string, block: string): void {
  try {
    mkdirSync(dirname(saveKey), { recursive: true, mode: 0o700 });
    const prev = existsSync(saveKey) ? readFileSync(saveKey, "utf8") : "";
    writeFileAtomic(saveKey, prev + (prev && !prev.endsWith("\n") ? "\n" : "") + block, { mode: 0o600 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new UserError(`--save-key ${saveKey}: cannot write the key file (${code}); nothing was changed, .sops.yaml included`);
  }
}

define(
  {
    name: "init",
    synopsis: "[--add] [--save-key PATH]",
    summary: "new age identity (printed once) and .sops.yaml recipients",
    options: {
      add: { type: "boolean", help: "add another recipient instead of replacing the example one" },
      "save-key": { type: "string", value: "PATH", help: "also append the identity to PATH (e.g. ~/.config/sops/age/keys.txt); refused inside the repo" },
    },
  },
  async ({ values }) => {
  const ws = workspace();
  const saveKey = values["save-key"] ? resolve(ws.cwd, values["save-key"]) : undefined;
  if (saveKey) refuseInsideRepo(ws, saveKey);
  const { identity, recipient } = await newIdentity();
  const cfgPath = ws.config?.path ?? join(ws.cwd, SOPS_CONFIG_FILE);
  // Work out the new .sops.yaml first (it may refuse), but write it last: a recipient must never be
  // listed before its private key has been saved and shown.
  let cfgText: string;
  if (ws.config) {
    const current = ws.config.creationRules.flatMap((r) => r.age);
    const hasExample = current.includes(EXAMPLE_RECIPIENT);
    if (!hasExample && !values.add) {
      throw new UserError(
        `${display(ws, cfgPath)} already lists its own recipients (${[...new Set(current)].join(", ")}); pass --add to add another key`,
      );
    }
    const { text } = rewriteRecipients(readFileSync(cfgPath, "utf8"), cfgPath, { replace: hasExample ? [EXAMPLE_RECIPIENT] : [], add: recipient });
    cfgText = hasExample ? dropExampleNotice(text) : text;
  } else {
    cfgText = sopsConfigTemplate(recipient);
  }
  const block = `# created: ${new Date().toISOString()}\n# public key: ${recipient}\n${identity}\n`;
  if (saveKey) saveIdentity(saveKey, block);
  process.stdout.write(block);
  try {
    writeFileAtomic(cfgPath, cfgText);
  } catch (e) {
    throw new UserError(
      `cannot write ${display(ws, cfgPath)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); it still lists its old recipients. ` +
        "The identity above is not in use yet: fix the problem and run init again.",
    );
  }
  // Only now that .sops.yaml names the new recipient: the example files follow it.
  const examples = await recreateExamples();
  const lines = [
    "",
    `Recipient ${recipient} written to ${display(ws, cfgPath)}.`,
    "Store the three lines above in your password manager now: this is the only time they are shown" +
      (saveKey ? ` (a copy was appended to ${saveKey}).` : "."),
  ];
  for (const f of examples.recreated) lines.push(`${f}: the example (FAKE values) re-created, encrypted to the new recipient; set its real values with \`homelab secrets set\`.`);
  for (const f of examples.left)
    lines.push(
      `${f}: encrypted to the example key only and changed since it was shipped, so left as it is: open it with the example key ` +
        `(SOPS_AGE_KEY_FILE=${EXAMPLE_KEY_PATH} homelab secrets updatekeys ${f}), or set its values again with \`homelab secrets set\`.`,
    );
  if (examples.recreated.length) lines.push("Then `homelab build` copies them into gitops/.");
  if (examples.others)
    lines.push("Files encrypted to other recipients keep them: `homelab secrets updatekeys` (with a key that opens them), then `homelab secrets rotate`.");
  lines.push("Create the cluster Secret sops-age from the password manager (docs/secrets.md).");
  console.error(lines.join("\n"));
  return EXIT.ok;
});

/**
 * After init: files under secrets/ that only the example recipient can open. A shipped example (FAKE
 * values, still the bytes the repository shipped) is re-created for the new .sops.yaml rules from its
 * known plaintext, so no outside key is needed; any other is named, since its values cannot be carried
 * over without the example key.
 */
async function recreateExamples(): Promise<{ recreated: string[]; left: string[]; others: number }> {
  const ws = workspace(); // read again: .sops.yaml now names the new recipient
  const recreated: string[] = [];
  const left: string[] = [];
  let others = 0;
  for (const abs of sopsFilesUnder(ws, ["secrets"])) {
    const shown = display(ws, abs);
    const text = readFileSync(abs, "utf8");
    let recipients: string[];
    try {
      recipients = loadSopsFile(text, formatForPath(abs), shown).metadata.age.map((a) => a.recipient);
    } catch {
      continue; // not a readable sops file: verify and scan report it
    }
    if (recipients.length === 0 || recipients.some((r) => r !== EXAMPLE_RECIPIENT)) {
      others++;
      continue;
    }
    const example = shippedExample(shown, text);
    if (!example) {
      left.push(shown);
      continue;
    }
    const format = formatForPath(abs);
    await withFileLock(abs, shown, async () => writeOut(abs, await sealNew(ws, abs, format, parsePlain(example.plaintext, format, shown))));
    recreated.push(shown);
  }
  return { recreated, left, others };
}

/** Refuses what the API server would refuse, before anything is encrypted. */
function checkSecretDoc(doc: Branch | undefined, shown: string): void {
  if (!doc) return;
  const problems = secretProblems(doc);
  if (problems.length) throw new UserError(`${shown}: not a valid Kubernetes Secret, nothing was written:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
}

/** Removes a key from data or stringData, and the field itself once it is empty. */
function dropSecretKey(doc: Branch, field: "data" | "stringData", key: string): void {
  unsetPath(doc, [field, key]);
  const rest = getPath(doc, [field]);
  if (rest instanceof Branch && rest.items.every((i) => typeof i.key !== "string")) unsetPath(doc, [field]);
}

/** Checks the key of `set` on a Secret before asking for the value. */
function checkSecretKey(path: readonly (string | number)[], secret: boolean): void {
  if (!secret || (path[0] !== "data" && path[0] !== "stringData")) return;
  if (path.length !== 2) throw new UserError(`${path.join(".")}: values of a Secret sit directly under ${String(path[0])}`);
  const bad = secretKeyProblem(String(path[1]));
  if (bad) throw new UserError(`${JSON.stringify(String(path[1]))} is not a valid Secret key: it ${bad}`);
}

define(
  {
    name: "set",
    synopsis: "<file> <key> [JSON-VALUE | --value-stdin | --value-file PATH] [--namespace NS] [--name NAME]",
    summary: "set one value: text from stdin or a hidden prompt, or a typed JSON value",
    options: {
      namespace: { type: "string", value: "NS", help: "namespace when creating a Secret (default: <app> of secrets/<app>/)" },
      name: { type: "string", value: "NAME", help: "name when creating a Secret (default: <name> of <name>.sops.yaml)" },
      "value-stdin": { type: "boolean", help: "read a JSON value from stdin, as sops set --value-stdin (5 stays an integer, true a boolean)" },
      "value-file": { type: "boolean", help: "the third argument is a file holding a JSON value, as sops set --value-file" },
      idempotent: { type: "boolean", help: "do not rewrite the file when the key already has this value, as sops set --idempotent" },
      "ignore-mac": IGNORE_MAC,
      "input-type": { type: "string", value: "TYPE", help: `how to read the file: ${STORE_HELP}` },
    },
    positionals: { max: Infinity },
  },
  async ({ values, positionals }) => {
  if (values["value-stdin"] && values["value-file"]) throw new UsageError("--value-stdin and --value-file exclude each other");
  const typedFrom = values["value-stdin"] ? "stdin" : values["value-file"] ? "file" : positionals.length > 2 ? "argument" : undefined;
  if (positionals.length > (values["value-file"] ? 3 : values["value-stdin"] ? 2 : 3)) throw new UsageError("set takes a file, a key and at most one value");
  if (values["value-file"] && positionals.length < 3) throw new UsageError("--value-file needs the path of the value file as the third argument");
  if (typedFrom === "argument") argumentValue(positionals[2]!); // refused before anything is opened
  const [file, key] = positionals;
  if (!file || !key) throw new UsageError("set needs a file and a key (the value comes on stdin)");
  const ws = workspace();
  const abs = resolve(ws.cwd, file);
  const shown = display(ws, abs);
  const format = storeFor(abs, shown, values["input-type"]);
  if (format === "binary") throw new UserError(`${shown}: set works on YAML, JSON and dotenv files`);
  const readValue = async (path: readonly (string | number)[], secret: boolean): Promise<Value> => {
    checkSecretKey(path, secret);
    if (typedFrom) {
      const v = await readTypedValue(typedFrom, positionals[2]);
      if (secret && (path[0] === "data" || path[0] === "stringData") && typeof v !== "string") {
        throw new UserError(`${path.join(".")}: values of a Kubernetes Secret are strings, got ${describeValue(v)}`);
      }
      if (secret && path[0] === "data" && typeof v === "string" && !isBase64(v)) {
        throw new UserError(`${path.join(".")}: data values must be base64 (Kubernetes decodes them); to store the text as it is, set stringData.${String(path[1])}`);
      }
      return v;
    }
    const value = await readSecretValue(key);
    if (secret && path[0] === "data" && !isBase64(value)) {
      throw new UserError(`${path.join(".")}: data values must be base64 (Kubernetes decodes them); to store the text as it is, set stringData.${String(path[1])}`);
    }
    return value;
  };
  return withFileLock(abs, shown, async () => {
  if (existsSync(abs)) {
    const opened = await openFile(ws, abs, formatForPath(abs), { ignoreMac: values["ignore-mac"] });
    const plain = opened.plain.map((b) => b);
    const doc = plain[0] ?? new Branch();
    const secret = isK8sSecret(doc);
    const path = parseKeyPath(key, secret);
    const value = await readValue(path, secret);
    const before = emitYaml(plain);
    setPath(doc, path, value);
    // One value per key: setting it as text replaces a base64 one and the other way round.
    if (secret && path.length === 2) dropSecretKey(doc, path[0] === "data" ? "stringData" : "data", String(path[1]));
    if (values.idempotent && emitYaml(plain) === before) {
      console.error(`${shown}: ${path.join(".")} already has this value; not written (--idempotent)`);
      return EXIT.ok;
    }
    if (secret) checkSecretDoc(doc, shown);
    refuseClearValues(plain, opened.metadata.rules, { file: shown, given: path });
    writeOut(abs, reseal(opened, plain, { store: ws.store }));
    console.error(`set ${path.join(".")} in ${shown}`);
    return EXIT.ok;
  }
  const layout = secretLayout(ws, abs);
  let doc: Branch;
  if (layout || values.name || values.namespace) {
    const name = values.name ?? layout?.name;
    const namespace = values.namespace ?? layout?.app;
    if (!name || !namespace) throw new UserError(`${shown}: pass --name and --namespace to create a Secret outside secrets/<app>/`);
    doc = secretSkeleton(name, namespace);
  } else doc = new Branch();
  const secret = isK8sSecret(doc);
  const path = parseKeyPath(key, secret);
  const value = await readValue(path, secret);
  setPath(doc, path, value);
  if (secret && path.length === 2) dropSecretKey(doc, path[0] === "data" ? "stringData" : "data", String(path[1]));
  if (secret) checkSecretDoc(doc, shown);
  writeOut(abs, await sealNew(ws, abs, format, [doc], path));
  console.error(`created ${shown} with ${path.join(".")}`);
  return EXIT.ok;
  });
});

define(
  {
    name: "unset",
    synopsis: "<file> <key>",
    summary: "remove one value (map key or list item)",
    options: { idempotent: { type: "boolean", help: "do nothing (exit 0) when the key is not there, as sops unset --idempotent" }, "ignore-mac": IGNORE_MAC, "input-type": { type: "string", value: "TYPE", help: `how to read the file: ${STORE_HELP}` }, },
    positionals: { min: 2, max: 2, name: "a file and a key" },
  },
  async ({ values, positionals }) => {
  const [file, key] = positionals as [string, string];
  const ws = workspace();
  const abs = resolve(ws.cwd, file);
  const shown = display(ws, abs);
  const format = storeFor(abs, shown, values["input-type"]);
  if (format === "binary") throw new UserError(`${shown}: unset works on YAML, JSON and dotenv files`);
  return withFileLock(abs, shown, async () => {
  const opened = await openFile(ws, abs, format, { ignoreMac: values["ignore-mac"] });
  const plain = opened.plain.map((b) => b);
  const doc = plain[0] ?? new Branch();
  const secret = isK8sSecret(doc);
  const path = parseKeyPath(key, secret);
  if (values.idempotent) {
    try {
      truncate(doc, path);
    } catch {
      console.error(`${shown}: ${path.join(".")} is not there; not written (--idempotent)`);
      return EXIT.ok;
    }
  }
  removeAt(doc, path);
  if (secret) checkSecretDoc(doc, shown);
  writeOut(abs, reseal(opened, plain, { store: ws.store }));
  console.error(`unset ${path.join(".")} in ${shown}`);
  return EXIT.ok;
  });
});

/** Removes the map key or list item at `path` (sops' TreeBranch.Unset); names the first missing component. */
function removeAt(doc: Branch, path: readonly (string | number)[]): void {
  if (path.length === 0) throw new UserError("unset needs a key");
  const parent = truncate(doc, path.slice(0, -1));
  const last = path[path.length - 1]!;
  if (typeof last === "string") {
    if (!(parent instanceof Branch) || !parent.items.some((i) => i.key === last)) throw new UserError(`component ['${last}'] not found`);
    parent.items = parent.items.filter((i) => i.key !== last);
    return;
  }
  if (!Array.isArray(parent)) throw new UserError(`component [${last}] is integer, but tree part is not a slice`);
  let seen = -1;
  const at = parent.findIndex((x) => !(x instanceof Comment) && ++seen === last);
  if (at === -1) throw new UserError(`component [${last}] accesses out of bounds`);
  parent.splice(at, 1);
}

/**
 * A typed value for `set`, as sops reads it: JSON (cmd/sops/main.go jsonValueToTreeInsertableValue),
 * with integers kept integers. On the command line only numbers, booleans and null are taken: text
 * there ends up in shell history and process listings, so strings, maps and lists come on stdin or
 * from a file.
 */
async function readTypedValue(from: "stdin" | "file" | "argument", arg: string | undefined): Promise<Value> {
  let text: string;
  if (from === "stdin") text = await readStdin();
  else if (from === "file") {
    try {
      text = readFileSync(resolve(process.cwd(), arg!), "utf8");
    } catch (e) {
      throw new UserError(`--value-file ${arg}: cannot read (${(e as NodeJS.ErrnoException).code ?? "error"})`);
    }
  } else return argumentValue(arg!);
  try {
    return parseJsonValue(text);
  } catch {
    // sops: "Value for --set is not valid JSON", codes.ErrorInvalidSetFormat.
    throw new UserError(`the value from ${from === "stdin" ? "stdin" : arg} is not valid JSON (strings are quoted: "text")`, SECRETS_EXIT.invalidSetFormat);
  }
}

/** A value given on the command line: numbers, booleans and null only. */
function argumentValue(text: string): Value {
  let v: Value | undefined;
  try {
    v = parseJsonValue(text);
  } catch {
    v = undefined;
  }
  if (v === undefined || typeof v === "string" || v instanceof Branch || Array.isArray(v)) {
    throw new UsageError(
      "values are never taken from the command line unless they are a number, true, false or null (text would end up in " +
        "shell history and process listings): pipe text on stdin, or give JSON with --value-stdin or --value-file",
    );
  }
  return v;
}

function describeValue(v: Value): string {
  if (v === null) return "null";
  if (v instanceof Branch) return "a map";
  if (Array.isArray(v)) return "a list";
  return `a ${typeof v === "object" ? v.constructor.name.replace(/Value$/, "").toLowerCase() : typeof v}`;
}

function editorCommand(): string {
  return process.env.VISUAL || process.env.EDITOR || "vi";
}

/** Runs the editor in the foreground; Ctrl-C belongs to it meanwhile (see ignoreInterrupts). */
async function runEditor(file: string): Promise<number> {
  const release = ignoreInterrupts();
  try {
    return await new Promise((resolveExit, reject) => {
      // Through sh so EDITOR may carry arguments, e.g. "code --wait"; exec so no shell sits in between
      // to die of the terminal's Ctrl-C (not possible when EDITOR starts with VAR=value).
      const editor = editorCommand();
      const exec = /^\s*[A-Za-z_][A-Za-z0-9_]*=/.test(editor) ? "" : "exec ";
      const child = spawn("sh", ["-c", `${exec}${editor} "$1"`, "homelab-editor", file], { stdio: "inherit" });
      child.on("error", reject);
      child.on("exit", (code, signal) => resolveExit(code ?? (signal ? 128 : 1)));
    });
  } finally {
    release();
  }
}

async function askRetry(message: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  console.error(`${message}\nPress Enter to edit again, Ctrl-C to abandon the changes.`);
  try {
    await promptHidden("");
    return true;
  } catch {
    return false;
  }
}

define(
  {
    name: "edit",
    synopsis: "<file>",
    summary: "decrypt to a private temp file, run $EDITOR, re-encrypt, shred",
    options: { "ignore-mac": IGNORE_MAC, "input-type": { type: "string", value: "TYPE", help: `how to read the file: ${STORE_HELP}` } },
    positionals: { min: 1, max: 1, name: "the file to edit" },
  },
  async ({ values, positionals }) => {
  const ws = workspace();
  const abs = resolve(ws.cwd, positionals[0]!);
  const shown = display(ws, abs);
  const format = storeFor(abs, shown, values["input-type"]);
  // Held while the editor runs: the edit is a read-modify-write too, and a `set` meanwhile would be lost.
  return withFileLock(abs, shown, async () => {
  let opened: OpenedSopsFile | undefined;
  let original: Buffer;
  if (existsSync(abs)) {
    opened = await openFile(ws, abs, format, { ignoreMac: values["ignore-mac"] });
    original = emitPlainBytes(opened.plain, format, ws.store);
  } else {
    recipientsFor(ws, abs);
    const layout = secretLayout(ws, abs);
    original = Buffer.from(layout ? emitPlain([secretSkeleton(layout.name, layout.app)], format, ws.store) : "");
  }
  const scratch = new PrivateScratch();
  try {
    const base = shown.split("/").pop()!.replace(/\.sops(\.[^.]+)$/, "$1");
    const tmp = scratch.write(base, original);
    for (;;) {
      const code = await runEditor(tmp);
      if (code !== 0) throw new UserError(`editor exited with status ${code}; ${shown} is unchanged`);
      const edited = readFileSync(tmp);
      if (edited.equals(original)) {
        // sops: "File has not changed, exiting." with exit 200 (edit.go), so scripts can tell.
        console.error(`${shown}: no changes (exit 200, as sops)`);
        return SECRETS_EXIT.notModified;
      }
      let plain: Branch[];
      try {
        plain = parsePlainBytes(edited, format, base);
        for (const d of plain) checkSecretDoc(d, base);
        if (opened) refuseClearValues(plain, opened.metadata.rules, { file: shown });
        else {
          const rule = creationRuleFor(requireConfig(ws), rulePath(ws, abs));
          refuseClearValues(plain, rule.rules, { file: shown, creationRule: rule });
        }
      } catch (e) {
        if (await askRetry((e as Error).message)) continue;
        throw new UserError(`${(e as Error).message}\n${shown} is unchanged`);
      }
      // The plaintext is parsed: shred it now, not after the (slow) encryption and write.
      scratch.dispose();
      const text = opened ? reseal(opened, plain, { store: ws.store }) : await sealNew(ws, abs, format, plain);
      writeOut(abs, text);
      console.error(`${shown}: saved`);
      return EXIT.ok;
    }
  } finally {
    scratch.dispose();
  }
  });
});

define(
  {
    name: "decrypt",
    synopsis: "<file> [--extract PATH] [--input-type T] [--output-type T]",
    summary: "print the decrypted file (or one value) on stdout (MAC checked)",
    options: {
      extract: { type: "string", value: "PATH", help: `print only this value, in sops' path syntax: '["data"]["token"]', '["list"][0]'` },
      "input-type": { type: "string", value: "TYPE", help: `how to read the file: ${STORE_HELP}` },
      "output-type": { type: "string", value: "TYPE", help: "how to print it: yaml, json, dotenv, ini or binary; default: from the file name" },
      "ignore-mac": IGNORE_MAC,
    },
    positionals: { min: 1, max: 1, name: "the file to decrypt" },
  },
  async ({ values, positionals }) => {
  const ws = workspace();
  const abs = resolve(ws.cwd, positionals[0]!);
  const shown = display(ws, abs);
  // Parsed before any key is used: a bad path is a usage mistake (sops: exit 91).
  const path = values.extract !== undefined ? parseTreePath(values.extract) : [];
  const input = storeFor(abs, shown, values["input-type"]);
  // As sops: the output store follows --output-type, else the file name (not --input-type).
  const output = storeFor(abs, shown, values["output-type"], "--output-type");
  const opened = await openFile(ws, abs, input, { ignoreMac: values["ignore-mac"] });
  const out = path.length ? extractBytes(opened.plain[0] ?? new Branch(), path, output, ws.store) : emitPlainBytes(opened.plain, output, ws.store);
  process.stdout.write(out);
  return EXIT.ok;
});

/** `FILE -- CMD ARGS…` runs CMD directly; `FILE 'CMD STRING'` runs it with /bin/sh -c, as sops does. */
function commandOf(positionals: readonly string[], rest: readonly string[] | undefined): ExecCommand {
  if (rest && rest.length) {
    if (positionals.length > 1) throw new UsageError("give the command either after -- or as one quoted string, not both");
    return { argv: rest };
  }
  if (positionals[1] === undefined) throw new UsageError("missing command: <file> -- <command> [args...], or <file> '<shell command>'");
  return { shell: positionals[1] };
}

define(
  {
    name: "exec-env",
    synopsis: "<file> [--pristine] -- <command> [args...]",
    summary: "run a command with the decrypted values as environment variables",
    options: {
      pristine: { type: "boolean", help: "pass only the decrypted values, not this environment" },
      "input-type": { type: "string", value: "TYPE", help: `how to read the file: ${STORE_HELP}` },
      "ignore-mac": IGNORE_MAC,
    },
    positionals: { min: 1, max: 2, name: "the file to decrypt" },
    rest: { name: "command" },
  },
  async ({ values, positionals, rest }) => {
  const cmd = commandOf(positionals, rest);
  const ws = workspace();
  const abs = resolve(ws.cwd, positionals[0]!);
  const shown = display(ws, abs);
  const opened = await openFile(ws, abs, storeFor(abs, shown, values["input-type"]), { ignoreMac: values["ignore-mac"] });
  const env: NodeJS.ProcessEnv = values.pristine ? {} : { ...process.env };
  for (const [k, v] of envEntries(opened.plain[0] ?? new Branch(), shown)) env[k] = v;
  return runForeground(cmd, env);
});

define(
  {
    name: "exec-file",
    synopsis: "<file> [--no-fifo] [--filename NAME] -- <command> [args...] (with {} for the path)",
    summary: "run a command with {} replaced by the path of a short-lived decrypted file",
    options: {
      "no-fifo": { type: "boolean", help: "a 0600 file in a private RAM-backed directory instead of a FIFO (for commands that read it twice)" },
      filename: { type: "string", value: "NAME", help: "name of the FIFO or file (default tmp-file, as sops)" },
      "input-type": { type: "string", value: "TYPE", help: `how to read the file: ${STORE_HELP}` },
      "output-type": { type: "string", value: "TYPE", help: "how to write the decrypted file: yaml, json, dotenv, ini or binary; default: from the file name" },
      "ignore-mac": IGNORE_MAC,
    },
    positionals: { min: 1, max: 2, name: "the file to decrypt" },
    rest: { name: "command" },
  },
  async ({ values, positionals, rest }) => {
  const cmd = commandOf(positionals, rest);
  withPath(cmd, "{}"); // refuses a command without {} before anything is decrypted
  const ws = workspace();
  const abs = resolve(ws.cwd, positionals[0]!);
  const shown = display(ws, abs);
  const input = storeFor(abs, shown, values["input-type"]);
  const output = storeFor(abs, shown, values["output-type"], "--output-type");
  const opened = await openFile(ws, abs, input, { ignoreMac: values["ignore-mac"] });
  const content = emitPlainBytes(opened.plain, output, ws.store);
  return execWithFile(cmd, content, { fifo: !values["no-fifo"], ...(values.filename !== undefined ? { filename: values.filename } : {}), env: process.env });
});

define(
  {
    name: "filestatus",
    synopsis: "<file> [--input-type T]",
    summary: `print {"encrypted": true|false} as sops does; no key needed`,
    options: { "input-type": { type: "string", value: "TYPE", help: `how to read the file: ${STORE_HELP}` } },
    positionals: { min: 1, max: 1, name: "the file to check" },
  },
  async ({ values, positionals }) => {
  const ws = workspace();
  const abs = resolve(ws.cwd, positionals[0]!);
  const shown = display(ws, abs);
  const format = storeFor(abs, shown, values["input-type"]);
  const text = readExisting(abs, shown);
  let encrypted = false;
  if (hasSopsBlock(text, format)) {
    const { problems, file } = inspectSopsText(text, format, shown);
    // sops: metadata without version or MAC is "not encrypted" (filestatus.go cfs). Stricter here:
    // a value that the file's own rules, or the .sops.yaml rule for its path, require encrypted but is
    // plain also makes it "not encrypted".
    const rule = file ? ruleIfAny(ws, abs) : undefined;
    const all = [...problems, ...(file && rule ? plaintextWhereRequired(file.branches, rule.rules) : [])];
    for (const p of [...new Set(all)]) console.error(`${shown}: ${p}`);
    encrypted = !!file && all.length === 0;
  }
  console.log(JSON.stringify({ encrypted }));
  return EXIT.ok;
});

define(
  {
    name: "encrypt",
    synopsis: "<file> [--output PATH]",
    summary: "encrypt a plaintext file in place with the .sops.yaml rules",
    options: {
      output: { type: "string", short: "o", value: "PATH", help: "write the encrypted file to PATH instead of in place" },
      "input-type": { type: "string", value: "TYPE", help: `how to read the file: ${STORE_HELP}` },
    },
    positionals: { min: 1, max: 1, name: "the file to encrypt" },
  },
  async ({ values, positionals }) => {
  const ws = workspace();
  const abs = resolve(ws.cwd, positionals[0]!);
  const out = values.output ? resolve(ws.cwd, values.output) : abs;
  const shown = display(ws, abs);
  const format = storeFor(abs, shown, values["input-type"]);
  return withFileLock(out, display(ws, out), async () => {
  const bytes = readExistingBytes(abs, shown);
  if (hasSopsBlock(bytes.toString("utf8"), format)) throw new AlreadyEncryptedError(shown);
  const plain = parsePlainBytes(bytes, format, shown);
  for (const d of plain) checkSecretDoc(d, shown);
  const sealed = await sealNew(ws, out, format, plain);
  writeOut(out, sealed);
  console.error(`encrypted ${shown}${out === abs ? "" : ` to ${display(ws, out)}`}`);
  return EXIT.ok;
  });
});

define(
  { name: "updatekeys", synopsis: "[files or folders...]", summary: "re-wrap data keys for the recipients .sops.yaml lists now", options: {}, positionals: { max: Infinity } },
  async ({ positionals }) => {
  const ws = workspace();
  requireConfig(ws);
  const ring = await keys();
  for (const abs of targets(ws, positionals, ["secrets"])) {
    const shown = display(ws, abs);
    const { recipients } = recipientsFor(ws, abs);
    const r = await withFileLock(abs, shown, async () => {
      const r = await updateKeys(readExisting(abs, shown), formatForPath(abs), ring, recipients, { file: shown, store: ws.store });
      if (r.changed) writeOut(abs, r.text);
      return r;
    });
    if (!r.changed) {
      console.error(`${shown}: recipients already up to date`);
      continue;
    }
    const parts = [...r.added.map((a) => `+${a}`), ...r.removed.map((a) => `-${a}`), ...r.dropped.map((d) => `dropped ${d} keys`)];
    console.error(`${shown}: ${parts.join(" ")}`);
    if (r.removed.length) console.error(`  removed recipients may still hold this data key: run \`homelab secrets rotate ${shown}\``);
  }
  return EXIT.ok;
});

define(
  { name: "rotate", synopsis: "[files or folders...]", summary: "new data key per file, values re-encrypted", options: {}, positionals: { max: Infinity } },
  async ({ positionals }) => {
  const ws = workspace();
  requireConfig(ws);
  const ring = await keys();
  for (const abs of targets(ws, positionals, ["secrets"])) {
    const shown = display(ws, abs);
    const { recipients, rules } = recipientsFor(ws, abs);
    await withFileLock(abs, shown, async () => {
      const r = await rotate(readExisting(abs, shown), formatForPath(abs), ring, { recipients, rules, file: shown, store: ws.store });
      writeOut(abs, r.text);
    });
    console.error(`${shown}: new data key for ${recipients.join(", ")}`);
  }
  return EXIT.ok;
});

/** The .sops.yaml rule for a file (see rulePath), when there is one that homelab can use; verify checks against it. */
function ruleIfAny(ws: Workspace, abs: string): ReturnType<typeof creationRuleFor> | undefined {
  if (!ws.config) return undefined;
  try {
    return creationRuleFor(ws.config, rulePath(ws, abs));
  } catch {
    return undefined;
  }
}

define(
  { name: "verify", synopsis: "[files or folders...]", summary: "every file opens with the available key; MAC and .sops.yaml rules hold", options: {}, positionals: { max: Infinity } },
  async ({ positionals }) => {
  const ws = workspace();
  const ring = await keys();
  let worst: number = EXIT.ok;
  const rank = (c: number) => (c === SECRETS_EXIT.macMismatch || c === SECRETS_EXIT.decryptValue ? 3 : c === SECRETS_EXIT.noMatchingKey ? 2 : c === EXIT.ok ? 0 : 1);
  for (const abs of targets(ws, positionals, ["secrets", "gitops"])) {
    const shown = display(ws, abs);
    try {
      const f = await openSopsFile(loadSopsFile(readExisting(abs, shown), formatForPath(abs), shown), ring);
      // The MAC does not cover the file's own encryption rules: a file whose rules were loosened
      // (encrypted_regex ^(nothing)$) carries plaintext with a valid MAC.
      const rule = ruleIfAny(ws, abs);
      const plain = rule ? plaintextWhereRequired(f.branches, rule.rules) : [];
      if (plain.length) {
        throw new SopsFormatError(
          `${shown}: the ${SOPS_CONFIG_FILE} rule for this path requires encrypted values, but the file has plaintext:\n` +
            plain.map((p) => `  - ${p}`).join("\n") +
            `\nRe-encrypt it under the current rules: homelab secrets rotate ${shown}`,
        );
      }
      // A rule that selects nothing in this file (encrypted_regex on a file that is not a Secret) leaves
      // it entirely clear with a valid MAC; so does a sensitive key outside what the rule selects.
      const clear = rule ? clearValueProblems(f.branches) : [];
      if (clear.length) throw new PlaintextRefusedError(plaintextOnDiskMessage(shown, clear, f.metadata.rules, rule));
      console.log(`ok      ${shown} (opened with ${f.openedBy})`);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      const code = e.exitCode;
      const tag = e instanceof MacMismatchError ? "TAMPERED" : e instanceof NoMatchingKeyError ? "NO KEY " : "INVALID";
      console.log(`${tag} ${shown}`);
      console.error(e.message.replace(/^/gm, "    "));
      if (rank(code) > rank(worst)) worst = code;
    }
  }
  return worst;
});

define(
  {
    name: "scan",
    synopsis: "[paths...] [--no-waivers]",
    summary: "find plaintext secrets (also run by homelab build)",
    options: { "no-waivers": { type: "boolean", help: `ignore ${WAIVERS_FILE}` } },
    positionals: { max: Infinity },
  },
  async ({ values, positionals }) => {
  const cwd = process.cwd();
  const root = repoRootOf(cwd);
  // Named paths are relative to where the operator stands; defaults and waivers to the repository root.
  const files = positionals.length ? readScanTargets(root, positionals.map((p) => resolve(cwd, p)), { mustExist: true }) : readScanTargets(root);
  const waivers = values["no-waivers"] ? [] : loadWaivers(root);
  const report = scanReport(files, waivers);
  for (const w of report.waived) console.error(`waived  ${formatFinding(w.finding)} — ${w.waiver.reason}`);
  for (const w of report.unusedWaivers) console.error(`warning: unused waiver in ${WAIVERS_FILE}: ${w.rule} ${w.path}`);
  for (const f of report.findings) console.log(formatFinding(f));
  const where = root === cwd ? "" : ` under ${root}`;
  console.error(`scanned ${files.length} file(s)${where}: ${report.findings.length} finding(s), ${report.waived.length} waived`);
  return report.findings.length ? EXIT.failed : EXIT.ok;
});
