import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { loadSchemas } from "../../validate/kube-schema.ts";
import { UserError } from "../../errors.ts";
import { loadWaivers, WAIVERS_FILE } from "../../secrets/scan-inputs.ts";
import type { Waiver as ScanWaiver } from "../../secrets/scan.ts";
import {
  ALL_RULES,
  DEFAULT_API_CLIENT_ALLOWLIST,
  DEFAULT_HOST_PATH_ALLOWLIST,
  DEFAULT_KUBERNETES_VERSION,
  DEFAULT_RBAC_ALLOWLIST,
  exitCodeFor,
  formatJson,
  formatJsonFailure,
  formatTable,
  loadFiles,
  loadManifests,
  ManifestLoadError,
  modelFromPlatform,
  POLICY_EXIT,
  policyContext,
  runPolicies,
  WAIVER_RULES,
  type LoadedManifests,
  type PolicyReport,
  type ReportFailure,
} from "../../policy/index.ts";
import { defineSpec, parseCommandArgs, UsageError, type ParsedArgs } from "../args.ts";
import { defineCommand } from "../command.ts";

export const CHECK_SPEC = defineSpec({
  name: "check",
  summary: "Run the policy rules over the rendered tree, or over any Kubernetes YAML given as paths",
  synopsis: "[paths...] [options]",
  description: `Runs the policy rules (Pod Security Standards, workload hygiene, the homelab's own principles).

Without paths it checks the rendered tree (gitops/) and the host files (hosts/, when present)
with the homelab model from homelab.config.ts and versions.yaml, applying the config's waivers
(policy.waivers) and the secret scanner's (secrets/scan-waivers.yaml).
With paths it checks any Kubernetes YAML: files, folders (recursively), \`-\` for standard input.
Multi-document files, List objects and \`helm template\` output are understood. Rules that need
the homelab model (backup and scrape coverage, sources, HA shape) are listed as not run, and so
are the rules that need whole namespaces unless --whole-namespaces says the input holds them.
Inside the homelab repository the secret scanner's waivers (secrets/scan-waivers.yaml) apply and
paths are shown from the repository root.`,
  options: {
    format: { type: "string", value: "<table|json>", help: "Output format (default: table). JSON is what the site's policy page reads." },
    rule: { type: "string", multiple: true, value: "<id>", help: "Run only this rule; repeat for several." },
    "kubernetes-version": {
      type: "string",
      value: "<v>",
      help: `Target Kubernetes minor version for API deprecations\n(default: the config's kubernetesVersion, else ${DEFAULT_KUBERNETES_VERSION}).`,
    },
    config: { type: "string", value: "<file>", help: "Config file (default: homelab.config.ts)" },
    versions: { type: "string", value: "<file>", help: "Versions file (default: versions.yaml)" },
    "scan-waivers": {
      type: "string",
      value: "<file>",
      help: "With paths: the secret scanner's waivers to apply (default: the\nrepository's secrets/scan-waivers.yaml when run inside it). Their\npaths match the paths the check shows.",
    },
    "homelab-allowlists": {
      type: "boolean",
      help: "With paths: apply the homelab's host-access, RBAC and API-client\nallowlists (its own node agents and controllers, by exact name), e.g.\nto vet the charts it installs. Without it foreign input gets none.",
    },
    "whole-namespaces": {
      type: "boolean",
      help: "With paths: the input holds every object of each namespace it\ntouches, so references to absent objects are broken (dangling\nServices, ServiceAccounts, monitors) and NetworkPolicy coverage\ncan be judged. Without it those rules are listed as not run.",
    },
    exclude: {
      type: "string",
      multiple: true,
      value: "<glob>",
      help: "With paths: leave out files and folders matching the glob (`*` within a\nname, `**` across folders, `dir/` for folders); repeat for several. A\n.homelabignore file in a folder given lists more, one glob a line.",
    },
    "fail-on-warning": { type: "boolean", help: "Exit 1 instead of 3 when there are warnings but no errors." },
    "list-rules": {
      type: "boolean",
      help: "Print the rules --rule accepts (id, severity, title) and exit.\nWaiver problems (waiver-expired, waiver-invalid, waiver-unused)\nare not rules: they are reported for the waivers of the rules that run.",
    },
  },
  positionals: { max: Infinity },
  footer: `Exit codes: 0 clean, 1 policy errors (or bad input), 3 warnings only, 4 nothing to check (no
Kubernetes object in the input), 2 usage, 70 internal error.`,
});

