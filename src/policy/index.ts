/**
 * The policy engine's entry points for `homelab build` and `homelab check`.
 * Rules live in `rules/`, one per file; `runPolicies` applies them with the config's waivers.
 */
import type { LocatedObject } from "../model/k8s.ts";
import { DEFAULT_API_CLIENT_ALLOWLIST, DEFAULT_HOST_PATH_ALLOWLIST, DEFAULT_RBAC_ALLOWLIST } from "./defaults.ts";
import { runPolicies, type PolicyReport, type RunOptions } from "./run.ts";
import type { HomelabModel, HostAccessAllowance, PolicyContext, PolicyFile, RbacAllowance } from "./types.ts";

export { runPolicies, exitCodeFor, POLICY_EXIT, WAIVER_RULES, MAX_WAIVER_DAYS, waiverObjectProblem, type PolicyReport, type RuleOutcome, type WaivedViolation, type RunOptions } from "./run.ts";
export { formatTable, formatJson, formatJsonFailure, summaryLine, REPORT_FORMAT_VERSION, type ReportFailure } from "./format.ts";
export { loadManifests, loadFiles, parseManifests, ManifestLoadError, formatLoadProblem, excludeMatcher, IGNORE_FILE, PROBLEMS_PER_FILE, type LoadedObject, type LoadedManifests, type LoadProblem, type SkippedFile, type Yaml11Boolean } from "./load.ts";
export { modelFromConfig, modelFromPlatform } from "./model.ts";
export { ALL_RULES } from "./rules/index.ts";
export { DEFAULT_API_CLIENT_ALLOWLIST, DEFAULT_HOST_PATH_ALLOWLIST, DEFAULT_RBAC_ALLOWLIST } from "./defaults.ts";
export { POLICY_ANNOTATIONS } from "./annotations.ts";
export type * from "./types.ts";

/** Kubernetes version assumed for foreign manifests when none is given. */
export const DEFAULT_KUBERNETES_VERSION = "1.34";

export interface PolicyInput {
  readonly objects: readonly LocatedObject[];
  readonly files?: readonly PolicyFile[];
  readonly model?: HomelabModel;
  /** @default DEFAULT_KUBERNETES_VERSION */
  readonly kubernetesVersion?: string;
  /**
   * The allowlists belong to the homelab: foreign manifests get none unless they are passed here.
   * @default DEFAULT_HOST_PATH_ALLOWLIST with a model, [] without
   */
  readonly hostPathAllowlist?: readonly HostAccessAllowance[];
  /** @default DEFAULT_RBAC_ALLOWLIST with a model, [] without */
  readonly rbacAllowlist?: readonly RbacAllowance[];
  /** @default DEFAULT_API_CLIENT_ALLOWLIST with a model, [] without */
  readonly apiClientAllowlist?: readonly RbacAllowance[];
  /** @default none */
  readonly secretScanWaivers?: PolicyContext["secretScanWaivers"];
  /** @default false */
  readonly wholeNamespaces?: boolean;
}

/** A PolicyContext with the defaults filled in (the homelab's allowlists only with its model). */
export function policyContext(input: PolicyInput): PolicyContext {
  return {
    objects: input.objects,
    ...(input.files !== undefined && { files: input.files }),
    ...(input.model !== undefined && { model: input.model }),
    kubernetesVersion: input.kubernetesVersion ?? DEFAULT_KUBERNETES_VERSION,
    hostPathAllowlist: input.hostPathAllowlist ?? (input.model ? DEFAULT_HOST_PATH_ALLOWLIST : []),
    rbacAllowlist: input.rbacAllowlist ?? (input.model ? DEFAULT_RBAC_ALLOWLIST : []),
    apiClientAllowlist: input.apiClientAllowlist ?? (input.model ? DEFAULT_API_CLIENT_ALLOWLIST : []),
    ...(input.secretScanWaivers !== undefined && { secretScanWaivers: input.secretScanWaivers }),
    ...(input.wholeNamespaces !== undefined && { wholeNamespaces: input.wholeNamespaces }),
  };
}

/** One call for `homelab build`: context with defaults, rules, waivers. */
export function checkPolicies(input: PolicyInput, opts: RunOptions): PolicyReport {
  return runPolicies(policyContext(input), opts);
}
