/**
 * The schema of `homelab.config.ts`. Everything the renderer reads comes through here, so a bad config
 * is caught in one place, with every problem reported at once and named by its key path.
 */
import { z } from "zod";
import { accessSchema, argocdSchema, checkAccess } from "./access.ts";
import { backupSchema } from "./backup.ts";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const CIDR = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\/([0-9]|[12]\d|3[0-2])$/;
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** OCI distribution spec: a tag is `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`; a digest is `algorithm:hex`. */
const OCI_TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const OCI_DIGEST = /^sha256:[a-f0-9]{64}$/;

/**
 * An app's whole environment (NAME=value bytes). Linux refuses to start a process with one variable over
 * 128 KiB (MAX_ARG_STRLEN), and the Deployment carrying it is applied client-side by Argo CD, whose
 * last-applied copy must fit the 256 KiB limit of all annotations together.
 */
export const MAX_APP_ENV_BYTES = 128 * 1024;
/** Kubernetes refuses a ConfigMap whose data is over 1 MiB. */
export const MAX_CONFIGMAP_BYTES = 1024 * 1024;

/** Folders an emptyDir must not be mounted over: it would hide the image's own system files. */
const SYSTEM_DIRS = new Set(["/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/usr", "/var"]);

/** Top-level folders of this repository that `homelab build` must never replace with the rendered tree. */
export const REPOSITORY_FOLDERS = new Set(["src", "test", "docs", "scripts", "bin", "secrets", "hosts", "apps", "packages", "node_modules", ".git", ".forgejo", ".github"]);

export const dnsLabel = z
  .string()
  .regex(DNS_LABEL, "must be a DNS label: lower-case letters, digits and '-', at most 63, starting and ending alphanumeric");
/** Service names are RFC 1035 labels: like a DNS label, but starting with a letter. */
const dns1035Label = dnsLabel.regex(/^[a-z]/, "must start with a letter (a DNS-1035 label: the app's name is also its Service name)");
const hostname = z.string().regex(HOSTNAME, "must be a fully qualified lower-case host name such as example.org");
const quantity = z.string().regex(QUANTITY, "must be a Kubernetes quantity such as 100m, 128Mi or 1Gi");

function kib(bytes: number): string {
  return `${Math.ceil(bytes / 1024)} KiB`;
}

const httpPath = z.string().regex(/^\/[\x21-\x7e]*$/, "must be a URL path starting with '/' (no spaces)");

export const nodeSchema = z.strictObject({
  /** Host name of the node, as kubeadm registers it. */
  name: dnsLabel,
  /** The node's LAN address (used for the API server, NetworkPolicy egress and host files). */
  address: z.string().regex(IPV4, "must be an IPv4 address such as 192.168.1.10"),
  /** `control-plane` and/or `worker`; a single node carries both. */
  roles: z.array(z.enum(["control-plane", "worker"])).min(1, "needs at least one role"),
  /**
   * What the node offers to pods, for `homelab footprint`: CPU cores and memory after what the host keeps
   * for itself (the OS, containerd, kubelet and the Compose stack beside the cluster).
   * @default DEFAULT_NODE_CAPACITY: Sky Palette's box
   */
  capacity: z.strictObject({ cpu: quantity, memory: quantity }).optional(),
});

/**
 * Sky Palette's single box: a desktop-class machine (8 cores, 32 GiB). The cluster is given 6 cores and
 * 24 GiB of it; the rest is the host's (kernel, containerd, kubelet and the Compose stack with Forgejo,
 * its database, the runner, cloudflared and pr-agent). Change it to what your node really leaves to pods.
 */
export const DEFAULT_NODE_CAPACITY = { cpu: "6", memory: "24Gi" } as const;

/** The platform's memory requests may not exceed this: the box is for the apps. */
export const DEFAULT_PLATFORM_MEMORY_BUDGET = "4Gi";

