/** The shipped example secrets: what `homelab secrets init` re-creates must be what the repository ships. */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { EXAMPLE_RECIPIENT } from "../../src/secrets/config.ts";
import { EXAMPLE_KEY_PATH, EXAMPLE_SECRETS, shippedExample } from "../../src/secrets/examples.ts";
import { loadSopsFile, openSopsFile } from "../../src/secrets/sops.ts";
import { emitPlain, parsePlain } from "../../src/secrets/stores.ts";
import { fixtureKeys, REPO } from "./helpers.ts";

describe("example secrets", () => {
  it("the example key init points to is in the repository", () => {
    assert.ok(existsSync(join(REPO, EXAMPLE_KEY_PATH)), EXAMPLE_KEY_PATH);
  });

  for (const e of EXAMPLE_SECRETS) {
    it(`${e.path}: the committed file is the shipped one, holds exactly the known FAKE plaintext, for the example recipient only`, async () => {
      const text = readFileSync(join(REPO, e.path), "utf8");
      assert.equal(shippedExample(e.path, text), e, "the committed example changed: update its sha256 and plaintext in src/secrets/examples.ts");
      assert.equal(shippedExample(e.path, text + "\n"), undefined);
      const file = loadSopsFile(text, "yaml", e.path);
      assert.deepEqual(file.metadata.age.map((a) => a.recipient), [EXAMPLE_RECIPIENT]);
      const opened = await openSopsFile(file, await fixtureKeys("sops-age/key.txt"));
      assert.equal(emitPlain(opened.plain, "yaml", { yamlIndent: 2 }), emitPlain(parsePlain(e.plaintext, "yaml", e.path), "yaml", { yamlIndent: 2 }));
      assert.match(e.plaintext, /EXAMPLE|PLACEHOLDER/);
    });
  }
});
