import { allContainers } from "../lib/pods.ts";
import { str, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

/** Tags that move by design; pinning to them is not pinning. */
const FLOATING = new Set(["latest", "stable", "main", "master", "edge", "nightly", "dev", "develop", "head", "canary"]);

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
  why: "An untagged or `latest` image changes under the cluster's feet: a pod restart silently upgrades it, and Git no longer says what runs.",
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
    }
    return out;
  },
};
