import { allContainers } from "../lib/pods.ts";
import { str, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

/**
 * The registry-qualified name of an image, the way containerd resolves it: a first segment with a
 * dot or a port (or `localhost`) is a registry, anything else is Docker Hub.
 */
export function qualifiedImage(image: string): string {
  const name = image.split("@")[0]!;
  const first = name.split("/")[0]!;
  if (name.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost")) return name;
  return `docker.io/${name.includes("/") ? name : `library/${name}`}`;
}

export const imageRegistry: Rule = {
  id: "image-registry",
  title: "Images come from the registries the config allows",
  severity: "error",
  why: "A registry is a party the cluster trusts to run code: an image from one nobody chose (a typo-squatted name, a personal mirror) runs with the same rights as ours. The config lists the registries the homelab pulls from.",
  fix: "Use an image from one of `policy.allowedRegistries` in homelab.config.ts, or add its registry there in a reviewed commit.",
  needsModel: true,
  skip: (ctx) => (ctx.model?.allowedRegistries ? undefined : "skipped: the config lists no policy.allowedRegistries"),
  check(ctx) {
    const allowed = ctx.model?.allowedRegistries ?? [];
    const out: Violation[] = [];
    for (const c of allContainers(ctx.objects)) {
      const image = str(c.container.image);
      if (image === undefined) continue;
      const full = qualifiedImage(image);
      if (!allowed.some((a) => full === a || full.startsWith(`${a}/`)))
        out.push(violation(this, c.pod.owner, `${c.path}/image`, `container '${c.name}' image '${image}' comes from ${full.split("/")[0]}, which is not in policy.allowedRegistries (${allowed.join(", ")})`));
    }
    return out;
  },
};
