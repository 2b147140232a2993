import type { LocatedObject } from "../model/k8s.ts";
import type { Waiver as SecretScanWaiver } from "../secrets/scan.ts";

export type Severity = "error" | "warning";

/** One broken rule on one object (or host file). */
export interface Violation {
  /** Id of the rule that found it, e.g. `pss-privileged`. */
  readonly rule: string;
  readonly severity: Severity;
  /** `Kind namespace/name` of the offending object (see `objectRef`), or a file path for host files. */
  readonly subject: string;
  /** File the object was read from, relative to where the check ran, when known. */
  readonly file?: string;
  /** Chart template the object was rendered from (Helm's `# Source:` comment), for foreign input. */
  readonly source?: string;
  /** 1-based YAML document of `file` the object came from, when known (names repeat in Helm output). */
  readonly document?: number;
  /** JSON-pointer-like path of the offending field, e.g. `/spec/template/spec/containers/0/image`. */
  readonly path?: string;
  readonly message: string;
}

/** A rule that could not run on this input, and why. Informational: never fails a check. */
export interface PolicyNote {
  readonly rule: string;
  readonly message: string;
}

/** A non-Kubernetes file the rules may read (host files, Helm values files). */
export interface PolicyFile {
  /** Path relative to where the check ran. */
  readonly path: string;
  readonly content: string;
}

/**
 * A permanent, reasoned exception to the host-access rules. Unlike a waiver it does not expire:
 * it records that a workload's job *is* to look at the host (node-exporter, a log collector).
 */
export interface HostAccessAllowance {
  /**
   * `Kind namespace/name` of the workload. `*` matches within a name or namespace, never across the
   * `/` (e.g. `DaemonSet node-exporter/node-exporter`; prefer exact names).
   */
  readonly object: string;
  /** Why the workload needs the host. Shown in the docs. */
  readonly reason: string;
  /**
   * The exact hostPath paths it may mount (trailing and doubled slashes aside); nothing below them.
   * @default [] (no hostPath volumes)
   */
  readonly paths?: readonly string[];
  /**
   * Every container that mounts one of `paths` must mount it read-only.
   * @default false
   */
  readonly readOnly?: boolean;
  /**
   * Host namespaces it may share.
   * @default [] (none)
   */
  readonly namespaces?: readonly ("network" | "pid" | "ipc")[];
  /**
   * Host ports it may bind: `hostPort`s, and with the host network every `containerPort`.
   * @default [] (none)
   */
  readonly ports?: readonly number[];
}

/** A permanent, reasoned exception to the RBAC rule (wildcards, cluster-admin bindings). */
export interface RbacAllowance {
  /** `Kind name` / `Kind namespace/name` of the Role, ClusterRole or binding; `*` matches within a name, never across `/`. */
  readonly object: string;
  readonly reason: string;
}

/**
 * What the model-aware rules need to know about the homelab beyond the rendered objects.
 * Built by `homelab build` / `homelab check` from the config; absent when checking foreign manifests.
 */
export interface HomelabModel {
  /** Number of nodes in the cluster; 1 means every PDB must let a drain finish. */
  readonly nodes: number;
  /** The Git repository ArgoCD watches (our own repo); sources from it may follow a branch. */
  readonly gitRepoURL: string;
  /** Helm repositories Applications may install charts from (with pinned versions). */
  readonly allowedChartRepos: readonly string[];
  /**
   * PersistentVolumeClaims covered by backups that are not visible as Velero Schedule objects
   * in the rendered tree (e.g. schedules created by the Velero chart from its values).
   * @default none; only Schedule objects in the tree count
   */
  readonly backupCoveredPVCs?: (namespace: string, name: string) => boolean;
  /**
   * Names of alerts exercised by `promtool test rules`.
   * @default undefined: the alert-unit-tests rule is skipped with a note
   */
  readonly testedAlerts?: ReadonlySet<string>;
  /**
   * Whether the homelab renders a Prometheus that scrapes ServiceMonitors/PodMonitors. Without one,
   * scrape coverage cannot be met and the scrape-coverage rule is skipped with a note.
   * @default true
   */
  readonly monitoring?: boolean;
  /**
   * Registries (or `registry/path` prefixes) images may come from (the config's `policy.allowedRegistries`).
   * @default undefined: the image-registry rule is skipped with a note
   */
  readonly allowedRegistries?: readonly string[];
}

/** Everything a rule may look at. Rules are pure functions of this. */
export interface PolicyContext {
  readonly objects: readonly LocatedObject[];
  /** Host files and other non-Kubernetes files (Compose stacks, values files). */
  readonly files?: readonly PolicyFile[];
  /** Absent for foreign manifests; rules with `needsModel` are then skipped with a note. */
  readonly model?: HomelabModel;
  /** Target Kubernetes minor version, e.g. `"1.34"`. */
  readonly kubernetesVersion: string;
  /** Node agents admitted to host access; empty for foreign manifests unless given. */
  readonly hostPathAllowlist: readonly HostAccessAllowance[];
  /** Controllers admitted to broad RBAC; empty for foreign manifests unless given. */
  readonly rbacAllowlist: readonly RbacAllowance[];
  /**
   * Workloads of the homelab's own operators that talk to the API server even where the input does
   * not show the binding that lets them (a chart's RBAC rendered by Argo CD). Empty for foreign
   * manifests unless given.
   * @default []
   */
  readonly apiClientAllowlist?: readonly RbacAllowance[];
  /**
   * Reasoned false positives of the secret scanner (`secrets/scan-waivers.yaml`), shared with `homelab secrets scan`.
   * @default none
   */
  readonly secretScanWaivers?: readonly SecretScanWaiver[];
  /**
   * The input holds every object of every namespace it touches, so a reference to something absent
   * is broken rather than defined elsewhere (`homelab check --whole-namespaces`). Without it, only the
   * namespaces the model knows to be rendered whole are judged (see `lib/namespaces.ts`).
   * @default false
   */
  readonly wholeNamespaces?: boolean;
}

/** A named, documented check. One per file under `rules/`. */
export interface Rule {
  /** Kebab-case id, used in output, `--rule` and waivers. */
  readonly id: string;
  readonly title: string;
  readonly severity: Severity;
  /** Why the rule exists, in one or two sentences. */
  readonly why: string;
  /** How to fix a violation. */
  readonly fix: string;
  /** True when the rule only makes sense with the homelab model (skipped on foreign input). */
  readonly needsModel?: boolean;
  /**
   * Says why the rule cannot run on this input (beyond a missing model), or `undefined` when it can.
   * The runner reports the reason as a note instead of running `check`.
   */
  skip?(ctx: PolicyContext): string | undefined;
  /** Must not throw on odd input: foreign manifests are full of surprises. */
  check(ctx: PolicyContext): Violation[];
}

/**
 * A time-limited, reasoned exception, written in the config's `policy.waivers`.
 * Expired waivers fail the check; waivers that match nothing are reported as warnings.
 */
export interface Waiver {
  readonly rule: string;
  /** `Kind namespace/name` (see `objectRef`), or a glob such as `Deployment monitoring/*`. */
  readonly object: string;
  readonly reason: string;
  /** Last day (UTC) the waiver applies, `YYYY-MM-DD`. */
  readonly expires: string;
}
