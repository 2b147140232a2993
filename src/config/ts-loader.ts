/**
 * Imports the user's homelab.config.ts. The bundled CLI is plain JavaScript and starts without the
 * TypeScript loader; only a TypeScript config brings it in, for that file and what it imports.
 */
import { pathToFileURL } from "node:url";

export async function importConfigModule(file: string): Promise<unknown> {
  // Running from the sources (bin/homelab.mjs without a current bundle, or the tests) means a loader
  // already compiles .ts files: this very module is one.
  if (!/\.[cm]?tsx?$/.test(file) || import.meta.url.endsWith(".ts")) return import(pathToFileURL(file).href);
  // tsImport loads the file in a namespace of its own, without hooking every later import of the process.
  const { tsImport } = await import("tsx/esm/api");
  const mod = (await tsImport(pathToFileURL(file).href, import.meta.url)) as { default?: unknown };
  // Outside a `"type": "module"` package the file is compiled as CommonJS: its exports sit one level down,
  // as `import()` of the same file through the loader would give them.
  const inner = mod.default as { __esModule?: boolean; default?: unknown } | undefined;
  return inner && typeof inner === "object" && inner.__esModule ? inner : mod;
}
