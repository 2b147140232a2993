/**
 * The images a chart's containers run, read from the locked values.yaml merged with ours the way each
 * chart's templates compose them (lib/chart-images.ts), and the build refusing a declaration that reads
 * no image.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { runBuild } from "../../src/build/pipeline.ts";
import type { HomelabInput } from "../../src/config/schema.ts";
import { chartImages, readAppVersions, type ContainerImage } from "../../src/platform/lib/chart-images.ts";
import type { ChartContainer } from "../../src/platform/lib/component.ts";
import { platform } from "../../src/platform/platform.ts";
import { lockedDefaults } from "../../src/validate/chart-lock.ts";
import { CHARTS, config, defaultInputCopy, REPO, scratchProject, versions } from "../helpers.ts";
import { THREE_NODES } from "./render-helpers.ts";

const KPS = join(CHARTS, "kube-prometheus-stack-88.5.3");

interface Locked {
  readonly values: unknown;
  readonly dir: string;
}

const locked = new Map<string, Locked>();
before(async () => {
  const found = await lockedDefaults(REPO, versions());
  for (const [name, chart] of found.found) locked.set(name, await chart.defaults());
});

async function imagesOf(patch: Partial<HomelabInput>, component: string, values?: (v: Record<string, unknown>) => Record<string, unknown>, containers?: readonly ChartContainer[]) {
  const c = platform(config(patch), versions()).components.find((x) => x.name === component)!;
  const helm = c.helm!;
  const chart = locked.get(helm.chart)!;
  return chartImages({
    chart: helm.chart,
    appVersions: await readAppVersions(chart.dir),
    defaults: chart.values,
    values: values ? values(structuredClone(helm.values)) : helm.values,
    containers: containers ?? helm.containers ?? [],
  });
}

const pairs = (images: readonly ContainerImage[]) => images.map((i) => [i.container, i.image]);

describe("chart images", () => {
  it("reads kube-prometheus-stack's images from its values.yaml and its grafana subchart's", async () => {
    const { images, problems } = await imagesOf({}, "monitoring");
    assert.deepEqual(problems, []);
    assert.deepEqual(pairs(images), [
      ["prometheus", "quay.io/prometheus/prometheus:v3.14.0-distroless"],
      ["alertmanager", "quay.io/prometheus/alertmanager:v0.34.0"],
      ["config-reloader", "quay.io/prometheus-operator/prometheus-config-reloader:v0.93.1"],
      ["operator", "quay.io/prometheus-operator/prometheus-operator:v0.93.1"],
      ["grafana", "docker.io/grafana/grafana:13.2.0"],
      ["grafana-sidecars", "quay.io/kiwigrid/k8s-sidecar:2.10.1"],
      // Two subcharts that run `v<appVersion>`; the parent turns on node-exporter's distroless variant.
      ["kube-state-metrics", "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.20.0"],
      ["node-exporter", "quay.io/prometheus/node-exporter:v1.12.1-distroless"],
    ]);
    assert.ok(images.every((i) => i.source === "chart default"));
    // The same facts in the locked files: explicit tags where the chart sets them, appVersions where it leaves them empty.
    const values = parse(readFileSync(join(KPS, "values.yaml"), "utf8")) as Record<string, any>;
    assert.deepEqual(values.prometheus.prometheusSpec.image, { registry: "quay.io", repository: "prometheus/prometheus", tag: "v3.14.0-distroless", sha: "", pullPolicy: "IfNotPresent" });
    assert.equal(values.prometheusOperator.image.tag, "");
    assert.equal((parse(readFileSync(join(KPS, "Chart.yaml"), "utf8")) as { appVersion: string }).appVersion, "v0.93.1");
    const grafana = parse(readFileSync(join(KPS, "charts", "grafana", "values.yaml"), "utf8")) as Record<string, any>;
    assert.equal(grafana.image.tag, "");
    assert.equal((parse(readFileSync(join(KPS, "charts", "grafana", "Chart.yaml"), "utf8")) as { appVersion: string }).appVersion, "13.2.0");
    const ksm = parse(readFileSync(join(KPS, "charts", "kube-state-metrics", "values.yaml"), "utf8")) as Record<string, any>;
    assert.deepEqual([ksm.image.registry, ksm.image.repository, ksm.image.tag], ["registry.k8s.io", "kube-state-metrics/kube-state-metrics", ""]);
    assert.equal((parse(readFileSync(join(KPS, "charts", "kube-state-metrics", "Chart.yaml"), "utf8")) as { appVersion: string }).appVersion, "2.20.0");
    const ne = parse(readFileSync(join(KPS, "charts", "prometheus-node-exporter", "values.yaml"), "utf8")) as Record<string, any>;
    assert.deepEqual([ne.image.registry, ne.image.repository, ne.image.tag, ne.image.distroless], ["quay.io", "prometheus/node-exporter", "", false]);
    assert.equal((parse(readFileSync(join(KPS, "charts", "prometheus-node-exporter", "Chart.yaml"), "utf8")) as { appVersion: string }).appVersion, "1.12.1");
    assert.equal(values["prometheus-node-exporter"].image.distroless, true);
  });

  it("appends a variant's suffix only when its flag is true, to a set tag too", async () => {
    const ne = (image: Record<string, unknown>) =>
      imagesOf({}, "monitoring", (v) => ({ ...v, "prometheus-node-exporter": { ...(v["prometheus-node-exporter"] as object), image } })).then(
        (r) => r.images.find((i) => i.container === "node-exporter")!.image,
      );
    assert.equal(await ne({ distroless: false }), "quay.io/prometheus/node-exporter:v1.12.1");
    assert.equal(await ne({ tag: "v1.13.0" }), "quay.io/prometheus/node-exporter:v1.13.0-distroless");
    // Helm's ternary wants a boolean: a string "true" is not the flag.
    assert.equal(await ne({ distroless: "true" }), "quay.io/prometheus/node-exporter:v1.12.1");
  });

  it("composes each chart's own way: a shared block, a registry and namespace, a digest", async () => {
    const argo = await imagesOf({}, "argocd");
    assert.deepEqual(pairs(argo.images), [
      ["application-controller", "quay.io/argoproj/argocd:v3.4.4"],
      ["server", "quay.io/argoproj/argocd:v3.4.4"],
      ["repo-server", "quay.io/argoproj/argocd:v3.4.4"],
      ["applicationset-controller", "quay.io/argoproj/argocd:v3.4.4"],
      ["notifications-controller", "quay.io/argoproj/argocd:v3.4.4"],
      ["redis", "ecr-public.aws.com/docker/library/redis:8.2.3-alpine"],
    ]);
    assert.deepEqual(pairs((await imagesOf({}, "cert-manager")).images), [
      ["controller", "quay.io/jetstack/cert-manager-controller:v1.21.1"],
      ["webhook", "quay.io/jetstack/cert-manager-webhook:v1.21.1"],
      ["cainjector", "quay.io/jetstack/cert-manager-cainjector:v1.21.1"],
    ]);
    assert.deepEqual(pairs((await imagesOf({}, "ingress-nginx")).images), [
      ["controller", "registry.k8s.io/ingress-nginx/controller:v1.15.1@sha256:594ceea76b01c592858f803f9ff4d2cb40542cae2060410b2c95f75907d659e1"],
    ]);
    assert.deepEqual(pairs((await imagesOf({}, "loki")).images), [["loki", "docker.io/grafana/loki:3.7.6"]]);
    assert.deepEqual(pairs((await imagesOf({}, "alloy")).images), [
      ["alloy", "docker.io/grafana/alloy:v1.18.1"],
      ["config-reloader", "quay.io/prometheus-operator/prometheus-config-reloader:v0.91.0@sha256:7d9e4eea5f1139e602508871f422b0116c60e87c662f3dcd234d5ab60cd0d8c1"],
    ]);
    assert.deepEqual(pairs((await imagesOf({}, "velero")).images), [
      ["velero", "docker.io/velero/velero:v1.18.1"],
      ["node-agent", "docker.io/velero/velero:v1.18.1"],
    ]);
    // With a quorum, redis-ha's Redis takes the image the parent chart sets for it.
    const ha = await imagesOf(THREE_NODES, "argocd");
    assert.deepEqual(ha.problems, []);
    assert.deepEqual(pairs(ha.images).filter(([c]) => c!.startsWith("redis")), [
      ["redis-ha", "ecr-public.aws.com/docker/library/redis:8.2.3-alpine"],
      // HAProxy's tag is the redis-ha subchart's default; the parent chart moves its repository.
      ["redis-ha haproxy", "ecr-public.aws.com/docker/library/haproxy:3.3.10-alpine"],
    ]);
  });

  it("lets our values win over the chart's defaults", async () => {
    const kps = await imagesOf({}, "monitoring", (v) => ({
      ...v,
      global: { imageRegistry: "mirror.example.org" },
      prometheus: { ...(v.prometheus as object), prometheusSpec: { ...((v.prometheus as any).prometheusSpec as object), image: { tag: "v3.99.0", sha: "abc123" } } },
    }));
    assert.deepEqual(pairs(kps.images).slice(0, 3), [
      ["prometheus", "mirror.example.org/prometheus/prometheus:v3.99.0@sha256:abc123"],
      ["alertmanager", "mirror.example.org/prometheus/alertmanager:v0.34.0"],
      ["config-reloader", "mirror.example.org/prometheus-operator/prometheus-config-reloader:v0.93.1"],
    ]);
    assert.ok(kps.images.every((i) => i.source === "values"));
    // argo-cd: a tag in `global.image` reaches every part that leaves its own empty, not Redis.
    const argo = await imagesOf({}, "argocd", (v) => ({ ...v, global: { image: { tag: "v3.4.5" } }, server: { ...(v.server as object), image: { repository: "ghcr.io/me/argocd" } } }));
    assert.deepEqual(pairs(argo.images).slice(0, 2), [
      ["application-controller", "quay.io/argoproj/argocd:v3.4.5"],
      ["server", "ghcr.io/me/argocd:v3.4.5"],
    ]);
    assert.equal(argo.images.find((i) => i.container === "redis")!.image, "ecr-public.aws.com/docker/library/redis:8.2.3-alpine");
    assert.equal(argo.images.find((i) => i.container === "redis")!.source, "chart default");
    // cert-manager: a full repository replaces registry, namespace and name.
    const cm = await imagesOf({}, "cert-manager", (v) => ({ ...v, image: { repository: "registry.example.org/cm/controller", tag: "v1.21.2" } }));
    assert.equal(cm.images[0]!.image, "registry.example.org/cm/controller:v1.21.2");
    assert.equal(cm.images[1]!.image, "quay.io/jetstack/cert-manager-webhook:v1.21.1");
  });

  it("refuses a path that reads no image, naming the container and the path", async () => {
    const bad = await imagesOf({}, "monitoring", undefined, [
      { name: "prometheus", values: "prometheus.prometheusSpec.resources", image: "prometheus.prometheusSpec.imag" },
      { name: "node-exporter", values: "prometheus-node-exporter.resources", image: "prometheus-node-exporter.image" },
      { name: "operator", values: "prometheusOperator.resources", image: { values: "prometheusOperator.image" } },
      { name: "grafana", values: "grafana.resources", image: { values: "grafana.image", registryOverride: ["globl.imageRegistry"], tag: "appVersion" } },
    ]);
    assert.deepEqual(bad.images, []);
    assert.deepEqual(
      bad.problems.map((p) => [p.container, p.message]),
      [
        ["prometheus", "chart kube-prometheus-stack, container prometheus: prometheus.prometheusSpec.imag is not an image block of the chart (no map at that path in its values.yaml)"],
        // The subchart's tag is empty: without `tag: "appVersion"` none is made up.
        ["node-exporter", "chart kube-prometheus-stack, container node-exporter: the image block prometheus-node-exporter.image has no tag (neither ours nor the chart's)"],
        // An empty tag without `tag: "appVersion"` is not made up.
        ["operator", "chart kube-prometheus-stack, container operator: the image block prometheusOperator.image has no tag (neither ours nor the chart's)"],
        ["grafana", "chart kube-prometheus-stack, container grafana: globl.imageRegistry is not a values path of the chart"],
      ],
    );
  });
});

describe("chart images at build time", () => {
  let dir = "";
  before(() => {
    dir = scratchProject("homelab-chart-images-", defaultInputCopy());
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("refuses the build when a chart no longer has a declared image block (a new chart version renamed it)", async () => {
    // The locked alertmanager block renamed, and the lock's digest of the file updated, as `charts pull` would.
    const file = join(dir, "charts", "kube-prometheus-stack-88.5.3", "values.yaml");
    const before = readFileSync(file);
    const text = before.toString("utf8");
    const block = "    image:\n      registry: quay.io\n      repository: prometheus/alertmanager\n";
    assert.equal(text.split(block).length, 2, "the alertmanager image block is in the locked values.yaml once");
    const after = Buffer.from(text.replace(block, block.replace("    image:", "    imageSpec:")), "utf8");
    writeFileSync(file, after);
    const lock = join(dir, "charts", "lock.yaml");
    const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
    writeFileSync(lock, readFileSync(lock, "utf8").replace(sha(before), sha(after)));

    const result = await runBuild({ root: dir, configPath: join(dir, "homelab.config.ts"), versionsPath: join(dir, "versions.yaml"), promtool: false });
    const found = result.issues.filter((i) => i.check === "chart-images");
    assert.deepEqual(
      found.map((i) => [i.subject, i.path, i.message]),
      [["component monitoring", "containers[alertmanager].image", "chart kube-prometheus-stack, container alertmanager: alertmanager.alertmanagerSpec.image is not an image block of the chart (no map at that path in its values.yaml)"]],
    );
    // Nothing else went wrong: the lock accepted the edited file.
    assert.deepEqual(result.issues.filter((i) => i.check === "chart-lock"), []);
  });
});
