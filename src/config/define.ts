import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import type { HomelabInput } from "./schema.ts";

/**
 * Declares a homelab. Only gives the editor types and completion: validation happens when
 * `homelab build` loads the file, so every mistake is reported at once with its key path.
 */
export function defineHomelab(config: HomelabInput): HomelabInput {
  return config;
}

/**
 * An image pinned in the `versions.yaml` beside the config, as an app's `image` and `tag`:
 * `{ name: "site", ...pinnedImage(import.meta.url, "site"), … }`. For images a pipeline bumps (the site's
 * `site` workflow writes each new tag there), so the config itself never changes for a release.
 */
export function pinnedImage(configUrl: string, name: string): { image: string; tag: string } {
  const file = fileURLToPath(new URL("versions.yaml", configUrl));
  const doc = parse(readFileSync(file, "utf8")) as { images?: Record<string, { image?: unknown; tag?: unknown }> } | null;
  const pin = doc?.images?.[name];
  if (typeof pin?.image !== "string" || (typeof pin.tag !== "string" && typeof pin.tag !== "number"))
    throw new Error(`${file}: images.${name} needs an image and a tag (homelab.config.ts reads it with pinnedImage)`);
  return { image: pin.image, tag: String(pin.tag) };
}

export type { HomelabInput, HomelabConfig, AppConfig, NodeConfig } from "./schema.ts";
