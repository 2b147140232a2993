import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, it } from "node:test";
import { pinnedImage } from "../../src/config/define.ts";
import { config, versions } from "../helpers.ts";

describe("pinnedImage: an app's image and tag from versions.yaml", () => {
  it("the default config's site is the image and tag pinned in versions.yaml", () => {
    const site = config().apps.find((a) => a.name === "site")!;
    assert.deepEqual({ image: site.image, tag: site.tag }, versions().images.site);
  });

  it("reads the versions.yaml beside the config file, and names the file and key when the pin is missing", () => {
    const dir = mkdtempSync(join(tmpdir(), "homelab-pin-"));
    try {
      const url = pathToFileURL(join(dir, "homelab.config.ts")).href;
      writeFileSync(join(dir, "versions.yaml"), "images:\n  notes:\n    image: ghcr.io/me/notes\n    tag: 1.4.2\n");
      assert.deepEqual(pinnedImage(url, "notes"), { image: "ghcr.io/me/notes", tag: "1.4.2" });
      assert.throws(() => pinnedImage(url, "site"), { message: `${join(dir, "versions.yaml")}: images.site needs an image and a tag (homelab.config.ts reads it with pinnedImage)` });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
