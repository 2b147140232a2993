import type { Resources } from "./common.ts";

type SecurityContext = Record<string, unknown>;

/** velero chart 12.x (Velero 1.18): the values the velero component sets. */
export type VeleroValues = {
  initContainers: {
    name: string;
    image: string;
    imagePullPolicy: string;
    resources: Resources;
    securityContext: SecurityContext;
    volumeMounts: { name: string; mountPath: string }[];
  }[];
  resources: Resources;
  podSecurityContext: SecurityContext;
  containerSecurityContext: SecurityContext;
  metrics: { enabled: boolean; serviceMonitor: { enabled: boolean }; nodeAgentPodMonitor: { enabled: boolean }; prometheusRule: { enabled: boolean } };
  upgradeCRDs: boolean;
  configuration: {
    backupStorageLocation: never[];
    volumeSnapshotLocation: never[];
    uploaderType: "kopia";
    defaultBackupStorageLocation: string;
    defaultBackupTTL: string;
    defaultVolumesToFsBackup: boolean;
    logFormat: "json" | "text";
  };
  credentials: { useSecret: boolean; existingSecret: string };
  backupsEnabled: boolean;
  snapshotsEnabled: boolean;
  deployNodeAgent: boolean;
  nodeAgent: { resources: Resources };
};
