/**
 * Prometheus metrics: a registry per app with Node's default process metrics and the HTTP RED metrics
 * (rate and errors from the histogram's count by status code, duration from its buckets).
 */
import { collectDefaultMetrics, Gauge, Registry, type Metric, type MetricValueWithName } from "prom-client";

/**
 * Request duration buckets in seconds: dense where a healthy web request lands (1 ms to 1 s), sparse up to
 * the request timeout, so p50/p99 of fast static pages and the slow tail are both readable.
 */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

export const DURATION_METRIC = "http_server_request_duration_seconds";

type Label = "method" | "route" | "status_code";
type Labels = Readonly<Record<Label, string>>;

/** One time series of the histogram: a bucket count per bound (not cumulative; summed when read), sum, count. */
export interface DurationSeries {
  readonly labels: Labels;
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * `http_server_request_duration_seconds{method,route,status_code}`, read by the registry as a prom-client
 * histogram reads (the same exposition, `_bucket{le}`, `_sum`, `_count`). Its own rather than prom-client's
 * Histogram because that one validates and hashes the label object on every observation, a cost paid per
 * request; here the series of a (method, route, status) is looked up through three small maps and an
 * observation is a bucket scan and three additions.
 */
export class RequestDurationHistogram {
  readonly name = DURATION_METRIC;
  readonly help = "Duration of HTTP requests served, by method, route template and status code.";
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly labelNames: readonly Label[] = ["method", "route", "status_code"];
  private readonly bounds: readonly number[] = DURATION_BUCKETS;
  private readonly byMethod = new Map<string, Map<string, Map<number, DurationSeries>>>();

  /** The series of one (method, route, status code), created at its first use. */
  series(method: string, route: string, status: number): DurationSeries {
    let byRoute = this.byMethod.get(method);
    if (!byRoute) this.byMethod.set(method, (byRoute = new Map()));
    let byStatus = byRoute.get(route);
    if (!byStatus) byRoute.set(route, (byStatus = new Map()));
    let s = byStatus.get(status);
    if (!s) byStatus.set(status, (s = { labels: { method, route, status_code: String(status) }, counts: new Float64Array(this.bounds.length), sum: 0, count: 0 }));
    return s;
  }

  /** Records one request of `seconds` in a series. */
  observeIn(s: DurationSeries, seconds: number): void {
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (seconds <= b[i]!) {
        s.counts[i]!++;
        break;
      }
    }
    s.sum += seconds;
    s.count++;
  }

  /** prom-client's Histogram.observe signature. */
  observe(labels: Labels, seconds: number): void {
    this.observeIn(this.series(labels.method, labels.route, Number(labels.status_code)), seconds);
  }

  async get(): Promise<{ name: string; help: string; type: "histogram"; aggregator: "sum"; values: MetricValueWithName<Label | "le">[] }> {
    const values: MetricValueWithName<Label | "le">[] = [];
    for (const byRoute of this.byMethod.values()) {
      for (const byStatus of byRoute.values()) {
        for (const s of byStatus.values()) {
          let cumulative = 0;
          this.bounds.forEach((le, i) => {
            cumulative += s.counts[i]!;
            values.push({ labels: { le, ...s.labels }, value: cumulative, metricName: `${this.name}_bucket` });
          });
          values.push({ labels: { le: "+Inf", ...s.labels }, value: s.count, metricName: `${this.name}_bucket` });
          values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` });
          values.push({ labels: { ...s.labels }, value: s.count, metricName: `${this.name}_count` });
        }
      }
    }
    return { name: this.name, help: this.help, type: "histogram", aggregator: "sum", values };
  }

  reset(): void {
    this.byMethod.clear();
  }
}

export interface HttpMetrics {
  readonly duration: RequestDurationHistogram;
  /** `http_server_active_requests`, read from {@link HttpMetrics.active} when scraped. */
  readonly inFlight: Gauge;
  /** Requests being served now (a plain counter: a gauge's inc/dec per request costs more). */
  active: number;
}

export function createRegistry(service: string, version?: string): { registry: Registry; http: HttpMetrics } {
  const registry = new Registry();
  registry.setDefaultLabels({ service, ...(version ? { version } : {}) });
  collectDefaultMetrics({ register: registry });
  const duration = new RequestDurationHistogram();
  registry.registerMetric(duration as unknown as Metric);
  const http: HttpMetrics = {
    duration,
    inFlight: new Gauge({
      name: "http_server_active_requests",
      help: "HTTP requests being served right now.",
      registers: [registry],
      collect() {
        this.set(http.active);
      },
    }),
    active: 0,
  };
  return { registry, http };
}
