/**
 * Backups: where they go and what is kept how long, declared once. The Velero component renders its
 * storage location, one Velero Schedule per policy and the alerts that watch them from this; the build
 * checks from the same data that every volume claim is covered or exempt with a reason.
 */
import { z } from "zod";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const dnsLabel = z.string().regex(DNS_LABEL, "must be a namespace name (a DNS label: lower-case letters, digits and '-')");

/** How often a policy backs up. Fixed steps, so the build knows each schedule's window for its alert. */
export const FREQUENCIES = ["hourly", "6h", "12h", "daily", "weekly"] as const;
export type Frequency = (typeof FREQUENCIES)[number];

/** Seconds between two runs of a schedule. */
export const INTERVAL_SECONDS: Readonly<Record<Frequency, number>> = {
  hourly: 3600,
  "6h": 6 * 3600,
  "12h": 12 * 3600,
  daily: 86400,
  weekly: 7 * 86400,
};

const frequency = z.enum(FREQUENCIES, { error: `must be one of ${FREQUENCIES.join(", ")}` });

/** Velero takes a Go duration; whole hours keep it readable (`168h` is a week). */
const ttl = z.string().regex(/^[1-9][0-9]*h$/, "must be whole hours such as 72h (3 days), 168h (a week) or 720h (30 days)");

/** Kubernetes resource names as Velero takes them (`persistentvolumeclaims`, `secrets`, `deployments.apps`). */
const resourceName = z.string().regex(/^(\*|[a-z0-9]+(\.[a-z0-9-]+)*)$/, "must be a resource name such as configmaps or deployments.apps, or *");

export const backupPolicySchema = z.strictObject({
  /** The namespace the policy backs up; an app's namespace is its name. */
  namespace: dnsLabel,
  /** @default "6h" */
  every: frequency.default("6h"),
  /** How long each backup is kept. @default "168h" (a week) */
  ttl: ttl.default("168h"),
  /** Whether the volumes' data is backed up (file-system backup with kopia), not only the objects. @default true */
  volumes: z.boolean().default(true),
  /** Only these resources (Velero `includedResources`). @default every resource */
  includedResources: z.array(resourceName).min(1).optional(),
  /** Never these resources (Velero `excludedResources`). */
  excludedResources: z.array(resourceName).min(1).optional(),
});

export const clusterPolicySchema = z.strictObject({
  /** @default "daily" */
  every: frequency.default("daily"),
  /** @default "720h" (30 days) */
  ttl: ttl.default("720h"),
  /** @default true */
  volumes: z.boolean().default(true),
  /** Namespaces left out of the whole-cluster backup. @default [] */
  excludedNamespaces: z.array(dnsLabel).default([]),
});

/** S3 bucket names: 3 to 63 lower-case letters, digits, '.' and '-'. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export const backupSchema = z.strictObject({
  /**
   * The S3-compatible object storage backups go to, off this host. Its access key lives encrypted in
   * `secrets/velero/velero-s3.sops.yaml` (key `cloud`, an AWS credentials file), never here.
   */
  storage: z.strictObject({
    /** The S3 API endpoint, e.g. `https://s3.eu-central-003.backblazeb2.com`. */
    endpoint: z.url({ protocol: /^https$/, error: "must be the https:// URL of the S3 API" }),
    bucket: z.string().regex(BUCKET, "must be an S3 bucket name: 3 to 63 lower-case letters, digits, '.' and '-'"),
    /** The provider's region name; many S3-compatible services accept any, but the AWS plugin needs one. */
    region: z.string().regex(/^[a-z0-9-]+$/, "must be a region name such as eu-central-1"),
    /** Folder inside the bucket. @default "velero" */
    prefix: z.string().regex(/^[a-z0-9][a-z0-9._/-]*[a-z0-9]$/, "must be a folder such as velero or homelab/velero, without leading or trailing '/'").default("velero"),
    /** Bucket in the path (`endpoint/bucket`) rather than the host name; most S3-compatible services want it. @default true */
    pathStyle: z.boolean().default(true),
  }),
  /** The whole cluster, objects and volumes. @default daily, kept 30 days */
  cluster: clusterPolicySchema.default({ every: "daily", ttl: "720h", volumes: true, excludedNamespaces: [] }),
  /**
   * More frequent backups of single namespaces. Every app with `storage` gets one by default (every 6
   * hours, kept a week); an entry here for its namespace replaces that default.
   */
  policies: z.array(backupPolicySchema).default([]),
  /** Volume claims deliberately not backed up (a cache, a scratch area), each with its reason. */
  exemptions: z
    .array(
      z.strictObject({
        /** `namespace/claim`. */
        claim: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "must be namespace/claim-name"),
        reason: z.string().min(10, "give a real reason (at least 10 characters)"),
      }),
    )
    .default([]),
  /** The restore drill: restores the canary namespace's latest backup into a scratch namespace and checks it. */
  drill: z
    .strictObject({
      /** Cron, in the cluster's time zone. @default "30 4 * * 0" (Sundays 04:30) */
      schedule: z.string().regex(/^(\S+\s+){4}\S+$/, "must be a cron expression of five fields such as 30 4 * * 0").default("30 4 * * 0"),
    })
    .default({ schedule: "30 4 * * 0" }),
});

export type BackupConfig = z.output<typeof backupSchema>;
export type BackupPolicy = z.output<typeof backupPolicySchema>;
