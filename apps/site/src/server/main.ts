/**
 * `node apps/site/dist/server/main.js` (the image) or `node --import tsx apps/site/src/server/main.ts`:
 * serves the generated site. Settings from the environment:
 *   PORT (8080), HOST (0.0.0.0), SITE_ROOT (apps/site/dist/public), APP_VERSION (in logs, metrics, spans),
 *   METRICS_PORT (unset or PORT: /metrics on PORT; another port: /metrics, /healthz and /readyz there, and
 *   /metrics on PORT is the 404 page, so the public port does not expose it),
 *   SHUTDOWN_GRACE_MS (30000, the pod's grace period), LOG_LEVEL (info),
 *   OTEL_EXPORTER_OTLP_ENDPOINT (unset: spans to stdout), PROMETHEUS_URL (the live status at /status; unset: off),
 *   SITE_FAST_PATH (on: plain GETs and HEADs of the site's files answered without node:http's request objects,
 *   see fast-path.ts; off: every request through node:http).
 * Exit codes: 0 after a clean shutdown, 1 bad settings or requests cut by the grace period, 70 a bug.
 */
import { UserError } from "../../../../src/errors.ts";
import { createStatusHandler } from "../status/index.ts";
import { createSiteServer, DEFAULT_ROOT } from "./server.ts";

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const port = Number(env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`site server: PORT must be a port number, got "${env.PORT}"`);
    return 1;
  }
  const metricsPort = env.METRICS_PORT === undefined || env.METRICS_PORT === "" ? port : Number(env.METRICS_PORT);
  if (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535) {
    console.error(`site server: METRICS_PORT must be a port number, got "${env.METRICS_PORT}"`);
    return 1;
  }
  const fastPath = env.SITE_FAST_PATH ?? "on";
  if (fastPath !== "on" && fastPath !== "off") {
    console.error(`site server: SITE_FAST_PATH must be "on" or "off", got "${fastPath}"`);
    return 1;
  }
  // Both 0 (tests): two ephemeral ports.
  const separateMetrics = env.METRICS_PORT !== undefined && env.METRICS_PORT !== "" && (metricsPort !== port || port === 0);
  try {
    const root = env.SITE_ROOT ?? DEFAULT_ROOT;
    // Live status: reads PROMETHEUS_URL itself, and says so on the page when it is unset or unreachable.
    const status = createStatusHandler({ publicDir: root, prometheusUrl: env.PROMETHEUS_URL ?? "" });
    const site = createSiteServer({ root, status, metricsEndpoint: !separateMetrics, fastPath: fastPath === "on", ...(env.APP_VERSION ? { version: env.APP_VERSION } : {}) });
    const host = env.HOST ?? "0.0.0.0";
    const addr = await site.listen(port, host);
    const metrics = separateMetrics ? await site.telemetry.listenMetrics(metricsPort, host) : addr;
    site.telemetry.logger.info(
      { port: addr.port, metrics_port: metrics.port, fast_path: fastPath === "on", root: site.index.root, files: site.index.size, cached_bytes: site.index.cachedBytes, traces: site.telemetry.traceExporter },
      "site server listening",
    );
    return 0;
  } catch (e) {
    if (e instanceof UserError || (e as NodeJS.ErrnoException).code === "EADDRINUSE" || (e as NodeJS.ErrnoException).code === "EACCES") {
      console.error((e as Error).message);
      return 1;
    }
    console.error(e);
    return 70;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const code = await main();
  // Listening keeps the process alive; exit only on failure (a shutdown exits by itself).
  if (code !== 0) process.exit(code);
}
