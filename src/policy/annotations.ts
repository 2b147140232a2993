/**
 * Annotations the policy rules read. Their value is the reason, in words; an empty value does
 * not count, so every exemption in the rendered tree explains itself.
 */
export const POLICY_ANNOTATIONS = {
  /** On a PersistentVolumeClaim (or a StatefulSet for its claim templates): why it needs no backup. */
  backupExempt: "homelab/backup-exempt",
  /** On a workload: why Prometheus does not scrape it (e.g. it exposes no metrics). */
  scrapeExempt: "homelab/scrape-exempt",
  /**
   * On a NetworkPolicy, ServiceMonitor, PodMonitor or Service: which controller creates the pods it selects at
   * run time (an ACME solver, a backup job), so that no rendered pod matching it is not a broken reference.
   */
  runtimePods: "homelab/runtime-pods",
} as const;

/** The reason given by an exemption annotation, or undefined when it is absent or blank. */
export function exemptionReason(annotations: Readonly<Record<string, string>> | undefined, key: string): string | undefined {
  const v = annotations?.[key]?.trim();
  return v ? v : undefined;
}
