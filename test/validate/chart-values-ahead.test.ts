/**
 * Chart values parsed ahead on a worker thread (src/validate/chart-cache.ts `preparseValues`): the worker's
 * values are exactly the build's own parse, a build reading a chart after it gets those values, and a
 * values.yaml that does not parse still fails with the build's own message.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import YAML from "yaml";
import { parseAhead, preparseValues, readChartDefaults } from "../../src/validate/chart-cache.ts";
import { REPO } from "../helpers.ts";

const PARSED = join(REPO, "node_modules/.cache/homelab/values");
const work = mkdtempSync(join(tmpdir(), "values-ahead-"));
const written: string[] = [];
after(() => {
  rmSync(work, { recursive: true, force: true });
  // The JSON the build keeps for these one-off texts.
  for (const sha of written) rmSync(join(PARSED, `${sha}.json`), { force: true });
});

/** A chart folder whose values.yaml is `text` plus a comment no other test writes, so no parsed copy exists yet. */
function chartWith(name: string, text: string): { dir: string; file: string; text: string; sha: string } {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const unique = `${text}\n# ${name} ${process.pid} ${Date.now()} ${Math.random()}\n`;
  const file = join(dir, "values.yaml");
  writeFileSync(file, unique);
  const sha = createHash("sha256").update(unique).digest("hex");
  written.push(sha);
  return { dir, file, text: unique, sha };
}

const locked = readdirSync(join(REPO, "charts"), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => join(REPO, "charts", d.name, "values.yaml"));

describe("chart values parsed ahead", () => {
  it("are, for every locked chart, exactly what the build's own parse gives (keys in the same order)", async () => {
    const charts = locked.map((f, i) => chartWith(`c${i}`, readFileSync(f, "utf8")));
    const ahead = await parseAhead(charts.map((c) => c.file));
    assert.equal(ahead.size, charts.length);
    for (const c of charts) {
      const own = YAML.parse(c.text, { merge: true }) ?? {};
      assert.deepEqual(ahead.get(c.sha), own, c.file);
      assert.equal(JSON.stringify(ahead.get(c.sha)), JSON.stringify(own), c.file);
    }
  });

  it("skip a text whose parsed JSON is kept already, and one that does not parse", async () => {
    const good = chartWith("kept", "a: 1\n");
    await readChartDefaults(good.dir); // keeps its JSON
    const bad = chartWith("bad", "a: [1, 2\n");
    const ahead = await parseAhead([good.file, bad.file, join(work, "missing", "values.yaml")]);
    assert.equal(ahead.size, 0);
  });

  it("are what a build then reads for the chart, and a broken values.yaml still fails with the build's message", async () => {
    const c = chartWith("read", "image:\n  tag: v1\nbase: &b {x: 1}\nmerged:\n  <<: *b\n  y: 2\n");
    const bad = chartWith("broken", "a: [1, 2\n");
    let expected: unknown;
    try {
      await readChartDefaults(bad.dir);
    } catch (err) {
      expected = (err as Error).message;
    }
    assert.match(String(expected), /chart cache: cannot read .*broken.*values\.yaml/);
    // Written again (another comment), so that neither has a parsed copy now.
    const c2 = chartWith("read2", "image:\n  tag: v1\nbase: &b {x: 1}\nmerged:\n  <<: *b\n  y: 2\n");
    const bad2 = chartWith("broken2", "a: [1, 2\n");
    preparseValues([c2.file, bad2.file]);
    assert.deepEqual((await readChartDefaults(c2.dir)).values, { image: { tag: "v1" }, base: { x: 1 }, merged: { x: 1, y: 2 } });
    // The same first line (the excerpt below it quotes each file's own comment).
    const first = (m: string) => m.split("\n")[0];
    await assert.rejects(readChartDefaults(bad2.dir), (err: Error) => first(err.message) === first(String(expected).replace("broken", "broken2")));
    assert.deepEqual((await readChartDefaults(c.dir)).values, (await readChartDefaults(c2.dir)).values);
  });
});
