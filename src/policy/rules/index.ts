import { schema } from "./schema.ts";
import type { Rule } from "../types.ts";
import { alertRunbook } from "./alert-runbook.ts";
import { alertUnitTests } from "./alert-unit-tests.ts";
import { argocdDefaultProject } from "./argocd-default-project.ts";
import { argocdProjectScope } from "./argocd-project-scope.ts";
import { argocdSources } from "./argocd-sources.ts";
import { argocdSyncPolicy } from "./argocd-sync-policy.ts";
import { backupCoverage } from "./backup-coverage.ts";
import { danglingReferences } from "./dangling-references.ts";
import { deprecatedApi } from "./deprecated-api.ts";
import { deprecatedServiceAccount } from "./deprecated-service-account.ts";
import { duplicateEnv } from "./duplicate-env.ts";
import { haShape } from "./ha-shape.ts";
import { imagePinned } from "./image-pinned.ts";
import { imageRegistry } from "./image-registry.ts";
import { ingressCertManager } from "./ingress-cert-manager.ts";
import { ingressHost } from "./ingress-host.ts";
import { jobCleanup } from "./job-cleanup.ts";
import { networkPolicyCoverage } from "./network-policy-coverage.ts";
import { noDefaultNamespace } from "./no-default-namespace.ts";
import { noPlaintextSecrets } from "./no-plaintext-secrets.ts";
import { noServiceMesh } from "./no-service-mesh.ts";
import { objectMetadata } from "./object-metadata.ts";
import { probes } from "./probes.ts";
import { pssCapabilities } from "./pss-capabilities.ts";
import { pssHostNamespaces } from "./pss-host-namespaces.ts";
import { pssHostPath } from "./pss-host-path.ts";
import { pssPrivilegeEscalation } from "./pss-privilege-escalation.ts";
import { pssPrivileged } from "./pss-privileged.ts";
import { pssRunAsNonRoot } from "./pss-run-as-non-root.ts";
import { pssSeccomp } from "./pss-seccomp.ts";
import { pssSysctls } from "./pss-sysctls.ts";
import { pssVolumeTypes } from "./pss-volume-types.ts";
import { rbacLeastPrivilege } from "./rbac-least-privilege.ts";
import { rbacRoleRef } from "./rbac-role-ref.ts";
import { rbacSensitiveAccess } from "./rbac-sensitive-access.ts";
import { readOnlyRootFs } from "./read-only-root-fs.ts";
import { removedApi } from "./removed-api.ts";
import { resources } from "./resources.ts";
import { runAsRootGroup } from "./run-as-root-group.ts";
import { scrapeCoverage } from "./scrape-coverage.ts";
import { selectorMatch } from "./selector-match.ts";
import { serviceAccountToken } from "./service-account-token.ts";
import { serviceExposure } from "./service-exposure.ts";
import { sshPort } from "./ssh-port.ts";
import { yamlBooleans } from "./yaml-booleans.ts";

/** Pod Security Standards, restricted profile. */
export const PSS_RULES: readonly Rule[] = [
  pssPrivileged,
  pssHostNamespaces,
  pssHostPath,
  pssCapabilities,
  pssPrivilegeEscalation,
  pssRunAsNonRoot,
  pssSeccomp,
  pssVolumeTypes,
  pssSysctls,
];

/** Kubernetes workload and API hygiene. */
export const HYGIENE_RULES: readonly Rule[] = [
  objectMetadata,
  schema,
  imagePinned,
  imageRegistry,
  resources,
  probes,
  duplicateEnv,
  deprecatedServiceAccount,
  sshPort,
  jobCleanup,
  runAsRootGroup,
  readOnlyRootFs,
  serviceAccountToken,
  selectorMatch,
  danglingReferences,
  serviceExposure,
  noDefaultNamespace,
  rbacLeastPrivilege,
  rbacSensitiveAccess,
  rbacRoleRef,
  removedApi,
  deprecatedApi,
  yamlBooleans,
];

/** The homelab's own design principles. */
export const PRINCIPLE_RULES: readonly Rule[] = [
  noPlaintextSecrets,
  ingressCertManager,
  ingressHost,
  noServiceMesh,
  argocdSyncPolicy,
  argocdSources,
  argocdProjectScope,
  argocdDefaultProject,
  scrapeCoverage,
  networkPolicyCoverage,
  backupCoverage,
  alertRunbook,
  alertUnitTests,
  haShape,
];

/** Every rule, grouped as the docs present them. */
export const ALL_RULES: readonly Rule[] = [...PSS_RULES, ...HYGIENE_RULES, ...PRINCIPLE_RULES];
