/**
 * The bundled CLI compiles a TypeScript config with esbuild in its own thread (src/config/ts-loader.ts)
 * instead of tsx's hooks thread: the same module values, each file's own import.meta, tsx where the
 * compile cannot serve the file.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import { compileConfig, importCompiled, importWithTsx } from "../../src/config/ts-loader.ts";

const REPO = join(import.meta.dirname, "..", "..");

describe("a TypeScript config compiled in-process", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "homelab-ts-loader-"));
    symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"));
    mkdirSync(join(dir, "lib"));
    // As the repository's own package.json: tsx compiles the files as ES modules then.
    writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("gives the repository's homelab.config.ts the value tsx gives it", async () => {
    const file = join(REPO, "homelab.config.ts");
    const code = await compileConfig(file);
    assert.ok(code, "the repository's config must compile without tsx");
    const compiled = (await importCompiled(code)) as { default: unknown };
    const viaTsx = (await importWithTsx(file)) as { default: unknown };
    assert.deepEqual(compiled.default, viaTsx.default);
  });

  it("keeps each file's own import.meta, runs top-level await and imports packages from where each file is", async () => {
    writeFileSync(
      join(dir, "lib", "helper.ts"),
      [
        'import { parse } from "yaml";',
        "export const where = { url: import.meta.url, filename: import.meta.filename, dirname: import.meta.dirname };",
        "export const parsed: { a: number } = parse(\"a: 1\");",
      ].join("\n"),
    );
    writeFileSync(
      join(dir, "homelab.config.ts"),
      [
        'import { where, parsed } from "./lib/helper.ts";',
        'import { readFileSync } from "node:fs";',
        "const waited = await Promise.resolve(42);",
        "interface Out { own: string; helper: typeof where; waited: number; a: number; self: number }",
        "const out: Out = { own: import.meta.url, helper: where, waited, a: parsed.a, self: readFileSync(import.meta.filename, \"utf8\").length };",
        "export default out;",
      ].join("\n"),
    );
    const file = join(dir, "homelab.config.ts");
    const code = await compileConfig(file);
    assert.ok(code);
    const mod = (await importCompiled(code)) as { default: Record<string, unknown> };
    const helper = join(dir, "lib", "helper.ts");
    assert.deepEqual(mod.default, {
      own: pathToFileURL(file).href,
      helper: { url: pathToFileURL(helper).href, filename: helper, dirname: join(dir, "lib") },
      waited: 42,
      a: 1,
      self: (await import("node:fs")).readFileSync(file, "utf8").length,
    });
    // The same as tsx gives, whose URLs carry its namespace as a query (the sources' own import has none).
    const viaTsx = JSON.parse(JSON.stringify(((await importWithTsx(file)) as { default: unknown }).default).replace(/\?tsx-namespace=[^"]*/g, ""));
    assert.deepEqual(mod.default, viaTsx);
  });

  it("runs the config again on each load, as tsx's namespaced import did", async () => {
    const file = join(dir, "counter.ts");
    writeFileSync(file, "const g = globalThis as { __homelabLoads?: number };\ng.__homelabLoads = (g.__homelabLoads ?? 0) + 1;\nexport default g.__homelabLoads;\n");
    const code = (await compileConfig(file))!;
    const first = ((await importCompiled(code)) as { default: number }).default;
    const second = ((await importCompiled(code)) as { default: number }).default;
    assert.equal(second, first + 1);
  });

  it("declines what only a loader of the real files can serve, and code that does not compile (tsx reports it)", async () => {
    const cases = {
      "resolve.ts": 'export default import.meta.resolve("./x.js");\n',
      "require.ts": 'export default require("node:os").platform();\n',
      "broken.ts": "export default { a: ;\n",
      "missing.ts": 'import x from "./no-such-file.ts";\nexport default x;\n',
    };
    for (const [name, text] of Object.entries(cases)) {
      writeFileSync(join(dir, name), text);
      assert.equal(await compileConfig(join(dir, name)), undefined, name);
    }
  });
});

describe("the bundled CLI with a TypeScript config", () => {
  it("loads it without tsx's module hooks (no hooks thread in front of later imports)", () => {
    // The bundle's loader, as bin/homelab.mjs runs it; --import of a module that reports whether
    // module.register was called (what tsx's tsImport does) at exit.
    const work = mkdtempSync(join(tmpdir(), "homelab-ts-loader-cli-"));
    try {
      writeFileSync(
        join(work, "probe.mjs"),
        [
          'import module from "node:module";',
          "const register = module.register;",
          "let registered = 0;",
          "module.register = (...a) => { registered++; return register.apply(module, a); };",
          // Named imports of node:module (tsx's) see the patch only after this.
          "module.syncBuiltinESMExports();",
          'process.on("exit", () => process.stderr.write(`module.register calls: ${registered}\\n`));',
        ].join("\n"),
      );
      const res = spawnSync(process.execPath, ["--import", pathToFileURL(join(work, "probe.mjs")).href, join(REPO, "bin", "homelab.mjs"), "values", "argocd", "--version"], {
        cwd: REPO,
        encoding: "utf8",
        env: { ...process.env, HOMELAB_FROM_SOURCE: "" },
      });
      assert.equal(res.status, 0, res.stderr);
      assert.equal(res.stdout, "10.1.1\n");
      assert.match(res.stderr, /module\.register calls: 0\n/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
