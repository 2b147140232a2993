/**
 * The Node versions the project supports (package.json `engines`) against what every installed package
 * declares, so that the supported range is a checked statement and not a hope. docs/node.md explains the
 * one known disagreement.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { REPO } from "./helpers.ts";

type Version = [number, number, number];

function parse(v: string): Version {
  const [a = 0, b = 0, c = 0] = v.replace(/^v/, "").split(".").map((x) => Number(x));
  return [a, b, c];
}

function cmp(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** Whether `version` satisfies a node-semver range of the forms packages use (`||`, >=, >, <=, <, ^, ~, bare, `*`, `6.x`). */
export function satisfies(version: string, range: string): boolean {
  const v = parse(version);
  return range.split("||").some((alt) =>
    alt
      .trim()
      .replace(/([<>=^~]+)\s+/g, "$1")
      .split(/\s+/)
      .filter(Boolean)
      // `*`, `x` and `6.*` / `10.x` wildcards: any version, or as precise as the digits before them.
      .map((c) => c.replace(/(\.(?:x|X|\*))+$/, ""))
      .every((c) => {
        if (c === "*" || c === "x" || c === "X" || c === "") return true;
        const m = /^(>=|<=|>|<|=|\^|~)?v?(\d+(?:\.\d+){0,2})/.exec(c);
        assert.ok(m, `cannot read range part '${c}' of '${range}'`);
        const op = m[1] ?? "";
        const parts = m[2]!.split(".").length;
        const b = parse(m[2]!);
        if (op === ">=") return cmp(v, b) >= 0;
        if (op === ">") return cmp(v, b) > 0;
        if (op === "<=") return cmp(v, b) <= 0;
        if (op === "<") return cmp(v, b) < 0;
        if (op === "^") return v[0] === b[0] && cmp(v, b) >= 0;
        if (op === "~") return v[0] === b[0] && v[1] === b[1] && cmp(v, b) >= 0;
        // Bare or `=`: as precise as written (`14` is any 14.x).
        return v.slice(0, parts).every((x, i) => x === b[i]);
      }),
  );
}

/** Every installed package that declares `engines.node`, with that range. */
function installed(): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      if (name.startsWith(".")) continue;
      const p = join(dir, name);
      if (name.startsWith("@")) {
        walk(p);
        continue;
      }
      const pj = join(p, "package.json");
      if (!existsSync(pj)) continue;
      const pkg = JSON.parse(readFileSync(pj, "utf8")) as { name: string; version: string; engines?: { node?: string } };
      if (pkg.engines?.node) out.set(`${pkg.name}@${pkg.version}`, pkg.engines.node);
      if (existsSync(join(p, "node_modules"))) walk(join(p, "node_modules"));
    }
  };
  walk(join(REPO, "node_modules"));
  return out;
}

const ENGINES = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { engines: { node: string } }).engines.node;
/** The lowest version of each release line the project supports. */
const FLOORS = ["20.19.0", "22.12.0"];
/**
 * Packages that declare only Node 22 but that the project runs on Node 20.19+ too, knowingly: the ESM-only
 * kubernetes-models line (its Kubernetes 1.34, Argo CD v3 and cert-manager v1.21 schemas are what the build
 * validates against). The suite runs on Node 20; docs/node.md says why npm warns there and what to do.
 */
const NODE_22_ONLY = /^(kubernetes-models|@kubernetes-models\/(apimachinery|argo-cd|base|cert-manager|gateway-api|validate))@/;

describe("supported Node versions", () => {
  it("reads the range forms packages use", () => {
    assert.equal(satisfies("20.19.0", "^20.19.0 || >=22.12.0"), true);
    assert.equal(satisfies("20.18.3", "^20.19.0 || >=22.12.0"), false);
    assert.equal(satisfies("21.7.0", "^20.19.0 || >=22.12.0"), false);
    assert.equal(satisfies("22.11.0", "^20.19.0 || >=22.12.0"), false);
    assert.equal(satisfies("24.1.0", "^20.19.0 || >=22.12.0"), true);
    assert.equal(satisfies("14.17.1", ">=16 || 14 >=14.17"), true);
    assert.equal(satisfies("15.0.0", ">=16 || 14 >=14.17"), false);
    assert.equal(satisfies("20.19.0", ">= 20.19.0"), true);
    assert.equal(satisfies("20.19.0", "*"), true);
    assert.equal(satisfies("20.19.0", ">= 10.x"), true);
    assert.equal(satisfies("20.19.0", "6.* || 8.* || >= 10.*"), true);
    assert.equal(satisfies("9.1.0", "6.* || 8.* || >= 10.*"), false);
  });

  it("package.json states the range this project runs on, and this Node is in it", () => {
    assert.equal(ENGINES, "^20.19.0 || >=22.12.0");
    assert.ok(satisfies(process.versions.node, ENGINES), `Node ${process.versions.node} is outside ${ENGINES}`);
  });

  it("every installed package accepts the lowest supported version of each line, but for the known Node 22-only ones", () => {
    const refused: string[] = [];
    for (const [pkg, range] of installed()) {
      for (const floor of FLOORS) {
        if (satisfies(floor, range)) continue;
        if (NODE_22_ONLY.test(pkg) && floor.startsWith("20.") && satisfies("22.12.0", range)) continue;
        refused.push(`${pkg} (${range}) refuses Node ${floor}`);
      }
    }
    assert.deepEqual(refused, []);
  });

  it("the known Node 22-only packages are exactly those still installed that declare it", () => {
    const node22 = [...installed()].filter(([, range]) => !satisfies(FLOORS[0]!, range)).map(([pkg]) => pkg);
    assert.ok(node22.length > 0 && node22.every((p) => NODE_22_ONLY.test(p)), node22.join(", "));
  });
});
