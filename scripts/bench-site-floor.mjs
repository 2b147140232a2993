/**
 * The floor of the site bench: plain node:http answering the site's files with nothing else — no telemetry,
 * no index lookups, no conditional GET — each file's best pre-compressed variant for `Accept-Encoding:
 * br, gzip` and the same response head the site's server sends, built once. Whatever the site's server
 * costs above this is its own (and the kit's); what this costs next to nginx is Node's HTTP stack.
 * Started by scripts/bench-site.ts with the image's node flags: PORT, HOST, SITE_ROOT, HEADS (a JSON file
 * of `{ path: [name, value, ...] }`, the site server's heads for each path, written by the bench).
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";

const root = process.env.SITE_ROOT;
const heads = JSON.parse(readFileSync(process.env.HEADS, "utf8"));
const files = new Map();
for (const [path, head] of Object.entries(heads)) {
  const enc = head[head.indexOf("content-encoding") + 1];
  const suffix = head.includes("content-encoding") ? (enc === "br" ? ".br" : ".gz") : "";
  files.set(path, { head, body: readFileSync(join(root, `${path}${suffix}`)) });
}
createServer((req, res) => {
  const f = files.get(req.url);
  if (!f) res.writeHead(404).end();
  else res.writeHead(200, f.head).end(f.body);
}).listen(Number(process.env.PORT), process.env.HOST ?? "127.0.0.1");
