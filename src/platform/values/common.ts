/**
 * Typed views of the Helm values we set. They cover only the keys the components use; the build's
 * Helm-values check proves each key exists in the pinned chart, and these types keep the components
 * honest at compile time.
 */
export type Resources = { requests?: { cpu?: string; memory?: string }; limits?: { cpu?: string; memory?: string } };
export type Pdb = { enabled: boolean; maxUnavailable?: number | string; minAvailable?: number | string };
export type Affinity = Record<string, unknown>;