/** The input held no Kubernetes object: a check of nothing must not look like a clean check. */
export class NothingToCheckError extends UserError {
  constructor(message: string) {
    super(message, POLICY_EXIT.nothingChecked);
    this.name = "NothingToCheckError";
  }
}

/** Refuses input without a single object, saying what was read. */
function requireObjects(loaded: LoadedManifests, what: string, hint = ""): void {
  if (loaded.objects.length > 0) return;
  // Nothing loaded and something broken: the problems are the news.
  if (loaded.problems.length) throw new ManifestLoadError(loaded.problems);
  const skipped = new Set(loaded.skippedFiles.map((s) => s.file));
  const files = loaded.filesRead.filter((f) => !skipped.has(f));
  // Only skipped files (a README, a binary): each is its one line.
  if (files.length === 0 && loaded.skippedFiles.length) throw new NothingToCheckError(`nothing to check: ${loaded.skippedFiles.map((s) => `${s.file}: ${s.reason}`).join("; ")}`);
  const why = "empty, comments only, encrypted, or YAML that is not a Kubernetes object";
  let detail: string;
  if (files.length === 0) detail = `${what} has no .yaml, .yml or .json file`;
  else if (files.length === 1) detail = `${files[0] === "<stdin>" ? "standard input" : files[0]} holds no Kubernetes object (${why})`;
  else {
    const shown = files.slice(0, 5).join(", ") + (files.length > 5 ? `, and ${files.length - 5} more` : "");
    detail = `none of the ${files.length} files read from ${what} holds a Kubernetes object (${why}): ${shown}`;
  }
  const passed = loaded.skippedFiles.map((s) => `\n  - ${s.file}: ${s.reason}`).join("");
  throw new NothingToCheckError(`nothing to check: ${detail}${hint}${passed}`);
}

export interface CheckOptions {
  readonly paths: readonly string[];
  readonly format: "table" | "json";
  readonly rules: readonly string[];
  readonly kubernetesVersion?: string;
  readonly config: string;
  readonly versions: string;
  readonly failOnWarning: boolean;
  readonly listRules: boolean;
  /** Apply the homelab's allowlists to the given paths. @default false */
  readonly homelabAllowlists: boolean;
  /** The given paths hold whole namespaces. @default false */
  readonly wholeNamespaces: boolean;
  /** Secret-scan waiver file for the given paths. @default the repository's secrets/scan-waivers.yaml, if inside one */
  readonly scanWaivers?: string;
  /** Globs of files and folders under the given paths to leave out. @default [] */
  readonly exclude?: readonly string[];
}

export function parseCheckArgs(argv: string[]): CheckOptions {
  return checkOptions(parseCommandArgs(CHECK_SPEC, argv));
}

/** The options the parsed arguments describe; the checks of their values are usage errors too. */
export function checkOptions({ values, positionals }: ParsedArgs<typeof CHECK_SPEC.options>): CheckOptions {
  const format = values.format ?? "table";
  if (format !== "table" && format !== "json") throw new UsageError(`--format must be 'table' or 'json', not '${format}'`);
  const known = new Set(ALL_RULES.map((r) => r.id));
  const unknown = (values.rule ?? []).filter((id) => !known.has(id));
  if (unknown.length) {
    const waiverChecks = unknown.filter((id) => WAIVER_RULES.some((w) => w.id === id));
    const hint = waiverChecks.length ? ` (${waiverChecks.join(", ")} ${waiverChecks.length > 1 ? "are" : "is"} reported whenever waivers are judged, not a rule to select)` : "";
    throw new UsageError(`unknown rule id${unknown.length > 1 ? "s" : ""} ${unknown.map((u) => `'${u}'`).join(", ")}${hint}; see \`homelab check --list-rules\``);
  }
  // Repository mode has its own waivers and allowlists; silently ignoring these would mislead.
  for (const flag of ["scan-waivers", "homelab-allowlists", "whole-namespaces", "exclude"] as const)
    if (positionals.length === 0 && values[flag] !== undefined && values[flag] !== false) throw new UsageError(`--${flag} applies to paths only; without paths the repository's own is used`);
  const kv = values["kubernetes-version"];
  if (kv !== undefined && !/^1\.\d{1,2}$/.test(kv)) throw new UsageError(`--kubernetes-version must be a minor version such as 1.34, not '${kv}'`);
  return {
    paths: positionals,
    format,
    rules: values.rule ?? [],
    ...(kv !== undefined && { kubernetesVersion: kv }),
    config: values.config ?? "homelab.config.ts",
    versions: values.versions ?? "versions.yaml",
    failOnWarning: values["fail-on-warning"] ?? false,
    listRules: values["list-rules"] ?? false,
    homelabAllowlists: values["homelab-allowlists"] ?? false,
    wholeNamespaces: values["whole-namespaces"] ?? false,
    ...(values["scan-waivers"] !== undefined && { scanWaivers: values["scan-waivers"] }),
    ...(values.exclude !== undefined && { exclude: values.exclude }),
  };
}

