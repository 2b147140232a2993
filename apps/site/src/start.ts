/**
 * The site half of `npm start` (scripts/start.sh runs `homelab build` first): generates the site from the
 * checkout's config into apps/site/dist/public, pre-compresses it, and serves it on localhost with the live
 * status page, until Ctrl-C or SIGTERM. Prints the URL.
 *
 *   HOMELAB_SITE=off       build only (start.sh skips this step)
 *   HOMELAB_SITE=generate  generate, do not serve
 *   SITE_PORT              port to serve on (default 8080, or a free one when 8080 is taken)
 *   PROMETHEUS_URL         Prometheus for the live status page (unset: the page says it is off)
 *   SITE_OUT               where to generate (default apps/site/dist/public)
 *
 * Options `--config <file>` and `--versions <file>` are those of `homelab build` (start.sh passes its
 * arguments to both); the build's other options are ignored here.
 */
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { UserError } from "../../../src/errors.ts";
import { DEFAULT_OUT, generateSite } from "./generate/generate.ts";
import { createSiteServer, type SiteServer } from "./server/server.ts";
import { createStatusHandler } from "./status/index.ts";
import { createTelemetry } from "@sky-palette/telemetry";

export const DEFAULT_PORT = 8080;

/** Listens on `port`; when that is the default and taken (another copy running), on a free one instead. */
async function listen(site: SiteServer, port: number, explicit: boolean): Promise<AddressInfo> {
  try {
    return await site.listen(port, "127.0.0.1");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE" || explicit) throw e;
    console.log(`site: port ${port} is taken; serving on a free port instead`);
    return site.listen(0, "127.0.0.1");
  }
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: "string" }, versions: { type: "string" } }, strict: false, allowPositionals: true });
  const mode = env.HOMELAB_SITE ?? "serve";
  if (mode === "off") return 0;
  if (mode !== "serve" && mode !== "generate") {
    console.error(`npm start: HOMELAB_SITE must be off, generate or serve, not "${mode}"`);
    return 2;
  }
  const port = env.SITE_PORT === undefined ? DEFAULT_PORT : Number(env.SITE_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`npm start: SITE_PORT must be a port number, got "${env.SITE_PORT}"`);
    return 2;
  }
  const started = performance.now();
  let out: string;
  try {
    const g = await generateSite({
      root: process.cwd(),
      ...(typeof values.config === "string" && { config: values.config }),
      ...(typeof values.versions === "string" && { versions: values.versions }),
      out: env.SITE_OUT || DEFAULT_OUT,
      env,
    });
    out = g.out;
    console.log(`site: ${g.pages.length} pages generated into ${g.out} (${((performance.now() - started) / 1000).toFixed(1)}s)`);
  } catch (e) {
    if (e instanceof UserError) {
      console.error(`npm start: ${e.message}`);
      return 1;
    }
    throw e;
  }
  if (mode === "generate") return 0;

  // A local preview: warnings only, and no span per request in the terminal (the image's server logs in full).
  const telemetry = createTelemetry({ service: "site", logLevel: env.LOG_LEVEL ?? "warn", spanWrite: () => undefined });
  const site = createSiteServer({ root: out, status: createStatusHandler({ publicDir: out }), telemetry, accessLog: false });
  const addr = await listen(site, port, env.SITE_PORT !== undefined);
  console.log(`\nThe homelab's site is at http://127.0.0.1:${addr.port}/ (live status: ${env.PROMETHEUS_URL ? `from ${env.PROMETHEUS_URL}` : "off, set PROMETHEUS_URL"}).\nServing until Ctrl-C.`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const code = await main(process.argv.slice(2));
  // Serving keeps the process alive; the server's own shutdown exits on Ctrl-C or SIGTERM.
  if (code !== 0) process.exit(code);
}
