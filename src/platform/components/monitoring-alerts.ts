/**
 * The monitoring stack's own alerts: whether Prometheus itself works (rules evaluate, targets answer,
 * the heartbeat flows) and the state of the node it watches (disk, memory, clock). The chart ships rules
 * of the same names without tests or runbooks here; `CHART_RULES_REPLACED` drops those so that one
 * condition never notifies twice.
 */
import type { AlertRule } from "../lib/alerts.ts";

const NODE = 'instance="192.168.1.253:9100",job="node-exporter"';

/** The chart's default rules these replace (defaultRules.disabled). */
export const CHART_RULES_REPLACED = [
  "Watchdog",
  "TargetDown",
  "PrometheusRuleFailures",
  "PrometheusTargetSyncFailure",
  "NodeFilesystemSpaceFillingUp",
  "NodeFilesystemAlmostOutOfSpace",
  "NodeMemoryHighUtilization",
  "NodeClockSkewDetected",
  "NodeClockNotSynchronising",
  "KubePersistentVolumeFillingUp",
] as const;

export const MONITORING_ALERTS: readonly AlertRule[] = [
  {
    alert: "Watchdog",
    // Always true while Prometheus scrapes anything: Alertmanager sends it to the dead man's switch every
    // minute, and the switch notifies the phone when the pings stop (lib/alertmanager.ts).
    expr: "count(up == 1) > 0",
    severity: "info",
    summary: "Heartbeat: the alerting pipeline works",
    description: "Always firing while Prometheus scrapes its targets and Alertmanager delivers; its absence is the alert.",
    runbook: "monitoring",
    tests: {
      fires: { series: [{ series: 'up{job="prometheus",instance="prometheus:9090"}', values: "1x10" }], at: "5m", labels: {} },
      quiet: { series: [{ series: 'up{job="prometheus",instance="prometheus:9090"}', values: "0x10" }], at: "5m" },
    },
  },
  {
    alert: "TargetDown",
    expr: "min by (namespace, job) (up) == 0",
    for: "15m",
    severity: "warning",
    summary: "A scrape target is down",
    description: "A target of job {{ $labels.job }} in namespace {{ $labels.namespace }} has not answered Prometheus for 15 minutes: its metrics and alerts are blind.",
    runbook: "monitoring",
    tests: {
      fires: {
        series: [
          { series: 'up{job="cloudflared",namespace="cloudflared",instance="10.244.0.7:2000"}', values: "0x30" },
          { series: 'up{job="cloudflared",namespace="cloudflared",instance="10.244.0.8:2000"}', values: "1x30" },
        ],
        at: "20m",
        labels: { job: "cloudflared", namespace: "cloudflared" },
        annotations: { description: "A target of job cloudflared in namespace cloudflared has not answered Prometheus for 15 minutes: its metrics and alerts are blind." },
      },
      // A restart of a few minutes stays quiet.
      quiet: { series: [{ series: 'up{job="cloudflared",namespace="cloudflared",instance="10.244.0.7:2000"}', values: "1x10 0x5 1x15" }], at: "20m" },
    },
  },
  {
    alert: "PrometheusRuleFailures",
    expr: "sum by (rule_group) (increase(prometheus_rule_evaluation_failures_total[5m])) > 0",
    for: "15m",
    severity: "critical",
    summary: "Prometheus fails to evaluate alert rules",
    description: "Rules of group {{ $labels.rule_group }} fail to evaluate: the alerts they define cannot fire.",
    runbook: "monitoring",
    tests: {
      fires: {
        series: [{ series: 'prometheus_rule_evaluation_failures_total{rule_group="/etc/prometheus/rules/argocd-sync.yaml;argocd-sync",instance="10.244.0.9:9090"}', values: "0+1x30" }],
        at: "25m",
        labels: { rule_group: "/etc/prometheus/rules/argocd-sync.yaml;argocd-sync" },
        annotations: { description: "Rules of group /etc/prometheus/rules/argocd-sync.yaml;argocd-sync fail to evaluate: the alerts they define cannot fire." },
      },
      quiet: { series: [{ series: 'prometheus_rule_evaluation_failures_total{rule_group="g",instance="10.244.0.9:9090"}', values: "3x30" }], at: "25m" },
    },
  },
  {
    alert: "PrometheusScrapeFailures",
    // Service discovery or relabelling that fails for a scrape job: its targets silently disappear.
    expr: "sum by (scrape_job) (increase(prometheus_target_sync_failed_total[10m])) > 0",
    for: "15m",
    severity: "warning",
    summary: "Prometheus cannot build the targets of a scrape job",
    description: "Scrape job {{ $labels.scrape_job }} fails to sync its targets: they are no longer scraped.",
    runbook: "monitoring",
    tests: {
      fires: {
        series: [{ series: 'prometheus_target_sync_failed_total{scrape_job="podMonitor/site/site/0"}', values: "0+1x30" }],
        at: "25m",
        labels: { scrape_job: "podMonitor/site/site/0" },
        annotations: { description: "Scrape job podMonitor/site/site/0 fails to sync its targets: they are no longer scraped." },
      },
      quiet: { series: [{ series: 'prometheus_target_sync_failed_total{scrape_job="podMonitor/site/site/0"}', values: "2x30" }], at: "25m" },
    },
  },
  {
    alert: "NodeDiskFillingUp",
    expr: 'min by (instance, mountpoint) (node_filesystem_avail_bytes{fstype!~"tmpfs|ramfs|overlay"} / node_filesystem_size_bytes{fstype!~"tmpfs|ramfs|overlay"}) < 0.10',
    for: "15m",
    severity: "critical",
    summary: "The node's disk is almost full",
    description: "{{ $labels.mountpoint }} on {{ $labels.instance }} has less than 10% free: volumes, images and logs share it.",
    runbook: "monitoring",
    tests: {
      fires: {
        series: [
          { series: `node_filesystem_avail_bytes{${NODE},mountpoint="/",fstype="ext4",device="/dev/nvme0n1p2"}`, values: "40e9x30" },
          { series: `node_filesystem_size_bytes{${NODE},mountpoint="/",fstype="ext4",device="/dev/nvme0n1p2"}`, values: "1000e9x30" },
        ],
        at: "20m",
        labels: { instance: "192.168.1.253:9100", mountpoint: "/" },
        annotations: { description: "/ on 192.168.1.253:9100 has less than 10% free: volumes, images and logs share it." },
      },
      // A full tmpfs is not the disk.
      quiet: {
        series: [
          { series: `node_filesystem_avail_bytes{${NODE},mountpoint="/",fstype="ext4",device="/dev/nvme0n1p2"}`, values: "400e9x30" },
          { series: `node_filesystem_size_bytes{${NODE},mountpoint="/",fstype="ext4",device="/dev/nvme0n1p2"}`, values: "1000e9x30" },
          { series: `node_filesystem_avail_bytes{${NODE},mountpoint="/run",fstype="tmpfs",device="tmpfs"}`, values: "0x30" },
          { series: `node_filesystem_size_bytes{${NODE},mountpoint="/run",fstype="tmpfs",device="tmpfs"}`, values: "1e9x30" },
        ],
        at: "20m",
      },
    },
  },
  {
    alert: "NodeMemoryLow",
    expr: "min by (instance) (node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes) < 0.10",
    for: "15m",
    severity: "warning",
    summary: "The node is running out of memory",
    description: "{{ $labels.instance }} has had less than 10% of its memory available for 15 minutes: the kernel will soon kill pods.",
    runbook: "monitoring",
    tests: {
      fires: {
        series: [
          { series: `node_memory_MemAvailable_bytes{${NODE}}`, values: "3e9x30" },
          { series: `node_memory_MemTotal_bytes{${NODE}}`, values: "64e9x30" },
        ],
        at: "20m",
        labels: { instance: "192.168.1.253:9100" },
        annotations: { description: "192.168.1.253:9100 has had less than 10% of its memory available for 15 minutes: the kernel will soon kill pods." },
      },
      quiet: {
        series: [
          { series: `node_memory_MemAvailable_bytes{${NODE}}`, values: "30e9x30" },
          { series: `node_memory_MemTotal_bytes{${NODE}}`, values: "64e9x30" },
        ],
        at: "20m",
      },
    },
  },
  {
    alert: "NodeClockSkew",
    // node-exporter's timex collector reads the kernel's view of chrony's discipline.
    expr: "max by (instance) (abs(node_timex_offset_seconds)) > 0.05 or min by (instance) (min_over_time(node_timex_sync_status[5m])) == 0",
    for: "10m",
    severity: "warning",
    summary: "The node's clock is off",
    description: "The clock of {{ $labels.instance }} is more than 50 ms off or not synchronised: certificates, tokens and logs depend on it.",
    runbook: "monitoring",
    tests: {
      fires: {
        series: [
          { series: `node_timex_offset_seconds{${NODE}}`, values: "0.3x30" },
          { series: `node_timex_sync_status{${NODE}}`, values: "1x30" },
        ],
        at: "20m",
        labels: { instance: "192.168.1.253:9100" },
        annotations: { description: "The clock of 192.168.1.253:9100 is more than 50 ms off or not synchronised: certificates, tokens and logs depend on it." },
      },
      quiet: {
        series: [
          { series: `node_timex_offset_seconds{${NODE}}`, values: "0.002x30" },
          { series: `node_timex_sync_status{${NODE}}`, values: "1x30" },
        ],
        at: "20m",
      },
    },
  },
];