/** The rules `--rule` accepts, one per line. The waiver checks are not rules one can select, so they are not listed. */
export function listRules(): string {
  const width = Math.max(...ALL_RULES.map((r) => r.id.length));
  return ALL_RULES.map((r) => `${r.id.padEnd(width)}  ${r.severity.padEnd(7)}  ${r.title}${r.needsModel ? " (needs the homelab model)" : ""}`).join("\n");
}

/** The homelab repository `dir` lies in (the folder holding homelab.config.ts), if any. */
export function repositoryRoot(dir: string): string | undefined {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (existsSync(join(d, "homelab.config.ts"))) return d;
    if (dirname(d) === d) return undefined;
  }
}

/** `--scan-waivers`, else the repository's own waiver file, else none. */
function scanWaiversFor(opts: CheckOptions, cwd: string, repo: string | undefined): ScanWaiver[] {
  if (opts.scanWaivers !== undefined) {
    const abs = resolve(cwd, opts.scanWaivers);
    if (!existsSync(abs)) throw new UserError(`--scan-waivers: no such file: ${opts.scanWaivers}`);
    // loadWaivers joins its arguments; name the file as given so messages point at it.
    return isAbsolute(opts.scanWaivers) ? loadWaivers("/", abs) : loadWaivers(cwd, relative(cwd, abs));
  }
  return repo === undefined ? [] : loadWaivers(repo, WAIVERS_FILE);
}

/**
 * The input from which `check` has V8 compile its hot code again (bin/homelab.mjs starts it interpreted):
 * 8 MiB, or 1000 objects (counted as `apiVersion`s in the text). Each object costs the interpreter time of
 * its own: 2000 small Deployments and Services (1.2 MB) took 3.6 s interpreted and 2.0 s compiled, while
 * kube-prometheus's 1.3 MB (126 `apiVersion`s, most of the bytes dashboards' JSON) took the same either way.
 */
export const COMPILE_FROM = { bytes: 8 * 1024 * 1024, objects: 1000 } as const;

/**
 * Counts what is read and, once it passes {@link COMPILE_FROM}, turns V8's compilers back on: Sparkplug
 * and TurboFan, which `--max-opt=0` in bin/homelab.mjs turned off with it (Maglev, off by default in
 * Node 20, stays off). These are V8's defaults, so a process that never turned them off is left as it was.
 */
function compilersPastLargeInput(): (bytes: number, text: string) => void {
  let bytes = 0;
  let objects = 0;
  let on = false;
  return (size, text) => {
    if (on) return;
    bytes += size;
    for (let i = text.indexOf("apiVersion"); i !== -1; i = text.indexOf("apiVersion", i + 10)) objects++;
    if (bytes < COMPILE_FROM.bytes && objects < COMPILE_FROM.objects) return;
    on = true;
    setFlagsFromString("--max-opt=999 --sparkplug --turbofan");
  };
}

/**
 * A full collection between the steps of a check of paths: what a step left (the files' text, the module
 * loader's garbage from loading the models, 3-4 MiB for kube-prometheus's kinds) is freed before the next
 * allocates, instead of the heap growing over it: 0.5-1 MiB less at the peak of a 1.3 MB check, a few
 * milliseconds each. Node has no call for it; `--expose-gc` set at run time puts `gc` in contexts made after.
 */