export const resourcesSchema = z.strictObject({
  requests: z.strictObject({ cpu: quantity, memory: quantity }),
  limits: z.strictObject({ memory: quantity, cpu: quantity.optional() }),
});

/** Kubernetes Secret keys: `[-._a-zA-Z0-9]+`. */
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

/** An absolute folder in the container that an empty or secret volume may be mounted on. */
const mountFolder = z
  .string()
  .refine((p) => /^\/[^\0]*$/.test(p) && !p.split("/").some((s) => s === ".." || s === "."), "must be an absolute folder path such as /tmp, without '.' or '..'")
  .refine((p) => !SYSTEM_DIRS.has(p.replace(/\/+$/, "") || "/"), {
    error: (iss) => `must not be ${String(iss.input)}: a volume mounted there would hide the image's own files; use a folder of the app's own`,
  });

/**
 * A Secret an app reads. Its ciphertext is `secrets/<app>/<name>.sops.yaml` (create it with
 * `homelab secrets set`); the build copies it next to the app's kustomization, where KSOPS decrypts it
 * inside Argo CD, exactly like the platform's own secrets.
 */
export const appSecretSchema = z
  .strictObject({
    /** Secret name; also the file name `secrets/<app>/<name>.sops.yaml`. */
    name: dnsLabel,
    /** Keys the app reads; the build checks each is in the encrypted file. */
    keys: z
      .array(z.string().regex(SECRET_KEY, "is not a Secret key: use letters, digits, '-', '_' and '.'"))
      .min(1, "name at least one key the app reads"),
    /** `true`: each key becomes an environment variable of the same name. */
    env: z.boolean().optional(),
    /** Or: each key becomes a read-only file in this folder, e.g. `/etc/notes/secrets`. */
    mountPath: mountFolder.optional(),
  })
  .superRefine((s, ctx) => {
    if ((s.env === true) === (s.mountPath !== undefined))
      ctx.addIssue({ code: "custom", message: "say how the app reads it: `env: true` (environment variables) or `mountPath: \"/some/folder\"` (files), one of the two" });
    if (s.env)
      s.keys.forEach((k, i) => {
        if (!ENV_NAME.test(k)) ctx.addIssue({ code: "custom", path: ["keys", i], message: `'${k}' cannot be an environment variable name (letters, digits and '_', not starting with a digit); mount the secret as files with mountPath instead` });
      });
    s.keys.forEach((k, i) => {
      if (s.keys.indexOf(k) !== i) ctx.addIssue({ code: "custom", path: ["keys", i], message: `duplicate key '${k}'` });
    });
  });

/** An app's persistent volume: one claim on the default StorageClass, mounted into its pod. */
export const appStorageSchema = z.strictObject({
  /** e.g. `1Gi`. Not enforced by local volumes: the node's disk is shared (decision 0003). */
  size: z.string().regex(/^[0-9]+(Mi|Gi|Ti)$/, "must be a size such as 512Mi or 10Gi"),
  /** Where the volume appears in the container, e.g. `/var/lib/notes`. */
  mountPath: mountFolder,
  /**
   * The local path provisioner makes volumes one node mounts; the app then runs one replica and is updated
   * by recreating its pod. @default "ReadWriteOnce"
   */
  accessMode: z.enum(["ReadWriteOnce", "ReadWriteOncePod"], { error: "must be ReadWriteOnce or ReadWriteOncePod: local volumes live on one node" }).default("ReadWriteOnce"),
});

