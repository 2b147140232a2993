/**
 * What gets backed up, how often and for how long: the `backup` config turned into Velero Schedules, with
 * the defaults filled in. The Velero component renders them, the alerts watch each one within its window,
 * and the coverage check (./coverage.ts) and the policy rule `backup-coverage` judge claims against them.
 */
import { INTERVAL_SECONDS, type BackupConfig, type Frequency } from "../config/backup.ts";
import type { HomelabConfig } from "../config/schema.ts";

export const VELERO_NAMESPACE = "velero";
/** The small marker app the restore drill restores; backed up like an app with data. */
export const CANARY_NAMESPACE = "backup-canary";
/** Where the drill restores the canary to; Velero creates it, the drill deletes it. */
export const DRILL_NAMESPACE = "backup-drill";
export const STORAGE_LOCATION = "default";

/** The claim an app's `storage` becomes. */
export function appClaimName(app: string): string {
  return `${app}-data`;
}

export interface BackupSchedule {
  /** The Velero Schedule's name; also the `schedule` label of Velero's metrics. */
  readonly name: string;
  readonly every: Frequency;
  readonly cron: string;
  /** Go duration, e.g. `168h0m0s`. */
  readonly ttl: string;
  readonly volumes: boolean;
  readonly includedNamespaces: readonly string[];
  readonly excludedNamespaces: readonly string[];
  readonly includedResources?: readonly string[];
  readonly excludedResources?: readonly string[];
  /** A successful backup must be younger than this, or the schedule's alert fires. */
  readonly windowSeconds: number;
  /** The config key it comes from, or what default made it. */
  readonly from: string;
}

export interface BackupPlan {
  readonly config: BackupConfig;
  readonly schedules: readonly BackupSchedule[];
  /** `namespace/claim` → reason, from `backup.exemptions`. */
  readonly exemptions: ReadonlyMap<string, string>;
  /** The schedule that backs up the canary (the drill restores its latest backup). */
  readonly canarySchedule: string;
}

/** Default for apps with storage (and the canary) that no policy names. */
const STATEFUL_DEFAULT = { every: "6h", ttl: "168h", volumes: true } as const;

/**
 * The minute a schedule runs at: spread by name so that the schedules do not all start at :00 and
 * compete for the disk and the uplink.
 */
function minuteOf(name: string): number {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) % 9973;
  return h % 60;
}

export function cronFor(every: Frequency, name: string): string {
  const m = minuteOf(name);
  switch (every) {
    case "hourly":
      return `${m} * * * *`;
    case "6h":
      return `${m} */6 * * *`;
    case "12h":
      return `${m} */12 * * *`;
    case "daily":
      return `${m} 2 * * *`;
    case "weekly":
      return `${m} 3 * * 0`;
  }
}

/** One run may fail or be late; the alert fires when a whole interval more (plus an hour for the backup itself) has gone by. */
export function windowFor(every: Frequency): number {
  return INTERVAL_SECONDS[every] + 3600;
}

const goDuration = (hours: string): string => `${hours.replace(/h$/, "")}h0m0s`;

/** The backup plan of a config, or undefined when it declares no `backup`. */
export function backupPlan(config: HomelabConfig): BackupPlan | undefined {
  const b = config.backup;
  if (!b) return undefined;
  const exemptions = new Map(b.exemptions.map((e) => [e.claim, e.reason]));
  const schedules: BackupSchedule[] = [];
  const c = b.cluster;
  schedules.push({
    name: `cluster-${c.every}`,
    every: c.every,
    cron: cronFor(c.every, `cluster-${c.every}`),
    ttl: goDuration(c.ttl),
    volumes: c.volumes,
    includedNamespaces: ["*"],
    // The drill's scratch copy is deleted after each drill; backing it up would only restore a stale copy.
    excludedNamespaces: [...new Set([DRILL_NAMESPACE, ...c.excludedNamespaces])].sort(),
    windowSeconds: windowFor(c.every),
    from: "backup.cluster",
  });
  const declared = new Map(b.policies.map((p, i) => [p.namespace, { p, from: `backup.policies[${i}]` }]));
  // Stateful apps get their own, more frequent schedule unless a policy names them or their claim is exempt.
  const implicit = [
    ...config.apps.filter((a) => a.storage && !exemptions.has(`${a.name}/${appClaimName(a.name)}`)).map((a) => ({ ns: a.name, from: `apps[${config.apps.indexOf(a)}].storage` })),
    { ns: CANARY_NAMESPACE, from: "the restore drill's canary" },
  ];
  for (const { ns, from } of implicit) {
    if (!declared.has(ns)) declared.set(ns, { p: { namespace: ns, ...STATEFUL_DEFAULT }, from: `${from} (default: every 6h, kept 168h)` });
  }
  for (const [ns, { p, from }] of [...declared].sort(([a], [b]) => a.localeCompare(b))) {
    const name = `${ns}-${p.every}`;
    schedules.push({
      name,
      every: p.every,
      cron: cronFor(p.every, name),
      ttl: goDuration(p.ttl),
      volumes: p.volumes,
      includedNamespaces: [ns],
      excludedNamespaces: [],
      ...(p.includedResources && { includedResources: p.includedResources }),
      ...(p.excludedResources && { excludedResources: p.excludedResources }),
      windowSeconds: windowFor(p.every),
      from,
    });
  }
  const canary = schedules.find((s) => s.includedNamespaces.length === 1 && s.includedNamespaces[0] === CANARY_NAMESPACE)!;
  return { config: b, schedules, exemptions, canarySchedule: canary.name };
}

const PVC_NAMES = new Set(["*", "persistentvolumeclaims", "persistentvolumeclaim", "pvc"]);
// File-system backup reads a volume through the pod that mounts it: without pods, no data.
const POD_NAMES = new Set(["*", "pods", "pod", "po"]);

/** Whether a schedule backs up a claim of `namespace` together with its volume's data. */
export function coversWithData(s: BackupSchedule, namespace: string): boolean {
  if (!s.volumes) return false;
  if (!s.includedNamespaces.includes("*") && !s.includedNamespaces.includes(namespace)) return false;
  if (s.excludedNamespaces.includes(namespace)) return false;
  for (const names of [PVC_NAMES, POD_NAMES]) {
    if (s.includedResources && !s.includedResources.some((r) => names.has(r))) return false;
    if (s.excludedResources?.some((r) => names.has(r))) return false;
  }
  return true;
}
