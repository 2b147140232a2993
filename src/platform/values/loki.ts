import type { Resources } from "./common.ts";

/** Loki's own configuration blocks the chart templates into its config file (free-form maps in the chart). */
export type LokiLimits = {
  retention_period: string;
  reject_old_samples: boolean;
  reject_old_samples_max_age: string;
  ingestion_rate_mb: number;
  ingestion_burst_size_mb: number;
  per_stream_rate_limit: string;
  per_stream_rate_limit_burst: string;
  max_global_streams_per_user: number;
  max_label_names_per_series: number;
  allow_structured_metadata: boolean;
  max_query_lookback: string;
  volume_enabled: boolean;
};

/** grafana-community loki chart 18.x: the values the loki component sets. */
export type LokiValues = {
  deploymentMode: "Monolithic";
  loki: {
    auth_enabled: boolean;
    commonConfig: { replication_factor: number };
    storage: { type: "filesystem" };
    schemaConfig: { configs: { from: string; store: "tsdb"; object_store: "filesystem"; schema: "v13"; index: { prefix: string; period: string } }[] };
    limits_config: LokiLimits;
    compactor: {
      working_directory: string;
      compaction_interval: string;
      retention_enabled: boolean;
      retention_delete_delay: string;
      delete_request_store: "filesystem";
    };
    query_range: { cache_results: boolean; results_cache: { cache: { embedded_cache: { enabled: boolean; max_size_mb: number; ttl: string } } } };
    analytics: { reporting_enabled: boolean };
    pattern_ingester: { enabled: boolean };
    tracing: { enabled: boolean };
  };
  serviceAccount: { automountServiceAccountToken: boolean };
  singleBinary: {
    replicas: number;
    sidecar: boolean;
    resources: Resources;
    persistence: { enabled: boolean; size: string; storageClass: string };
  };
  gateway: { enabled: boolean };
  lokiCanary: { enabled: boolean };
  test: { enabled: boolean };
  chunksCache: { enabled: boolean };
  resultsCache: { enabled: boolean };
  memcachedExporter: { enabled: boolean };
  sidecar: { rules: { enabled: boolean } };
  write: { replicas: number };
  read: { replicas: number };
  backend: { replicas: number };
};
