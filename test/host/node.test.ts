import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseAllDocuments, parse } from "yaml";
import { CONTROL_PLANE_METRICS } from "../../src/cluster/control-plane.ts";
import { chronyConf } from "../../src/host/chrony.ts";
import { calicoInstallation, calicoOperatorUrl } from "../../src/host/cni.ts";
import { containerdConfig } from "../../src/host/containerd.ts";
import { kubeadmDocuments } from "../../src/host/kubeadm.ts";
import { modulesLoadFile, sysctlFile } from "../../src/host/kernel.ts";
import { forgejoTunnelConfig, tunnelRoutes } from "../../src/host/tunnels.ts";
import { runnerConfig } from "../../src/host/runner.ts";
import { renderHosts } from "../../src/host/hosts.ts";
import { platform } from "../../src/platform/platform.ts";
import { render } from "../../src/render/render.ts";
import { ConfigError } from "../../src/config/load.ts";
import { REPO, config, versions } from "../helpers.ts";

const NODE_DIR = join(REPO, "hosts/k8s-worker-3090");
type Doc = Record<string, any>;
const kubeadmFile = () => parseAllDocuments(readFileSync(join(NODE_DIR, "kubeadm.yaml"), "utf8")).map((d) => d.toJSON() as Doc);
const byKind = (docs: Doc[], kind: string) => docs.find((d) => d.kind === kind)!;

const twoNodes = () =>
  config({
    nodes: [
      { name: "cp-1", address: "10.0.0.1", roles: ["control-plane"] },
      { name: "worker-1", address: "10.0.0.2", roles: ["worker"] },
    ],
  });

describe("kubeadm", () => {
  it("InitConfiguration: the node's address and name, containerd's socket, no control-plane taint on a single node", () => {
    const init = byKind(kubeadmFile(), "InitConfiguration");
    assert.equal(init.apiVersion, "kubeadm.k8s.io/v1beta4");
    assert.deepEqual(init.localAPIEndpoint, { advertiseAddress: "192.168.1.253", bindPort: 6443 });
    assert.equal(init.nodeRegistration.name, "k8s-worker-3090");
    assert.equal(init.nodeRegistration.criSocket, "unix:///run/containerd/containerd.sock");
    assert.deepEqual(init.nodeRegistration.taints, []);
    assert.deepEqual(init.nodeRegistration.kubeletExtraArgs, [{ name: "node-ip", value: "192.168.1.253" }]);
  });

  it("ClusterConfiguration: the config's subnets and minor, control-plane metrics where Prometheus scrapes them", () => {
    const cluster = byKind(kubeadmFile(), "ClusterConfiguration");
    assert.deepEqual(cluster.networking, { podSubnet: "10.244.0.0/16", serviceSubnet: "10.96.0.0/12", dnsDomain: "cluster.local" });
    assert.equal(cluster.kubernetesVersion, "stable-1.34");
    assert.equal(cluster.controlPlaneEndpoint, "192.168.1.253:6443");
    assert.deepEqual(cluster.controllerManager.extraArgs, [{ name: "bind-address", value: "0.0.0.0" }]);
    assert.deepEqual(cluster.scheduler.extraArgs, [{ name: "bind-address", value: "0.0.0.0" }]);
    assert.deepEqual(cluster.etcd.local.extraArgs, [{ name: "listen-metrics-urls", value: "http://0.0.0.0:2381" }]);
    // The same values as src/cluster/control-plane.ts, which the monitoring stack reads.
    assert.equal(cluster.controllerManager.extraArgs[0].value, CONTROL_PLANE_METRICS.controllerManager.bindAddress);
    assert.equal(cluster.etcd.local.extraArgs[0].value, CONTROL_PLANE_METRICS.etcd.listenMetricsUrls);
  });

  it("KubeletConfiguration: systemd cgroups, reservations and image GC for a small box", () => {
    const k = byKind(kubeadmFile(), "KubeletConfiguration");
    assert.equal(k.apiVersion, "kubelet.config.k8s.io/v1beta1");
    assert.equal(k.cgroupDriver, "systemd");
    assert.deepEqual(k.systemReserved, { cpu: "500m", memory: "1536Mi", "ephemeral-storage": "2Gi" });
    assert.deepEqual(k.kubeReserved, { cpu: "250m", memory: "512Mi", "ephemeral-storage": "1Gi" });
    assert.deepEqual(k.evictionHard, { "memory.available": "300Mi", "nodefs.available": "10%", "nodefs.inodesFree": "5%", "imagefs.available": "10%" });
    assert.equal(k.imageGCHighThresholdPercent, 75);
    assert.equal(k.imageGCLowThresholdPercent, 65);
    assert.equal(k.imageMaximumGCAge, "168h");
    assert.ok(k.imageGCLowThresholdPercent < k.imageGCHighThresholdPercent);
  });

  it("KubeProxyConfiguration: kube-proxy stays (iptables), its metrics on the address the monitoring stack scrapes", () => {
    const p = byKind(kubeadmFile(), "KubeProxyConfiguration");
    assert.equal(p.mode, "iptables");
    assert.equal(p.metricsBindAddress, "0.0.0.0:10249");
    assert.equal(p.metricsBindAddress, CONTROL_PLANE_METRICS.kubeProxy.metricsBindAddress);
    assert.equal(p.clusterCIDR, "10.244.0.0/16");
  });

  it("follows the config: other subnets, and with a dedicated control plane its taint stays and only it initialises", () => {
    const c = config({ network: { podCIDR: "10.50.0.0/16", serviceCIDR: "10.60.0.0/16" } });
    const cluster = byKind(kubeadmDocuments(c, c.nodes[0]!), "ClusterConfiguration");
    assert.deepEqual(cluster.networking, { podSubnet: "10.50.0.0/16", serviceSubnet: "10.60.0.0/16", dnsDomain: "cluster.local" });
    const two = twoNodes();
    const cp = kubeadmDocuments(two, two.nodes[0]!);
    assert.equal("taints" in byKind(cp, "InitConfiguration").nodeRegistration, false);
    const worker = kubeadmDocuments(two, two.nodes[1]!);
    assert.deepEqual(worker.map((d) => d.kind), ["KubeletConfiguration", "KubeProxyConfiguration"]);
  });
});

