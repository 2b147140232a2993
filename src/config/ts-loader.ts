/**
 * Imports the user's homelab.config.ts. The bundled CLI is plain JavaScript and starts without the
 * TypeScript loader; only a TypeScript config needs compiling, for that file and what it imports.
 *
 * The config is compiled with esbuild (which tsx itself uses) into one module, in this thread, and imported
 * from memory. tsx's `tsImport` did the same work behind module hooks on a second thread, and once
 * registered those hooks sat in front of every later import of the process (the schemas' models, the
 * renderer's packages): ~0.2 s of a default build's 1.5 s, and as much CPU again on the hooks' thread.
 * tsx stays the fallback for whatever the compile here does not cover (see {@link compileConfig}), so a
 * config that loaded before still loads, and a broken one fails with the same message as before.
 */
import { readFile } from "node:fs/promises";
import { isBuiltin } from "node:module";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import type { Loader, Plugin } from "esbuild";

export async function importConfigModule(file: string): Promise<unknown> {
  // Running from the sources (bin/homelab.mjs without a current bundle, or the tests) means a loader
  // already compiles .ts files: this very module is one.
  if (!/\.[cm]?tsx?$/.test(file) || import.meta.url.endsWith(".ts")) return import(pathToFileURL(file).href);
  const code = await compileConfig(file);
  if (code !== undefined) return importCompiled(code);
  return importWithTsx(file);
}

/** tsx's own loader: what every TypeScript config went through before, kept for what {@link compileConfig} declines. */
export async function importWithTsx(file: string): Promise<unknown> {
  // tsImport loads the file in a namespace of its own, without hooking every later import of the process.
  const { tsImport } = await import("tsx/esm/api");
  const mod = (await tsImport(pathToFileURL(file).href, import.meta.url)) as { default?: unknown };
  // Outside a `"type": "module"` package the file is compiled as CommonJS: its exports sit one level down,
  // as `import()` of the same file through the loader would give them.
  const inner = mod.default as { __esModule?: boolean; default?: unknown } | undefined;
  return inner && typeof inner === "object" && inner.__esModule ? inner : mod;
}

const LOADERS: Readonly<Record<string, Loader>> = { ts: "ts", mts: "ts", cts: "ts", tsx: "tsx", js: "js", mjs: "js", cjs: "js", jsx: "jsx" };

/**
 * The config as one ES module: the file and every file it imports by a relative path, compiled from
 * TypeScript; packages and Node's built-ins stay imports, each resolved from the file that imports it
 * (as Node resolves it there) to an absolute `file:` URL, so the module needs no location of its own.
 * Each file keeps its own `import.meta.url`, `.filename` and `.dirname` (e.g. `pinnedImage(import.meta.url, …)`
 * reads versions.yaml beside the config). Undefined — load it with tsx instead — when esbuild is not
 * installed, the code does not compile (tsx then reports the error as it always has), or a file uses
 * another `import.meta` property or `require`, which only a loader of the real files can serve.
 */
export async function compileConfig(file: string): Promise<string | undefined> {
  let esbuild: typeof import("esbuild");
  try {
    esbuild = await import("esbuild");
  } catch {
    return undefined;
  }
  let declined = false;
  const ownFiles: Plugin = {
    name: "homelab-config",
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, async (a) => {
        if (a.pluginData === "homelab-config") return undefined;
        if (isBuiltin(a.path)) return { path: a.path, external: true };
        // esbuild's resolver with Node's conditions for an `import` from this file: the path Node would load.
        const r = await b.resolve(a.path, { kind: a.kind, resolveDir: a.resolveDir, importer: a.importer, pluginData: "homelab-config" });
        if (r.errors.length > 0 || r.external || !r.path) return r.errors.length > 0 ? { errors: r.errors } : undefined;
        return { path: pathToFileURL(r.path).href, external: true };
      });
      b.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, async (a) => {
        const loader = LOADERS[/\.([^.]+)$/.exec(a.path)![1]!]!;
        const source = await readFile(a.path, "utf8");
        const define: Record<string, string> = {
          "import.meta.url": JSON.stringify(pathToFileURL(a.path).href),
          "import.meta.filename": JSON.stringify(a.path),
          "import.meta.dirname": JSON.stringify(dirname(a.path)),
        };
        const out = await esbuild.transform(source, { loader, format: "esm", target: "node20", sourcefile: a.path, define, logLevel: "silent" });
        // Anything left of import.meta (resolve, a custom property) or a require() needs the real file.
        if (/\bimport\.meta\b|\brequire\s*\(/.test(out.code)) declined = true;
        return { contents: out.code, loader: "js", resolveDir: dirname(a.path) };
      });
    },
  };
  try {
    const res = await esbuild.build({
      entryPoints: [file],
      bundle: true,
      write: false,
      format: "esm",
      platform: "node",
      target: "node20",
      logLevel: "silent",
      plugins: [ownFiles],
    });
    if (declined) return undefined;
    return res.outputFiles[0]!.text;
  } catch {
    return undefined;
  }
}

let loads = 0;

/**
 * Imports compiled code from memory. Each load is a module of its own (a counter in the text), so loading
 * the config again runs it again, as tsx's namespaced import did.
 */
export async function importCompiled(code: string): Promise<unknown> {
  const text = `${code}\n// load ${++loads}\n`;
  return import(`data:text/javascript;base64,${Buffer.from(text).toString("base64")}`);
}