export const appSchema = z.strictObject({
  /** Name = namespace = ArgoCD Application name = Service name. */
  name: dns1035Label.superRefine((name, ctx) => {
    // Here, not with the cross-checks below: it needs nothing else, so it is reported alongside any other mistake.
    const reserved = reservedAppName(name);
    if (reserved) ctx.addIssue({ code: "custom", message: `'${name}' is reserved: ${reserved}; pick another name` });
  }),
  /** Image repository without tag, e.g. `git.example.org/me/site`. */
  image: z.string().regex(/^[a-z0-9.\-_/:]+$/, "must be an image repository without a tag").refine((s) => !/:[^/]*$/.test(s) || /^[^/]+:\d+\//.test(s), "must not carry a tag; put it in `tag`"),
  /** Pinned tag or digest (`sha256:…`); `latest` is refused. */
  tag: z
    .string()
    .min(1, "must not be empty: give a release tag such as 1.4.2, or a digest sha256:…")
    .refine((t) => t !== "latest", "`latest` is not a pinned version: use a release tag or a digest")
    .refine(
      (t) => t.startsWith("sha256:") ? OCI_DIGEST.test(t) : OCI_TAG.test(t),
      "is not a valid image tag: a tag has letters, digits, '_', '.' and '-', at most 128, and does not start with '.' or '-' (OCI tag syntax); a digest is sha256: and 64 hex digits",
    )
    .refine((t) => t.startsWith("sha256:") || /[A-Za-z0-9]$/.test(t), "must end with a letter or digit: the tag is also the app.kubernetes.io/version label, and label values end alphanumeric"),
  /** Container port the app listens on. */
  port: z.number().int().min(1024, "must be >= 1024 (apps run as non-root)").max(65535),
  /** Host name the app is served on; must be inside the homelab domain. */
  host: hostname,
  /** Path of the HTTP readiness/liveness probe. */
  probePath: httpPath.default("/healthz"),
  /**
   * Path of the readiness probe alone, for an app that stops being ready while it drains on shutdown (the
   * telemetry kit's `/readyz`), so the pod leaves the Service before its connections close.
   * @default probePath
   */
  readyPath: httpPath.optional(),
  /** Path scraped by Prometheus; `false` when the app exposes no metrics. */
  metricsPath: z.union([httpPath, z.literal(false)], { error: "must be a URL path starting with '/', or false when the app has no metrics" }).default("/metrics"),
  /**
   * Port of the metrics endpoint when the app serves it apart from `port` (the telemetry kit's metrics
   * listener): Prometheus scrapes it there, and neither the Service nor the Ingress exposes it, so the
   * metrics are not public. The app is told it in `METRICS_PORT`. @default port (metrics on the app's port)
   */
  metricsPort: z.number().int().min(1024, "must be >= 1024 (apps run as non-root)").max(65535).optional(),
  /**
   * The pipeline rebuilds and redeploys this app at least every this many days (a scheduled build); a
   * deployment older than that means the pipeline is broken, and the AppStale alert says so.
   * @default unset: no staleness alert
   */
  /**
   * The app reads Prometheus' HTTP API (the site's live status): it gets `PROMETHEUS_URL` and the
   * NetworkPolicies for exactly that one port, when `components.monitoring` exists (without it, nothing:
   * the app must cope with no Prometheus). @default false
   */
  readsPrometheus: z.boolean().default(false),
  maxBuildAgeDays: z.number().int("must be a whole number of days").min(1, "must be at least 1 day").max(90, "must be at most 90 days").optional(),
  resources: resourcesSchema.default({ requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "128Mi" } }),
  env: z
    .record(z.string().regex(ENV_NAME, "is not an environment variable name: use letters, digits and '_', not starting with a digit"), z.string())
    .default({})
    .superRefine((env, ctx) => {
      const size = Object.entries(env).reduce((n, [k, v]) => n + Buffer.byteLength(`${k}=${v}`) + 1, 0);
      if (size <= MAX_APP_ENV_BYTES) return;
      const [big] = Object.entries(env).sort(([, a], [, b]) => b.length - a.length);
      ctx.addIssue({
        code: "custom",
        ...(big && Buffer.byteLength(big[1]) > MAX_APP_ENV_BYTES / 2 && { path: [big[0]] }),
        message: `the environment is ${kib(size)}, over the ${kib(MAX_APP_ENV_BYTES)} an app may have (Linux refuses longer variables, and the Deployment must fit Argo CD's client-side apply); put large data in a file instead`,
      });
    }),
  /** Replicas on a multi-node cluster; a single node always runs one. */
  replicas: z.number().int().min(1).max(10).default(2),
  /** An admin UI: public only behind Cloudflare Access (see `access`), else reached by port-forward. @default false */
  admin: z.boolean().default(false),
  /** Writable scratch directory mounted as an emptyDir (the root filesystem is read-only). */
  tmpDir: mountFolder.default("/tmp"),
  /** Encrypted Secrets the app reads, as environment variables or files. */
  secrets: z.array(appSecretSchema).default([]),
  /**
   * A persistent volume for the app's data: a claim on the default StorageClass (`local-path`), backed
   * up by Velero (`backup`) unless exempt with a reason.
   */
  storage: appStorageSchema.optional(),
});

