#!/usr/bin/env node
/**
 * Bundles the site's server (apps/site/src/server/main.ts, the live status, the telemetry kit and the few
 * repository modules they import) into apps/site/dist/server/main.js, plain JavaScript for `node` without the
 * TypeScript loader: what the image runs. npm packages stay external; each must be a dependency of the
 * site or of the kit, the only ones the image installs (`npm ci --omit=dev --workspace @sky-palette/site`),
 * else the bundle is refused here rather than failing in the cluster.
 */
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const SITE = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const REPO = resolve(SITE, "../..");
// `--out <dir>`: somewhere else than apps/site/dist/server (the image test bundles into a scratch copy).
const outAt = process.argv.indexOf("--out");
const OUT = outAt > 0 ? resolve(process.argv[outAt + 1]) : join(SITE, "dist", "server");

const deps = (dir) => Object.keys(JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).dependencies ?? {});
const installed = new Set([...deps(SITE), ...deps(join(REPO, "packages", "telemetry"))]);
const builtins = new Set(builtinModules);
const packageOf = (spec) => (spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]);

const undeclared = new Set();
const result = await build({
  entryPoints: { main: join(SITE, "src/server/main.ts") },
  outdir: OUT,
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: "linked",
  logLevel: "warning",
  metafile: true,
  // A bundled CommonJS dependency would need require(); every npm package stays external instead.
  plugins: [
    {
      name: "externals",
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) => {
          const pkg = packageOf(args.path);
          if (args.path.startsWith("node:") || builtins.has(pkg)) return { external: true };
          // The kit is a workspace: its TypeScript sources are bundled in.
          if (pkg.startsWith("@sky-palette/")) return undefined;
          if (!installed.has(pkg)) undeclared.add(`${pkg} (imported by ${args.importer.replace(`${REPO}/`, "")})`);
          return { external: true };
        });
      },
    },
  ],
});
if (undeclared.size) {
  console.error(`bundle-server: the server imports packages the image does not install (add them to apps/site/package.json "dependencies"):\n  ${[...undeclared].join("\n  ")}`);
  process.exit(1);
}
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`bundle-server: ${OUT}/main.js (${(bytes / 1024).toFixed(0)} KiB with its source map)`);
