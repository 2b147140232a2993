/**
 * Alertmanager's configuration for the operator's phone: alerts go to an ntfy topic through Alertmanager's
 * plain webhook, and ntfy's own message templating turns Alertmanager's JSON into a readable notification
 * (docs/decisions/0004-alerts-to-ntfy.md). Priority and tags follow the severity; resolved notifications
 * are sent; the Watchdog goes to a heartbeat URL so that silence is noticed. The access token is read from
 * a mounted file, never written into the configuration.
 */
import type { Severity } from "./alerts.ts";

export interface NtfyTarget {
  /** ntfy server, e.g. `https://ntfy.sh`. */
  readonly server: string;
  /** Topic; reserve it on the server so that only the token may publish and read. */
  readonly topic: string;
  /** Path of the file holding the access token inside the Alertmanager pod (a mounted Secret). */
  readonly tokenFile: string;
  /**
   * A dead man's switch (e.g. a healthchecks.io ping URL) the Watchdog reaches every few minutes; it
   * notifies the phone itself when the pings stop. @default none: the Watchdog is dropped
   */
  readonly heartbeatUrl?: string;
}

/** Receiver names, by where a route ends. */
export const RECEIVERS = { critical: "ntfy-critical", warning: "ntfy-warning", heartbeat: "heartbeat", none: "null" } as const;

/** ntfy priority (1-5) and tags (emoji short codes) per severity. */
const STYLE: Record<Exclude<Severity, "info">, { priority: number; tags: string }> = {
  critical: { priority: 5, tags: "rotating_light" },
  warning: { priority: 3, tags: "warning" },
};

// Go templates ntfy applies to Alertmanager's webhook body (`tpl=1`): a title and one paragraph per alert
// with its description and runbook link.
const TITLE = '{{if eq .status "resolved"}}Resolved: {{end}}{{.commonAnnotations.summary}}{{if not .commonAnnotations.summary}}{{.commonLabels.alertname}}{{end}}';
const MESSAGE = "{{range .alerts}}{{if .annotations.description}}{{.annotations.description}}{{else}}{{.labels.alertname}}{{end}}{{if .annotations.runbook_url}}\nRunbook: {{.annotations.runbook_url}}{{end}}\n{{end}}";

/** The topic URL with ntfy's templating, priority and tags for one severity. */
export function ntfyUrl(t: NtfyTarget, severity: Exclude<Severity, "info">): string {
  const q = new URLSearchParams({ tpl: "1", t: TITLE, m: MESSAGE, p: String(STYLE[severity].priority), ta: STYLE[severity].tags });
  return `${t.server.replace(/\/$/, "")}/${encodeURIComponent(t.topic)}?${q.toString()}`;
}

function ntfyReceiver(t: NtfyTarget, severity: Exclude<Severity, "info">): Record<string, unknown> {
  return {
    name: RECEIVERS[severity],
    webhook_configs: [
      {
        url: ntfyUrl(t, severity),
        send_resolved: true,
        // The token stays in the mounted Secret; Alertmanager reads the file for each request.
        http_config: { authorization: { type: "Bearer", credentials_file: t.tokenFile } },
        max_alerts: 10,
      },
    ],
  };
}

export function alertmanagerConfig(t: NtfyTarget): Record<string, unknown> {
  return {
    route: {
      receiver: RECEIVERS.warning,
      group_by: ["alertname", "namespace"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "12h",
      routes: [
        // The heartbeat first: it must not be grouped with, or inhibited by, anything else.
        { receiver: t.heartbeatUrl ? RECEIVERS.heartbeat : RECEIVERS.none, matchers: ['alertname="Watchdog"'], group_wait: "0s", group_interval: "1m", repeat_interval: "1m" },
        // `none` is the chart's InfoInhibitor helper: never a notification.
        { receiver: RECEIVERS.none, matchers: ['severity=~"info|none"'] },
        { receiver: RECEIVERS.critical, matchers: ['severity="critical"'], repeat_interval: "4h" },
        { receiver: RECEIVERS.warning, matchers: ['severity="warning"'] },
      ],
    },
    // A critical alert silences the warning of the same name and namespace (e.g. a volume at 90% and at 95%).
    inhibit_rules: [{ source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ["alertname", "namespace"] }],
    receivers: [
      ntfyReceiver(t, "critical"),
      ntfyReceiver(t, "warning"),
      ...(t.heartbeatUrl ? [{ name: RECEIVERS.heartbeat, webhook_configs: [{ url: t.heartbeatUrl, send_resolved: false }] }] : []),
      { name: RECEIVERS.none },
    ],
  };
}