export const monitoringSchema = z.strictObject({
  /** Where alerts go (docs/decisions/0004-alerts-to-ntfy.md). The access token is the `token` key of the encrypted Secret `ntfy`. */
  ntfy: z
    .strictObject({
      server: z.url({ protocol: /^https$/, error: "must be an https:// URL such as https://ntfy.sh" }).default("https://ntfy.sh"),
      /** Reserve it on the server so that only the token may publish to and read it. */
      topic: z.string().regex(/^[-_A-Za-z0-9]{1,64}$/, "must be an ntfy topic: 1-64 letters, digits, '-' or '_'"),
      /** A dead man's switch URL (e.g. healthchecks.io) the Watchdog pings every minute. @default none: the Watchdog is dropped */
      heartbeatUrl: z.url({ protocol: /^https$/, error: "must be an https:// URL" }).optional(),
    }),
  /** Grafana's admin UI at `<subdomain>.<domain>`: public only behind Cloudflare Access, like Argo CD's. */
  grafana: z.strictObject({ subdomain: dnsLabel.default("grafana") }).default({ subdomain: "grafana" }),
  /** How long and how much Prometheus keeps on the node's disk; the volume is sized from `size`. */
  retention: z
    .strictObject({
      time: z.string().regex(/^\d+[hdwy]$/, "must be a duration such as 15d"),
      size: z.string().regex(/^\d+GiB$/, "must be a whole number of GiB such as 8GiB"),
    })
    .default({ time: "15d", size: "8GiB" }),
  /**
   * Also send every sample to a hosted Prometheus (remote_write). The credentials come from the encrypted
   * Secret `remote-write` in `secrets/monitoring/` (basic auth: keys `username` and `password`).
   */
  remoteWrite: z
    .strictObject({
      url: z.url({ protocol: /^https$/, error: "must be an https:// URL: the samples and the credentials leave the box" }),
    })
    .optional(),
});

const issuerName = z.enum(["letsencrypt-staging", "letsencrypt-production"]);

export const waiverSchema = z.strictObject({
  rule: z.string().min(1),
  /** `Kind namespace/name`, or a glob such as `Deployment monitoring/*`. */
  object: z.string().min(1),
  reason: z.string().min(10, "give a real reason (at least 10 characters)"),
  expires: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date YYYY-MM-DD"),
});