function collectGarbage(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

/** Loads the input the options describe and runs the rules. Exported for tests and the build. */
export async function runCheck(opts: CheckOptions, root = process.cwd(), today = new Date()): Promise<PolicyReport> {
  if (opts.paths.length) {
    // Bytes, not text: invalid UTF-8 is reported, not silently replaced.
    const stdin = opts.paths.includes("-") ? readFileSync(0) : undefined;
    const repo = repositoryRoot(root);
    const loaded = loadManifests(opts.paths, {
      cwd: root,
      keepGoing: true,
      ...(opts.exclude && { exclude: opts.exclude }),
      ...(repo !== undefined && { displayBase: repo }),
      ...(stdin !== undefined && { stdin }),
      onRead: compilersPastLargeInput(),
    });
    requireObjects(loaded, opts.paths.map((p) => (p === "-" ? "standard input" : p)).join(", "));
    collectGarbage();
    // The schema rule validates synchronously; the models are ES modules, loaded here.
    await loadSchemas(loaded.objects);
    collectGarbage();
    const ctx = policyContext({
      objects: loaded.objects,
      files: loaded.otherFiles,
      kubernetesVersion: opts.kubernetesVersion ?? DEFAULT_KUBERNETES_VERSION,
      secretScanWaivers: scanWaiversFor(opts, root, repo),
      // Foreign input gets no allowance unless asked: the allowlists name the homelab's own agents.
      ...(opts.homelabAllowlists && { hostPathAllowlist: DEFAULT_HOST_PATH_ALLOWLIST, rbacAllowlist: DEFAULT_RBAC_ALLOWLIST, apiClientAllowlist: DEFAULT_API_CLIENT_ALLOWLIST }),
      ...(opts.wholeNamespaces && { wholeNamespaces: true }),
    });
    const report = runPolicies(ctx, { waivers: [], today, only: opts.rules });
    return { ...report, input: { problems: loaded.problems, skipped: loaded.skippedFiles } };
  }
  // The config loader and the platform (cdk8s, Grafana's SDK, zod: ~0.4 s of module loading) are only needed
  // here, for the repository's own tree; a check of given paths never loads them.
  const [{ loadConfig, loadVersions }, { platform }] = await Promise.all([import("../../config/load.ts"), import("../../platform/platform.ts")]);
  const config = await loadConfig(resolve(root, opts.config));
  const versions = loadVersions(resolve(root, opts.versions));
  const tree = config.git.path;
  if (!existsSync(resolve(root, tree))) throw new UserError(`no rendered tree at ${tree}/; run \`homelab build\` first`);
  const loaded = loadManifests([tree], { cwd: root, onRead: compilersPastLargeInput() });
  requireObjects(loaded, `${tree}/`, "; run `homelab build`");
  await loadSchemas(loaded.objects);
  const ctx = policyContext({
    objects: loaded.objects,
    files: [...loaded.otherFiles, ...loadFiles("hosts", { cwd: root })],
    model: modelFromPlatform(platform(config, versions)),
    kubernetesVersion: opts.kubernetesVersion ?? config.kubernetesVersion,
    // The same reasoned false positives `homelab secrets scan` honours.
    secretScanWaivers: loadWaivers(root),
  });
  return runPolicies(ctx, { waivers: config.policy.waivers, today, only: opts.rules, waiverSource: opts.config });
}

export async function runCheckCommand(opts: CheckOptions, root = process.cwd()): Promise<number> {
  if (opts.listRules) {
    console.log(listRules());
    return 0;
  }
  let report: PolicyReport;
  try {
    report = await runCheck(opts, root);
  } catch (err) {
    // Whoever reads the JSON from stdout still gets JSON; the message also goes to stderr.
    if (opts.format === "json" && err instanceof UserError) console.log(formatJsonFailure(failureOf(err)));
    throw err;
  }
  console.log(opts.format === "json" ? formatJson(report) : formatTable(report));
  return exitCodeFor(report, { failOnWarning: opts.failOnWarning });
}

function failureOf(err: UserError): ReportFailure {
  if (err instanceof ManifestLoadError)
    return { kind: "load", message: `could not load the manifests (${err.problems.length} problem${err.problems.length === 1 ? "" : "s"})`, problems: err.problems };
  if (err instanceof NothingToCheckError) return { kind: "nothing-to-check", message: err.message };
  return { kind: "input", message: err.message };
}

export const check = defineCommand({ spec: CHECK_SPEC, run: (args) => runCheckCommand(checkOptions(args)) });
