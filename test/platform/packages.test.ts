/**
 * cdk8s and Grafana's foundation SDK are CommonJS packages the build loads with `require`
 * (src/platform/lib/packages.ts): imported as ES modules, Node's CommonJS export lexer ran over every module
 * their entries re-export, ~0.1–0.4 s of every build.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import * as cdk8sModule from "cdk8s";
import * as dashboardModule from "@grafana/grafana-foundation-sdk/dashboard";
import { cdk8s, grafana } from "../../src/platform/lib/packages.ts";
import { REPO } from "../helpers.ts";

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) sources(p, out);
    else if (/\.ts$/.test(e.name)) out.push(p);
  }
  return out;
}

describe("CommonJS packages the build loads with require", () => {
  it("no source imports cdk8s, constructs or the Grafana SDK as an ES module (types only)", () => {
    const offenders: string[] = [];
    for (const file of sources(join(REPO, "src"))) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/^import\s+(?!type\b)[^;]*?from\s+"(cdk8s|constructs|@grafana\/grafana-foundation-sdk(?:\/[^"]*)?)";/gm)) offenders.push(`${relative(REPO, file)}: ${m[1]}`);
    }
    assert.deepEqual(offenders, []);
  });

  it("gives the same classes an ES import gives, so instanceof holds across both", () => {
    assert.equal(cdk8s.ApiObject, cdk8sModule.ApiObject);
    assert.equal(cdk8s.Chart, cdk8sModule.Chart);
    assert.equal(grafana.dashboard.DashboardBuilder, dashboardModule.DashboardBuilder);
  });
});