export const homelabSchema = z
  .strictObject({
    /** Short name of the homelab, used in labels and the AppProject name. */
    name: dnsLabel,
    /** Apex domain; `*.<domain>` is routed through the cluster tunnel. */
    domain: hostname,
    /** Kubernetes minor version the cluster runs, e.g. "1.34" (deprecated-API checks use it). */
    kubernetesVersion: z.string().regex(/^1\.\d{2}$/, "must be a minor version such as 1.34"),
    nodes: z.array(nodeSchema).min(1, "needs at least one node"),
    network: z
      .strictObject({
        podCIDR: z.string().regex(CIDR, "must be an IPv4 CIDR such as 10.244.0.0/16"),
        serviceCIDR: z.string().regex(CIDR, "must be an IPv4 CIDR such as 10.96.0.0/12"),
      })
      .default({ podCIDR: "10.244.0.0/16", serviceCIDR: "10.96.0.0/12" }),
    git: z.strictObject({
      /** Base URL of the Forgejo instance. */
      url: z.url({ protocol: /^https$/, error: "must be an https:// URL" }),
      /** `owner/name` of the repository ArgoCD watches. */
      repo: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "must be owner/name"),
      branch: z.string().min(1).default("main"),
      /** Folder inside the repository that holds the rendered tree. */
      path: z
        .string()
        .regex(/^[a-z0-9][a-z0-9_-]*(\/[a-z0-9][a-z0-9_-]*)*$/, "must be a relative folder such as gitops")
        .refine((p) => !REPOSITORY_FOLDERS.has(p.split("/")[0]!), {
          error: (iss) => `must not be inside ${String(iss.input).split("/")[0]}/: homelab build replaces this folder with the rendered tree; use a folder of its own such as gitops`,
        })
        .default("gitops"),
    }),
    tunnels: z.strictObject({
      /** Tunnel that carries `*.<domain>` to the in-cluster cloudflared. */
      cluster: z.strictObject({ name: dnsLabel }),
      /** Tunnel that carries `git.<domain>` to the Forgejo host's cloudflared. */
      forgejo: z.strictObject({ name: dnsLabel, hostname }),
    }),
    /** The nodes' operating system: what `hosts/<node>/` renders beside kubeadm. */
    host: z
      .strictObject({
        /** NTP pools chrony uses on every node. @default Debian's pool */
        ntpServers: z
          .array(hostname.or(z.string().regex(IPV4, "must be a host name or an IPv4 address")), { error: "must be a list of NTP server host names" })
          .min(1, "name at least one NTP server")
          .default(["0.debian.pool.ntp.org", "1.debian.pool.ntp.org", "2.debian.pool.ntp.org"]),
      })
      .default({ ntpServers: ["0.debian.pool.ntp.org", "1.debian.pool.ntp.org", "2.debian.pool.ntp.org"] }),
    acme: z.strictObject({
      email: z.email("must be an e-mail address Let's Encrypt can write to"),
      /** Issuer new certificates use. Rebuilds should start on staging to stay clear of rate limits. */
      defaultIssuer: issuerName.default("letsencrypt-production"),
    }),
    components: z
      .strictObject({
        argocd: argocdSchema.default({ subdomain: "argocd", localAdmin: true, accounts: [] }),
        ingressNginx: z
          .strictObject({
            /** Extra ingress-nginx ConfigMap entries, merged over ours. */
            config: z
              .record(z.string(), z.string())
              .default({})
              .refine((m) => Object.entries(m).reduce((n, [k, v]) => n + k.length + v.length, 0) <= MAX_CONFIGMAP_BYTES, "is over 1 MiB, more than Kubernetes allows in a ConfigMap"),
          })
          .default({ config: {} }),
        certManager: z.strictObject({}).default({}),
        cloudflared: z
          .strictObject({ resources: resourcesSchema.optional() })
          .default({}),
        /** The monitoring stack; without it nothing is scraped and no alert reaches the phone. */
        monitoring: monitoringSchema.optional(),
      })
      .default({ argocd: { subdomain: "argocd", localAdmin: true, accounts: [] }, ingressNginx: { config: {} }, certManager: {}, cloudflared: {} }),
    /** Cloudflare Access in front of the admin UIs. Without it, admin UIs get no public route. */
    access: accessSchema.optional(),
    apps: z.array(appSchema).default([]),
    /** Velero backups to off-host S3-compatible storage, their schedules and the restore drill. */
    backup: backupSchema.optional(),
    /** What `homelab footprint` holds the platform to. */
    footprint: z
      .strictObject({
        /**
         * Upper bound on the memory requests of the platform's components (everything but `apps:`),
         * replicas counted; `homelab footprint` fails above it.
         * @default DEFAULT_PLATFORM_MEMORY_BUDGET (4Gi)
         */
        platformMemoryBudget: quantity.default(DEFAULT_PLATFORM_MEMORY_BUDGET),
      })
      .default({ platformMemoryBudget: DEFAULT_PLATFORM_MEMORY_BUDGET }),
    policy: z
      .strictObject({
        waivers: z.array(waiverSchema).default([]),
        /**
         * Registries (or `registry/path` prefixes) every container image must come from; checked by the
         * `image-registry` rule. Images without a registry are Docker Hub's (`docker.io`).
         * @default unset: the rule does not run
         */
        allowedRegistries: z
          .array(z.string().regex(/^[a-z0-9.-]+(?::\d+)?(?:\/[a-z0-9._-]+)*$/, "must be a registry host (with an optional port and path), such as ghcr.io or git.example.org/team"))
          .min(1, "list at least one registry, or leave allowedRegistries out")
          .optional(),
      })
      .default({ waivers: [] }),
  })
  .superRefine((cfg, ctx) => {
    const dup = <T>(items: readonly T[], key: (t: T) => string, path: (i: number) => (string | number)[], what: string) => {
      const seen = new Map<string, number>();
      items.forEach((it, i) => {
        const k = key(it);
        if (seen.has(k)) ctx.addIssue({ code: "custom", path: path(i), message: `duplicate ${what} '${k}' (first at index ${seen.get(k)})` });
        else seen.set(k, i);
      });
    };
    checkAccess(cfg, (path, message) => ctx.addIssue({ code: "custom", path, message }));
    dup(cfg.nodes, (n) => n.name, (i) => ["nodes", i, "name"], "node name");
    dup(cfg.nodes, (n) => n.address, (i) => ["nodes", i, "address"], "node address");
    dup(cfg.apps, (a) => a.name, (i) => ["apps", i, "name"], "app name");
    dup(cfg.apps, (a) => a.host, (i) => ["apps", i, "host"], "app host");
    if (cfg.nodes.length > 0 && cfg.nodes.every((n) => n.roles.length > 0) && !cfg.nodes.some((n) => n.roles.includes("control-plane")))
      ctx.addIssue({ code: "custom", path: ["nodes"], message: "at least one node needs the control-plane role" });
    // Checks derived from the domain only make sense once the domain itself is valid.
    const domainOk = HOSTNAME.test(cfg.domain);
    cfg.apps.forEach((a, i) => {
      const taken = platformHosts(cfg).get(a.host);
      if (taken) ctx.addIssue({ code: "custom", path: ["apps", i, "host"], message: `${a.host} is already ${taken}; two Ingresses cannot claim one host` });
      if (domainOk && !isSingleLevelSubdomain(a.host, cfg.domain))
        ctx.addIssue({
          code: "custom",
          path: ["apps", i, "host"],
          message: `must be one level below ${cfg.domain} (the cluster tunnel routes *.${cfg.domain} only)`,
        });
      if (a.host === cfg.tunnels.forgejo.hostname)
        ctx.addIssue({ code: "custom", path: ["apps", i, "host"], message: "is the Forgejo host name, routed by the other tunnel" });
      appSecretProblems(a, (path, message) => ctx.addIssue({ code: "custom", path: ["apps", i, ...path], message }));
      if (a.metricsPort !== undefined) {
        if (a.metricsPort === a.port)
          ctx.addIssue({ code: "custom", path: ["apps", i, "metricsPort"], message: `is the app's port ${a.port}; leave metricsPort out to serve metrics there, or give the metrics a port of their own` });
        if (a.metricsPath === false)
          ctx.addIssue({ code: "custom", path: ["apps", i, "metricsPort"], message: "is set but metricsPath is false (the app serves no metrics); remove one of them" });
        if ("METRICS_PORT" in a.env) ctx.addIssue({ code: "custom", path: ["apps", i, "env", "METRICS_PORT"], message: "is set by metricsPort; remove it here" });
      }
      if (a.readsPrometheus && "PROMETHEUS_URL" in a.env)
        ctx.addIssue({ code: "custom", path: ["apps", i, "env", "PROMETHEUS_URL"], message: "is set by readsPrometheus: true; remove it here" });
      if (a.resources && !quantityLE(a.resources.requests.memory, a.resources.limits.memory))
        ctx.addIssue({ code: "custom", path: ["apps", i, "resources", "requests", "memory"], message: "must not exceed limits.memory" });
    });
    if (domainOk && !isSingleLevelSubdomain(cfg.tunnels.forgejo.hostname, cfg.domain))
      ctx.addIssue({ code: "custom", path: ["tunnels", "forgejo", "hostname"], message: `must be one level below ${cfg.domain}` });
    if (URL.canParse(cfg.git.url) && new URL(cfg.git.url).hostname !== cfg.tunnels.forgejo.hostname)
      ctx.addIssue({ code: "custom", path: ["git", "url"], message: `host must be the Forgejo tunnel host name ${cfg.tunnels.forgejo.hostname}` });
    if (cfg.backup) {
      dup(cfg.backup.policies, (p) => p.namespace, (i) => ["backup", "policies", i, "namespace"], "backup policy for namespace");
      dup(cfg.backup.exemptions, (e) => e.claim, (i) => ["backup", "exemptions", i, "claim"], "exemption for claim");
    }
    cfg.apps.forEach((a, i) => {
      if (!a.storage) return;
      const mount = a.storage.mountPath.replace(/\/+$/, "");
      const tmp = a.tmpDir.replace(/\/+$/, "");
      if (mount === tmp || mount.startsWith(`${tmp}/`) || tmp.startsWith(`${mount}/`))
        ctx.addIssue({ code: "custom", path: ["apps", i, "storage", "mountPath"], message: `${a.storage.mountPath} overlaps tmpDir (${a.tmpDir}); give the volume a folder of its own` });
      a.secrets.forEach((s) => {
        const sp = s.mountPath?.replace(/\/+$/, "");
        if (sp && (sp === mount || sp.startsWith(`${mount}/`) || mount.startsWith(`${sp}/`)))
          ctx.addIssue({ code: "custom", path: ["apps", i, "storage", "mountPath"], message: `${a.storage!.mountPath} overlaps the mountPath of secret '${s.name}'; give each volume a folder of its own` });
      });
    });
    cfg.policy.waivers.forEach((w, i) => {
      if (/^\d{4}-\d{2}-\d{2}$/.test(w.expires) && !isRealDate(w.expires))
        ctx.addIssue({ code: "custom", path: ["policy", "waivers", i, "expires"], message: "is not a real date" });
    });
  });