describe("the node's operating system", () => {
  it("containerd: CRI with runc and the systemd cgroup driver, the pinned pause image", () => {
    const toml = readFileSync(join(NODE_DIR, "containerd/config.toml"), "utf8");
    assert.equal(toml, `# Rendered by \`homelab build\` from homelab.config.ts and versions.yaml. Do not edit: edit the source and rebuild.\n${containerdConfig(versions())}`);
    assert.match(toml, /^version = 2$/m);
    assert.match(toml, /\[plugins\."io\.containerd\.grpc\.v1\.cri"\.containerd\.runtimes\.runc\.options\]\n {2}SystemdCgroup = true\n/);
    assert.match(toml, /runtime_type = "io\.containerd\.runc\.v2"/);
    assert.match(toml, /sandbox_image = "registry\.k8s\.io\/pause:3\.10\.1"/);
  });

  it("kernel: overlay and br_netfilter; bridged traffic through iptables and IP forwarding on", () => {
    assert.deepEqual(modulesLoadFile().split("\n").filter((l) => l && !l.startsWith("#")), ["overlay", "br_netfilter"]);
    const sysctl = Object.fromEntries(sysctlFile().split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split(" = ")));
    assert.deepEqual(sysctl, {
      "net.bridge.bridge-nf-call-iptables": "1",
      "net.bridge.bridge-nf-call-ip6tables": "1",
      "net.ipv4.ip_forward": "1",
      "fs.inotify.max_user_instances": "1024",
      "fs.inotify.max_user_watches": "524288",
    });
    assert.match(readFileSync(join(NODE_DIR, "kernel/sysctl.conf"), "utf8"), /^net\.ipv4\.ip_forward = 1$/m);
  });

  it("chrony: the config's servers, stepping at boot, rtcsync so the kernel (and node-exporter) reports the clock synchronised", () => {
    const conf = readFileSync(join(NODE_DIR, "chrony/chrony.conf"), "utf8");
    assert.deepEqual(conf.split("\n").filter((l) => l.startsWith("pool ")), [
      "pool 0.debian.pool.ntp.org iburst maxsources 2",
      "pool 1.debian.pool.ntp.org iburst maxsources 2",
      "pool 2.debian.pool.ntp.org iburst maxsources 2",
    ]);
    assert.match(conf, /^makestep 1\.0 3$/m);
    assert.match(conf, /^rtcsync$/m);
    assert.match(conf, /^cmdport 0$/m);
    const own = chronyConf(config({ host: { ntpServers: ["ntp.example.org", "192.168.1.1"] } }));
    assert.deepEqual(own.split("\n").filter((l) => l.startsWith("pool ")), ["pool ntp.example.org iburst maxsources 2", "pool 192.168.1.1 iburst maxsources 2"]);
  });

  it("a bad NTP server list is a config error with its key path", () => {
    assert.throws(
      () => config({ host: { ntpServers: [] } }),
      (e: unknown) => e instanceof ConfigError && /host\.ntpServers: name at least one NTP server/.test(e.message),
    );
    assert.throws(
      () => config({ host: { ntpServers: ["not a host"] } }),
      (e: unknown) => e instanceof ConfigError && /host\.ntpServers\[0\]/.test(e.message),
    );
  });
});

