/**
 * cdk8s and Grafana's foundation SDK, loaded with `require`. Both are CommonJS packages whose entry modules
 * re-export dozens of others (`__exportStar(require(…))`); imported as ES modules, Node first runs its
 * CommonJS export lexer over each of them to learn their names. Measured alone (bundled CLI, Node 20): the
 * six SDK entries and cdk8s imported 255–540 ms, required 145–160 ms; every build loads them. The classes
 * are the same objects either way (one module cache), so `instanceof` holds across both.
 */
import { createRequire } from "node:module";
import type * as Cdk8s from "cdk8s";
import type * as Dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import type * as Logs from "@grafana/grafana-foundation-sdk/logs";
import type * as Loki from "@grafana/grafana-foundation-sdk/loki";
import type * as Prometheus from "@grafana/grafana-foundation-sdk/prometheus";
import type * as Stat from "@grafana/grafana-foundation-sdk/stat";
import type * as Timeseries from "@grafana/grafana-foundation-sdk/timeseries";

const require = createRequire(import.meta.url);

export const cdk8s = require("cdk8s") as typeof Cdk8s;
export const grafana = {
  dashboard: require("@grafana/grafana-foundation-sdk/dashboard") as typeof Dashboard,
  logs: require("@grafana/grafana-foundation-sdk/logs") as typeof Logs,
  loki: require("@grafana/grafana-foundation-sdk/loki") as typeof Loki,
  prometheus: require("@grafana/grafana-foundation-sdk/prometheus") as typeof Prometheus,
  stat: require("@grafana/grafana-foundation-sdk/stat") as typeof Stat,
  timeseries: require("@grafana/grafana-foundation-sdk/timeseries") as typeof Timeseries,
};