/** Clashes between an app's secrets and the rest of the app: names, variables and folders each used once. */
function appSecretProblems(a: z.output<typeof appSchema>, report: (path: (string | number)[], message: string) => void): void {
  const envFrom = new Map<string, string>(Object.keys(a.env).map((k) => [k, `env.${k}`]));
  const mounts = new Map<string, string>([[a.tmpDir.replace(/\/+$/, ""), "tmpDir"]]);
  const names = new Map<string, number>();
  a.secrets.forEach((s, j) => {
    if (s.name === `${a.name}-tls`) report(["secrets", j, "name"], `'${s.name}' is the Secret cert-manager writes the app's certificate to; pick another name`);
    if (names.has(s.name)) report(["secrets", j, "name"], `duplicate secret '${s.name}' (first at secrets[${names.get(s.name)}])`);
    else names.set(s.name, j);
    if (s.env)
      s.keys.forEach((k, n) => {
        const first = envFrom.get(k);
        if (first) report(["secrets", j, "keys", n], `environment variable ${k} is already set by ${first}`);
        else envFrom.set(k, `secrets[${j}]`);
      });
    if (s.mountPath !== undefined) {
      const path = s.mountPath.replace(/\/+$/, "");
      const clash = [...mounts].find(([m]) => m === path || path.startsWith(`${m}/`) || m.startsWith(`${path}/`));
      if (clash) report(["secrets", j, "mountPath"], `${s.mountPath} overlaps ${clash[1]} (${clash[0]}); give each volume a folder of its own`);
      else mounts.set(path, `secrets[${j}].mountPath`);
    }
  });
}

