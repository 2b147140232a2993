import type { HomelabConfig, Versions } from "../../config/schema.ts";
import { shapeFor, type Shape } from "./topology.ts";
import { UserError } from "../../errors.ts";

/** What every component may read: the validated config, the pinned versions and the topology's shape. */
export interface PlatformContext {
  readonly config: HomelabConfig;
  readonly versions: Versions;
  readonly shape: Shape;
  /** `https://git.example.org/owner/repo.git`: the repository ArgoCD watches. */
  readonly gitRepoURL: string;
  /** Addresses of the nodes that run the API server (webhook calls come from them). */
  readonly apiServerAddresses: readonly string[];
}

export function contextFor(config: HomelabConfig, versions: Versions): PlatformContext {
  return {
    config,
    versions,
    shape: shapeFor(config.nodes),
    gitRepoURL: `${config.git.url.replace(/\/$/, "")}/${config.git.repo}.git`,
    apiServerAddresses: config.nodes.filter((n) => n.roles.includes("control-plane")).map((n) => n.address),
  };
}

/** `image:tag` from versions.yaml. */
export function imageRef(versions: Versions, name: string): string {
  const img = versions.images[name];
  if (!img) throw new UserError(`versions.yaml: images.${name} is missing; the platform needs it`);
  return `${img.image}:${img.tag}`;
}
