/**
 * Velero's object schemas, which the schema layer registers when a build renders Velero objects
 * (kube-schema.ts, LOCAL_MODELS). No Velero models are published, so the
 * validators in `_schemas/` are generated from Velero's own CRDs (`crds/`, copied from the Velero release
 * the pinned chart installs; SOURCE.md says from where and how to regenerate). They are ajv validators of the
 * same kind as the published kubernetes-models ones, so unknown fields are caught the same way.
 */
import { validate as backup } from "./_schemas/VeleroIoV1Backup.js";
import { validate as backupStorageLocation } from "./_schemas/VeleroIoV1BackupStorageLocation.js";
import { validate as restore } from "./_schemas/VeleroIoV1Restore.js";
import { validate as schedule } from "./_schemas/VeleroIoV1Schedule.js";
import { validate as volumeSnapshotLocation } from "./_schemas/VeleroIoV1VolumeSnapshotLocation.js";

export const VELERO_API_VERSION = "velero.io/v1";

/** The Velero kinds the homelab renders or reads, each namespaced (every Velero object lives in Velero's namespace). */
export const VELERO_KINDS = {
  Backup: backup,
  BackupStorageLocation: backupStorageLocation,
  Restore: restore,
  Schedule: schedule,
  VolumeSnapshotLocation: volumeSnapshotLocation,
} as const;