/**
 * Why an app may not take this name, or undefined when it may. An app's name is its namespace, its Argo
 * CD Application and its construct id, so it must not collide with the platform's.
 */
export function reservedAppName(name: string): string | undefined {
  if (name === "root") return "the app-of-apps Application is named root";
  if (PLATFORM_COMPONENTS.has(name)) return "a platform component has this name (and namespace)";
  if (name.startsWith("kube-")) return "Kubernetes keeps the kube- prefix for its own namespaces";
  if (RESERVED_NAMESPACES.has(name)) return "a platform namespace has this name";
  return undefined;
}

/** The platform's components (= namespaces = Applications), in src/platform/platform.ts. */
export const PLATFORM_COMPONENTS = new Set(["argocd", "cert-manager", "local-path-storage", "monitoring", "ingress-nginx", "cloudflared", "loki", "alloy", "velero", "backup-canary"]);

/** Host names the platform's own UIs are served on, and what serves them. */
export function platformHosts(cfg: { domain: string; components: { argocd: { subdomain: string }; monitoring?: { grafana: { subdomain: string } } | undefined } }): Map<string, string> {
  const hosts = new Map([[`${cfg.components.argocd.subdomain}.${cfg.domain}`, "the Argo CD UI (components.argocd.subdomain)"]]);
  const grafana = cfg.components.monitoring?.grafana.subdomain;
  if (grafana !== undefined) hosts.set(`${grafana}.${cfg.domain}`, "the Grafana UI (components.monitoring.grafana.subdomain)");
  return hosts;
}

