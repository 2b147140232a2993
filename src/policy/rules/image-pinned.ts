import { allContainers } from "../lib/pods.ts";
import { str, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

/** Tags that move by design; pinning to them is not pinning. */
const FLOATING = new Set(["latest", "stable", "main", "master", "edge", "nightly", "dev", "develop", "head", "canary"]);

/**
 * A release line rather than a release: `alpine:3`, `postgres:16`, `redis:7.2`, `node:20-alpine`.
 * The maintainers move these tags to every new patch (or minor) release.
 */
const RELEASE_LINE = /^v?\d{1,3}(\.\d+)?(-[a-z][a-z0-9._-]*)?$/i;
const MAJOR_ONLY = /^v?\d{1,3}(-[a-z][a-z0-9._-]*)?$/i;

/** Images whose releases are numbered major.minor (PostgreSQL since 10), so `16.4` is a full version. */
const TWO_PART_RELEASES = /(^|\/)(postgres|postgresql)$/;

/** The image's repository without registry, tag or digest: `docker.io/library/postgres:16` → `library/postgres`. */
function repositoryOf(image: string): string {
  const name = image.split("@")[0]!;
  const colon = name.lastIndexOf(":");
  const repo = colon > name.lastIndexOf("/") ? name.slice(0, colon) : name;
  const first = repo.split("/")[0]!;
  return repo.includes("/") && /[.:]|^localhost$/.test(first) ? repo.slice(first.length + 1) : repo;
}

/** Whether a tag names a release line (that moves) rather than one release. */
export function isReleaseLine(image: string, tag: string): boolean {
  if (!RELEASE_LINE.test(tag)) return false;
  return MAJOR_ONLY.test(tag) || !TWO_PART_RELEASES.test(repositoryOf(image));
}

/** Splits `registry:5000/repo/name:tag@sha256:…` into its tag and digest. */
export function parseImage(image: string): { tag?: string; digest?: string } {
  const at = image.indexOf("@");
  const digest = at >= 0 ? image.slice(at + 1) : undefined;
  const name = at >= 0 ? image.slice(0, at) : image;
  const colon = name.lastIndexOf(":");
  const tag = colon > name.lastIndexOf("/") ? name.slice(colon + 1) : undefined;
  return { ...(tag !== undefined && { tag }), ...(digest !== undefined && { digest }) };
}

export const imagePinned: Rule = {
  id: "image-pinned",
  title: "Images pinned to a version or digest",
  severity: "error",
  why: "An untagged or `latest` image changes under the cluster's feet: a pod restart silently upgrades it, and Git no longer says what runs. A major-only or major.minor tag (`alpine:3`, `postgres:16`) moves too, within its release line: a warning.",
  fix: "Pin a release tag (e.g. `:1.27.3`) or a digest (`@sha256:…`); let the dependency bot bump it in a reviewed commit.",
  check(ctx) {
    const out: Violation[] = [];
    for (const c of allContainers(ctx.objects)) {
      const image = str(c.container.image);
      const at = `${c.path}/image`;
      if (!image) {
        out.push(violation(this, c.pod.owner, at, `container '${c.name}' has no image`));
        continue;
      }
      const { tag, digest } = parseImage(image);
      if (digest !== undefined) {
        if (!/^sha256:[0-9a-f]{64}$/.test(digest)) out.push(violation(this, c.pod.owner, at, `container '${c.name}' image '${image}' has a malformed digest`));
        continue;
      }
      if (tag === undefined) out.push(violation(this, c.pod.owner, at, `container '${c.name}' image '${image}' has no tag (means latest)`));
      else if (FLOATING.has(tag.toLowerCase())) out.push(violation(this, c.pod.owner, at, `container '${c.name}' image '${image}' uses the floating tag '${tag}'`));
      // Less bad than `latest` (the major version holds), so a warning rather than an error.
      else if (isReleaseLine(image, tag))
        out.push({ ...violation(this, c.pod.owner, at, `container '${c.name}' image '${image}' follows the release line '${tag}', which moves with every new release in it; pin the full version or a digest`), severity: "warning" });
    }
    return out;
  },
};
