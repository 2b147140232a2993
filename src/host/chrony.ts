/**
 * chrony's configuration. Certificates, etcd leases and log timestamps all assume a right clock. chrony
 * disciplines the kernel clock, and node-exporter reads the kernel's view of it (`node_timex_offset_seconds`,
 * `node_timex_sync_status`): that is what Prometheus sees of clock skew, and `rtcsync` is what lets the
 * kernel report itself synchronised.
 */
import type { HomelabConfig } from "../config/schema.ts";

export function chronyConf(config: HomelabConfig): string {
  return [
    "# /etc/chrony/chrony.conf — rendered by homelab build from homelab.config.ts (host.ntpServers)",
    ...config.host.ntpServers.map((s) => `pool ${s} iburst maxsources 2`),
    "# A clock more than a second off at boot is stepped (three times at most), then slewed.",
    "makestep 1.0 3",
    "# Marks the kernel clock synchronised and keeps the RTC right (node_timex_sync_status = 1).",
    "rtcsync",
    "driftfile /var/lib/chrony/chrony.drift",
    "# Never serve time to others; chronyc still works over the local socket.",
    "cmdport 0",
    "leapsectz right/UTC",
    "logdir /var/log/chrony",
    "",
  ].join("\n");
}