describe("the CNI", () => {
  it("Calico's Installation: the config's pod CIDR, the iptables data plane (kube-proxy stays), VXLAN without BGP", () => {
    const docs = parseAllDocuments(readFileSync(join(NODE_DIR, "cni/calico.yaml"), "utf8")).map((d) => d.toJSON() as Doc);
    const inst = byKind(docs, "Installation");
    assert.equal(inst.apiVersion, "operator.tigera.io/v1");
    assert.equal(inst.spec.calicoNetwork.linuxDataplane, "Iptables");
    assert.equal(inst.spec.calicoNetwork.bgp, "Disabled");
    assert.deepEqual(inst.spec.calicoNetwork.ipPools, [{ name: "default-ipv4-ippool", cidr: "10.244.0.0/16", encapsulation: "VXLAN", natOutgoing: "Enabled", nodeSelector: "all()" }]);
    const other = calicoInstallation(config({ network: { podCIDR: "10.50.0.0/16", serviceCIDR: "10.96.0.0/12" } }));
    assert.equal((other[0] as Doc).spec.calicoNetwork.ipPools[0].cidr, "10.50.0.0/16");
    assert.equal(calicoOperatorUrl(versions()), "https://raw.githubusercontent.com/projectcalico/calico/v3.30.4/manifests/tigera-operator.yaml");
  });
});

describe("the tunnels", () => {
  it("the cluster tunnel routes *.<domain>, the git tunnel <git host>; both names from the config", () => {
    assert.deepEqual(tunnelRoutes(config()), [
      { tunnel: "skypalette-cluster", hostname: "*.skypalette.ai" },
      { tunnel: "skypalette-forgejo", hostname: "git.skypalette.ai" },
    ]);
  });

  it("the git tunnel's connector sends git.<domain> to Forgejo's HTTP port on the bridge network and 404s the rest", () => {
    const file = parse(readFileSync(join(NODE_DIR, "cloudflared/forgejo.yaml"), "utf8"));
    assert.deepEqual(file, forgejoTunnelConfig(config()));
    assert.deepEqual(file, {
      tunnel: "skypalette-forgejo",
      "no-autoupdate": true,
      ingress: [{ hostname: "git.skypalette.ai", service: "http://forgejo:3000" }, { service: "http_status:404" }],
    });
    assert.doesNotMatch(readFileSync(join(NODE_DIR, "cloudflared/forgejo.yaml"), "utf8"), /credentials/);
  });

  it("the runner runs one job at a time on its engine's host network and mounts no Docker socket into jobs", () => {
    const file = parse(readFileSync(join(NODE_DIR, "runner/config.yaml"), "utf8")) as Doc;
    assert.deepEqual(runnerConfig(), file);
    assert.equal(file.runner.capacity, 1);
    assert.deepEqual(file.runner.envs, { DOCKER_HOST: "tcp://127.0.0.1:2375" });
    assert.deepEqual(file.container, { network: "host", privileged: false, docker_host: "-", valid_volumes: [] });
  });
});

describe("hosts/<node>/", () => {
  it("renders the files of each node: the Compose stack and the cluster's first steps on the first control-plane node only", () => {
    const two = twoNodes();
    const p = platform(two, versions());
    const plan = renderHosts(p, render(p).files, REPO);
    assert.deepEqual(plan.issues, []);
    const of = (node: string) => plan.files.filter((f) => f.path.startsWith(`hosts/${node}/`)).map((f) => f.path.slice(`hosts/${node}/`.length));
    assert.deepEqual(of("cp-1"), [
      "argocd/values.yaml",
      "bootstrap.sh",
      "chrony/chrony.conf",
      "cloudflared/forgejo.yaml",
      "cni/calico.yaml",
      "compose.yaml",
      "containerd/config.toml",
      "kernel/modules-load.conf",
      "kernel/sysctl.conf",
      "kubeadm.yaml",
      "runner/config.yaml",
    ]);
    assert.deepEqual(of("worker-1"), ["bootstrap.sh", "chrony/chrony.conf", "containerd/config.toml", "kernel/modules-load.conf", "kernel/sysctl.conf", "kubeadm.yaml"]);
  });

  it("the Argo CD values beside the bootstrap are exactly those of its Application", () => {
    const p = platform(config(), versions());
    const values = parse(readFileSync(join(NODE_DIR, "argocd/values.yaml"), "utf8"));
    assert.deepEqual(values, JSON.parse(JSON.stringify(p.components.find((c) => c.name === "argocd")!.helm!.values)));
    const app = parse(readFileSync(join(REPO, "gitops/root/application-argocd.yaml"), "utf8"));
    assert.deepEqual(values, app.spec.sources[0].helm.valuesObject);
  });
});
