/**
 * Prometheus metrics: a registry per app with Node's default process metrics and the HTTP RED metrics
 * (rate and errors from the histogram's count by status code, duration from its buckets).
 */
import { collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * Request duration buckets in seconds: dense where a healthy web request lands (1 ms to 1 s), sparse up to
 * the request timeout, so p50/p99 of fast static pages and the slow tail are both readable.
 */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

export interface HttpMetrics {
  readonly duration: Histogram<"method" | "route" | "status_code">;
  readonly inFlight: Gauge;
}

export function createRegistry(service: string, version?: string): { registry: Registry; http: HttpMetrics } {
  const registry = new Registry();
  registry.setDefaultLabels({ service, ...(version ? { version } : {}) });
  collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: "http_server_request_duration_seconds",
    help: "Duration of HTTP requests served, by method, route template and status code.",
    labelNames: ["method", "route", "status_code"] as const,
    buckets: [...DURATION_BUCKETS],
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: "http_server_active_requests",
    help: "HTTP requests being served right now.",
    registers: [registry],
  });
  return { registry, http: { duration, inFlight } };
}
