/**
 * The homelab's picture, drawn from the same model that renders gitops/: the two Cloudflare tunnels, the
 * node, the cluster with one box per component (grouped by layer) and the Compose stack beside it. ELK
 * (elkjs, a layered graph layout) places the boxes and routes the edges, so the picture stays readable as
 * components are added; nothing here knows a coordinate.
 */
import ElkBundled from "elkjs/lib/elk.bundled.js";
import type { ELK as ElkLayout, ElkExtendedEdge, ElkNode } from "elkjs/lib/elk-api.js";
import { Cloudflared } from "../../../../src/platform/components/cloudflared.ts";
import { ArgoCd } from "../../../../src/platform/components/argocd.ts";
import { CertManager } from "../../../../src/platform/components/cert-manager.ts";
import { INGRESS_CONTROLLER } from "../../../../src/platform/lib/network.ts";
import type { SiteModel } from "./model.ts";
import { html, trusted, type Html } from "./html.ts";

export type BoxKind = "external" | "tunnel" | "host" | "cluster" | "layer" | "component" | "service";

/** One box of the picture; `children` are drawn inside it. */
export interface Box {
  readonly id: string;
  readonly label: string;
  /** A second, smaller line (chart, host name, address). */
  readonly detail?: string;
  readonly kind: BoxKind;
  readonly children?: readonly Box[];
}

export interface Link {
  readonly from: string;
  readonly to: string;
  readonly label?: string;
}

export interface Topology {
  readonly boxes: readonly Box[];
  readonly links: readonly Link[];
}

// The bundle is CommonJS (`module.exports = ELK`); its types describe an ES default export.
const ELK = ElkBundled as unknown as new () => ElkLayout;

const id = (...parts: string[]) => parts.join(":").replace(/[^A-Za-z0-9:._-]/g, "_");

/** The picture's boxes and links from the model (no layout yet). */
export function topologyOf(m: SiteModel): Topology {
  const { config } = m.build;
  const components = m.build.platform.components;
  const comp = (name: string) => id("component", name);
  const layers = ["gitops", "platform", "edge", "apps"] as const;
  const layerTitle: Record<(typeof layers)[number], string> = { gitops: "GitOps", platform: "platform", edge: "edge", apps: "apps" };
  const cluster: Box = {
    id: "cluster",
    label: `Kubernetes ${config.kubernetesVersion} cluster`,
    detail: m.build.platform.ctx.shape.ha ? "HA shape" : "single-node shape",
    kind: "cluster",
    children: layers
      .map((layer) => ({
        id: id("layer", layer),
        label: layerTitle[layer],
        kind: "layer" as const,
        children: components
          .filter((c) => c.props.layer === layer)
          .map((c) => {
            const pin = c.helm ? m.build.versions.charts[c.helm.chart] : undefined;
            return { id: comp(c.name), label: c.name, kind: "component" as const, detail: pin ? `${c.helm!.chart} ${pin.version}` : m.images.get(c.name)?.[0]?.split("/").pop() ?? "" };
          }),
      }))
      .filter((l) => l.children.length > 0),
  };
  const compose: Box = {
    id: "compose",
    label: "Docker Compose stack",
    detail: m.compose.source,
    kind: "host",
    children: m.compose.services.map((s) => ({ id: id("service", s.name), label: s.name, kind: "service" as const, ...(s.detail ? { detail: s.detail } : {}) })),
  };
  const nodes: Box[] = config.nodes.map((n, i) => ({
    id: id("node", n.name),
    label: n.name,
    detail: `${n.address} · ${n.roles.join(", ")}`,
    kind: "host" as const,
    // One cluster spans the nodes; it is drawn in the first one, the Compose stack beside it.
    children: i === 0 ? [cluster, compose] : [],
  }));
  const boxes: Box[] = [
    { id: "internet", label: "visitors", kind: "external" },
    { id: "cloudflare", label: "Cloudflare", detail: `DNS and tunnels for ${config.domain}`, kind: "external" },
    { id: "tunnel:cluster", label: `tunnel ${config.tunnels.cluster.name}`, detail: `*.${config.domain}`, kind: "tunnel" },
    { id: "tunnel:forgejo", label: `tunnel ${config.tunnels.forgejo.name}`, detail: config.tunnels.forgejo.hostname, kind: "tunnel" },
    { id: "letsencrypt", label: "Let's Encrypt", detail: `ACME HTTP-01, ${config.acme.defaultIssuer}`, kind: "external" },
    ...nodes,
  ];

  const links: Link[] = [
    { from: "internet", to: "cloudflare", label: "HTTPS" },
    { from: "cloudflare", to: "tunnel:cluster" },
    { from: "cloudflare", to: "tunnel:forgejo" },
  ];
  // By class, not `instanceof`: cdk8s's Chart answers `instanceof` with true for every Chart.
  const of = (cls: abstract new (...a: never[]) => unknown) => components.find((c) => (c.constructor as unknown) === cls);
  const cloudflared = of(Cloudflared);
  const ingress = components.find((c) => c.name === INGRESS_CONTROLLER.namespace);
  if (cloudflared) links.push({ from: "tunnel:cluster", to: comp(cloudflared.name) });
  if (cloudflared && ingress) links.push({ from: comp(cloudflared.name), to: comp(ingress.name), label: "HTTPS" });
  if (ingress)
    for (const c of components) if (c !== ingress && c.ingressBackends.length) links.push({ from: comp(ingress.name), to: comp(c.name) });
  const entry = m.compose.services.find((s) => s.entry);
  if (entry) links.push({ from: "tunnel:forgejo", to: id("service", entry.name) });
  for (const s of m.compose.services) for (const t of s.talksTo ?? []) links.push({ from: id("service", s.name), to: id("service", t) });
  const argocd = of(ArgoCd);
  const forge = m.compose.services.find((s) => s.forge);
  if (argocd && forge) links.push({ from: comp(argocd.name), to: id("service", forge.name), label: `watches ${config.git.path}/` });
  const certs = of(CertManager);
  if (certs) links.push({ from: comp(certs.name), to: "letsencrypt", label: "ACME" });
  return { boxes, links };
}

