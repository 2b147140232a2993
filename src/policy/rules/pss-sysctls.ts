import { allPodSpecs } from "../lib/pods.ts";
import { atLeast } from "../lib/version.ts";
import { arr, rec, str, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

/** Namespaced sysctls the kubelet considers safe, by the Kubernetes version that made them so. */
const SAFE: readonly (readonly [string, string])[] = [
  ["kernel.shm_rmid_forced", "1.0"],
  ["net.ipv4.ip_local_port_range", "1.0"],
  ["net.ipv4.ip_unprivileged_port_start", "1.0"],
  ["net.ipv4.tcp_syncookies", "1.0"],
  ["net.ipv4.ping_group_range", "1.0"],
  ["net.ipv4.ip_local_reserved_ports", "1.27"],
  ["net.ipv4.tcp_keepalive_time", "1.29"],
  ["net.ipv4.tcp_fin_timeout", "1.29"],
  ["net.ipv4.tcp_keepalive_intvl", "1.29"],
  ["net.ipv4.tcp_keepalive_probes", "1.29"],
  ["net.ipv4.tcp_rmem", "1.32"],
  ["net.ipv4.tcp_wmem", "1.32"],
];

export const pssSysctls: Rule = {
  id: "pss-sysctls",
  title: "Only safe sysctls",
  severity: "error",
  why: "Unsafe sysctls change kernel settings shared with every other pod on the node (and the kubelet refuses them unless told otherwise).",
  fix: "Remove the sysctl, or tune it on the host if the whole node really needs it.",
  check(ctx) {
    const safe = new Set(SAFE.filter(([, since]) => atLeast(ctx.kubernetesVersion, since)).map(([name]) => name));
    const out: Violation[] = [];
    for (const pod of allPodSpecs(ctx.objects)) {
      arr(rec(pod.spec.securityContext).sysctls).forEach((s, i) => {
        const name = str(rec(s).name) ?? "";
        if (!safe.has(name))
          out.push(violation(this, pod.owner, `${pod.path}/securityContext/sysctls/${i}`, `sysctl '${name}' is not a safe sysctl on Kubernetes ${ctx.kubernetesVersion}`));
      });
    }
    return out;
  },
};
