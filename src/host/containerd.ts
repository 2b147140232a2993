/**
 * containerd's configuration (/etc/containerd/config.toml): the CRI plugin on (Debian's package and Docker's
 * leave it as is, Docker shares this containerd under its own namespace), runc with the systemd cgroup
 * driver, the same driver the kubelet uses; two drivers on one box make the node unstable under pressure.
 */
import type { Versions } from "../config/schema.ts";
import { imageRef } from "../platform/lib/context.ts";

export function containerdConfig(versions: Versions): string {
  return [
    "# containerd for the kubelet (CRI) and Docker alike. Config version 2: containerd 1.7 reads it, 2.x migrates it.",
    "version = 2",
    "",
    '[plugins."io.containerd.grpc.v1.cri"]',
    `  sandbox_image = "${imageRef(versions, "pause")}"`,
    "",
    '[plugins."io.containerd.grpc.v1.cri".containerd]',
    '  default_runtime_name = "runc"',
    "",
    '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
    '  runtime_type = "io.containerd.runc.v2"',
    "",
    '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
    "  SystemdCgroup = true",
    "",
  ].join("\n");
}
