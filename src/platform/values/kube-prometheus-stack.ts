import type { Resources } from "./common.ts";

type Claim = { spec: { storageClassName: string; accessModes: ["ReadWriteOnce"]; resources: { requests: { storage: string } } } };
type ControlPlaneTarget = {
  enabled: boolean;
  service: { enabled: boolean; port: number; targetPort: number };
  serviceMonitor: { enabled: boolean; https?: boolean; insecureSkipVerify?: boolean; scheme?: "http" | "https" };
};

/** kube-prometheus-stack chart 88.x (with its grafana subchart): the values the monitoring component sets. */
export type KubePrometheusStackValues = {
  fullnameOverride: string;
  crds: { enabled: boolean };
  /** Rule groups of the chart itself; `disabled` drops single alerts by name. */
  defaultRules: { create: boolean; disabled: Record<string, boolean> };
  alertmanager: {
    config: Record<string, unknown>;
    alertmanagerSpec: {
      replicas: number;
      retention: string;
      secrets: string[];
      storage: { volumeClaimTemplate: Claim };
      resources: Resources;
    };
  };
  grafana: {
    fullnameOverride: string;
    admin: { existingSecret: string; userKey: string; passwordKey: string };
    sidecar: {
      dashboards: { enabled: boolean; label: string; labelValue: string; searchNamespace: string };
      datasources: { enabled: boolean; defaultDatasourceEnabled: boolean; uid: string };
      resources: Resources;
    };
    additionalDataSources: { name: string; uid: string; type: string; url: string; access: "proxy"; editable: boolean }[];
    persistence: { enabled: boolean; type: "pvc"; size: string };
    initChownData: { enabled: boolean };
    testFramework: { enabled: boolean };
    deploymentStrategy: { type: "Recreate" };
    resources: Resources;
    "grafana.ini": { server: { root_url: string } };
  };
  kubeControllerManager: ControlPlaneTarget;
  kubeScheduler: ControlPlaneTarget;
  kubeEtcd: ControlPlaneTarget;
  kubeProxy: ControlPlaneTarget;
  "kube-state-metrics": { fullnameOverride: string; resources: Resources };
  /** `namespaceOverride` puts the subchart's DaemonSet, Service and ServiceMonitor into a namespace of their own. */
  "prometheus-node-exporter": { namespaceOverride: string; fullnameOverride: string; resources: Resources };
  prometheusOperator: {
    fullnameOverride: string;
    admissionWebhooks: { enabled: boolean };
    resources: Resources;
    prometheusConfigReloader: { resources: Resources };
  };
  prometheus: {
    prometheusSpec: {
      replicas: number;
      retention: string;
      retentionSize: string;
      ruleSelectorNilUsesHelmValues: boolean;
      serviceMonitorSelectorNilUsesHelmValues: boolean;
      podMonitorSelectorNilUsesHelmValues: boolean;
      probeSelectorNilUsesHelmValues: boolean;
      scrapeConfigSelectorNilUsesHelmValues: boolean;
      storageSpec: { volumeClaimTemplate: Claim };
      resources: Resources;
      remoteWrite: { url: string; basicAuth: { username: { name: string; key: string }; password: { name: string; key: string } } }[];
    };
  };
};