// Text metrics for a 13px sans-serif: wide enough for every character class we print.
const CHAR = 7.4;
const SMALL = 6.2;
const PAD = 12;

function size(b: Box): { width: number; height: number } {
  const w = Math.max(b.label.length * CHAR, (b.detail ?? "").length * SMALL) + 2 * PAD;
  return { width: Math.ceil(Math.max(90, w)), height: b.detail ? 44 : 30 };
}

function elkNode(b: Box): ElkNode {
  if (b.children && b.children.length) {
    return {
      id: b.id,
      // Room at the top of a group for its title.
      layoutOptions: { "elk.padding": `[top=${b.detail ? 44 : 30},left=12,bottom=12,right=12]` },
      children: b.children.map(elkNode),
    };
  }
  return { id: b.id, ...size(b) };
}

export interface LaidOut {
  readonly svg: Html;
  readonly width: number;
  readonly height: number;
}

/** Lays the picture out with ELK and draws it as SVG (classes only: the site's CSP allows no inline style). */
export async function drawTopology(t: Topology, title: string): Promise<LaidOut> {
  const elk = new ELK();
  const edges: ElkExtendedEdge[] = t.links.map((l, i) => ({ id: `e${i}`, sources: [l.from], targets: [l.to], ...(l.label ? { labels: [{ id: `e${i}l`, text: l.label, width: l.label.length * SMALL, height: 14 }] } : {}) }));
  const graph: ElkNode = {
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "DOWN",
      "elk.hierarchyHandling": "INCLUDE_CHILDREN",
      "elk.edgeRouting": "ORTHOGONAL",
      "elk.layered.spacing.nodeNodeBetweenLayers": "40",
      "elk.spacing.nodeNode": "18",
      "elk.edgeLabels.inline": "false",
    },
    children: t.boxes.map(elkNode),
    edges,
  };
  const laid = await elk.layout(graph);
  const byId = new Map<string, Box>();
  const index = (bs: readonly Box[]) => bs.forEach((b) => (byId.set(b.id, b), index(b.children ?? [])));
  index(t.boxes);

  // ELK gives child coordinates relative to the parent; edge sections relative to the edge's container.
  const origin = new Map<string, { x: number; y: number }>([["root", { x: 0, y: 0 }]]);
  const parts: Html[] = [];
  const drawNode = (n: ElkNode, ox: number, oy: number) => {
    const x = ox + (n.x ?? 0);
    const y = oy + (n.y ?? 0);
    origin.set(n.id, { x, y });
    const b = byId.get(n.id)!;
    const group = !!n.children?.length;
    const cx = group ? x + 10 : x + (n.width ?? 0) / 2;
    const anchor = group ? "start" : "middle";
    const ty = b.detail ? y + 18 : y + 19;
    parts.push(html`<g class="box ${b.kind}" data-id="${b.id}"${b.kind === "component" ? html` data-component="${b.label}"` : ""}><title>${b.label}${b.detail ? ` — ${b.detail}` : ""}</title><rect x="${r(x)}" y="${r(y)}" width="${r(n.width ?? 0)}" height="${r(n.height ?? 0)}" rx="6"/><text x="${r(cx)}" y="${r(ty)}" text-anchor="${anchor}" class="label">${b.label}</text>${b.detail ? html`<text x="${r(cx)}" y="${r(ty + 16)}" text-anchor="${anchor}" class="detail">${b.detail}</text>` : ""}</g>`);
    for (const c of n.children ?? []) drawNode(c, x, y);
  };
  for (const c of laid.children ?? []) drawNode(c, 0, 0);
  const lines: Html[] = [];
  for (const e of (laid.edges ?? []) as (ElkExtendedEdge & { container?: string })[]) {
    const o = origin.get(e.container ?? "root") ?? { x: 0, y: 0 };
    for (const s of e.sections ?? []) {
      const pts = [s.startPoint, ...(s.bendPoints ?? []), s.endPoint].map((p) => `${r(o.x + p.x)},${r(o.y + p.y)}`).join(" ");
      lines.push(html`<polyline class="edge" points="${pts}" marker-end="url(#arrow)"/>`);
    }
    for (const l of e.labels ?? []) lines.push(html`<text class="edge-label" x="${r(o.x + (l.x ?? 0))}" y="${r(o.y + (l.y ?? 0) + 11)}">${l.text ?? ""}</text>`);
  }
  const width = Math.ceil(laid.width ?? 0) + 2;
  const height = Math.ceil(laid.height ?? 0) + 2;
  const svg = html`<svg xmlns="http://www.w3.org/2000/svg" class="topology" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="topology-title"><title id="topology-title">${title}</title><defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead"/></marker></defs>${parts}${lines}</svg>`;
  return { svg: trusted(svg.text), width, height };
}

function r(n: number): string {
  return String(Math.round(n * 10) / 10);
}
