// Sets the tag of one image in versions.yaml, keeping the file's comments and layout:
//   node scripts/bump-image.mjs <name> <tag> [versions.yaml]
// The `site` workflow runs it after pushing a new site image; `homelab build` then re-renders gitops/.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { parseDocument } from "yaml";

const [name, tag, file = "versions.yaml"] = process.argv.slice(2);
if (!name || !tag || process.argv.length > 5) {
  console.error("usage: node scripts/bump-image.mjs <name> <tag> [versions.yaml]");
  process.exit(2);
}
// An OCI tag (the config checks it again when it is built).
if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(tag)) {
  console.error(`bump-image: '${tag}' is not an image tag`);
  process.exit(2);
}
const doc = parseDocument(readFileSync(file, "utf8"));
if (!doc.hasIn(["images", name, "tag"])) {
  console.error(`bump-image: ${file} has no images.${name}.tag`);
  process.exit(1);
}
doc.setIn(["images", name, "tag"], tag);
const tmp = `${file}.${process.pid}.tmp`;
writeFileSync(tmp, doc.toString({ lineWidth: 0 }));
renameSync(tmp, file);
console.log(`bump-image: images.${name}.tag = ${tag}`);