/** Namespaces the platform itself uses or plans to; apps may not take them. */
export const RESERVED_NAMESPACES = new Set([
  "default",
  "kube-system",
  "kube-public",
  "kube-node-lease",
  "argocd",
  "ingress-nginx",
  "cert-manager",
  "cloudflared",
  "local-path-storage",
  "monitoring",
  "velero",
  "backup-canary",
  // The restore drill's scratch namespace: Velero creates it during a drill and the drill deletes it.
  "backup-drill",
]);

/** `2026-02-30` matches the pattern but is no day of the calendar. */
function isRealDate(ymd: string): boolean {
  const d = new Date(`${ymd}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === ymd;
}

function isSingleLevelSubdomain(host: string, domain: string): boolean {
  return host.endsWith("." + domain) && !host.slice(0, -domain.length - 1).includes(".");
}

const UNITS: Record<string, number> = { "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };
export function parseQuantity(q: string): number {
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(q);
  if (!m) return Number.NaN;
  return Number(m[1]) * (UNITS[m[2] ?? ""] ?? Number.NaN);
}
function quantityLE(a: string, b: string): boolean {
  return parseQuantity(a) <= parseQuantity(b);
}

/** What an operator writes (defaults optional). */
export type HomelabInput = z.input<typeof homelabSchema>;
/** The validated config with every default filled in; what the renderer reads. */
export type HomelabConfig = z.output<typeof homelabSchema>;
export type AppConfig = z.output<typeof appSchema>;
export type AppStorage = z.output<typeof appStorageSchema>;
export type MonitoringConfig = z.output<typeof monitoringSchema>;
export type NodeConfig = z.output<typeof nodeSchema>;
export type Waiver = z.output<typeof waiverSchema>;

export const versionsSchema = z.strictObject({
  charts: z.record(
    dnsLabel,
    z.strictObject({ repo: z.url({ protocol: /^https?$/ }), version: z.string().regex(/^v?\d+\.\d+\.\d+/, "must be a semantic version") }),
  ),
  images: z.record(
    dnsLabel,
    z.strictObject({ image: z.string().min(1), tag: z.string().min(1).refine((t) => t !== "latest", "`latest` is not pinned") }),
  ),
});
export type Versions = z.output<typeof versionsSchema>;
