/** The `backup` section and an app's `storage`: every mistake named by its key path before anything renders. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, parseConfig } from "../../src/config/load.ts";
import { defaultInputCopy } from "../helpers.ts";

const app = { name: "notes", image: "ghcr.io/me/notes", tag: "1.4.2", port: 3000, host: "notes.skypalette.ai" };

function problems(patch: Record<string, unknown>): readonly { path: string; message: string }[] {
  try {
    parseConfig({ ...defaultInputCopy(), ...patch }, "test");
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  assert.fail("accepted");
}

const storage = { endpoint: "https://s3.example.org", bucket: "homelab-backups", region: "eu-central-1" };

describe("backup config", () => {
  it("fills the defaults: daily cluster backups kept 30 days, path-style S3, a Sunday drill", () => {
    const c = parseConfig({ ...defaultInputCopy(), backup: { storage } }, "test");
    assert.deepEqual(c.backup, {
      storage: { ...storage, prefix: "velero", pathStyle: true },
      cluster: { every: "daily", ttl: "720h", volumes: true, excludedNamespaces: [] },
      policies: [],
      exemptions: [],
      drill: { schedule: "30 4 * * 0" },
    });
  });

  it("names bad storage settings, frequencies, retention, exemptions and duplicates by key path", () => {
    assert.deepEqual(
      problems({
        backup: {
          storage: { endpoint: "http://s3.example.org", bucket: "Homelab_Backups", region: "EU Central", prefix: "/velero/" },
          cluster: { every: "monthly", ttl: "30d" },
          policies: [{ namespace: "notes" }, { namespace: "notes", includedResources: ["Deployments"] }],
          exemptions: [{ claim: "notes-data", reason: "cache" }],
          drill: { schedule: "weekly" },
        },
      }),
      [
        { path: "backup.storage.endpoint", message: "must be the https:// URL of the S3 API" },
        { path: "backup.storage.bucket", message: "must be an S3 bucket name: 3 to 63 lower-case letters, digits, '.' and '-'" },
        { path: "backup.storage.region", message: "must be a region name such as eu-central-1" },
        { path: "backup.storage.prefix", message: "must be a folder such as velero or homelab/velero, without leading or trailing '/'" },
        { path: "backup.cluster.every", message: 'must be one of "hourly", "6h", "12h", "daily", "weekly", not the string "monthly"' },
        { path: "backup.cluster.ttl", message: "must be whole hours such as 72h (3 days), 168h (a week) or 720h (30 days)" },
        { path: "backup.policies[1].includedResources[0]", message: "must be a resource name such as configmaps or deployments.apps, or *" },
        { path: "backup.exemptions[0].claim", message: "must be namespace/claim-name" },
        { path: "backup.exemptions[0].reason", message: "give a real reason (at least 10 characters)" },
        { path: "backup.drill.schedule", message: "must be a cron expression of five fields such as 30 4 * * 0" },
      ],
    );
    assert.deepEqual(problems({ backup: { storage, policies: [{ namespace: "notes" }, { namespace: "notes" }] } }), [
      { path: "backup.policies[1].namespace", message: "duplicate backup policy for namespace 'notes' (first at index 0)" },
    ]);
  });

  it("an app's storage: size, a folder of its own, one-node access modes", () => {
    assert.deepEqual(problems({ apps: [{ ...app, storage: { size: "2GB", mountPath: "/tmp", accessMode: "ReadWriteMany" } }] }), [
      { path: "apps[0].storage.size", message: "must be a size such as 512Mi or 10Gi" },
      { path: "apps[0].storage.accessMode", message: 'must be one of "ReadWriteOnce", "ReadWriteOncePod", not the string "ReadWriteMany"' },
    ]);
    assert.deepEqual(problems({ apps: [{ ...app, storage: { size: "1Gi", mountPath: "/usr" } }] }).map((p) => p.path), ["apps[0].storage.mountPath"]);
    assert.deepEqual(problems({ apps: [{ ...app, tmpDir: "/var/lib/notes/tmp", storage: { size: "1Gi", mountPath: "/var/lib/notes" } }] }), [
      { path: "apps[0].storage.mountPath", message: "/var/lib/notes overlaps tmpDir (/var/lib/notes/tmp); give the volume a folder of its own" },
    ]);
  });

  it("the canary, the drill's scratch namespace and velero are reserved names", () => {
    for (const name of ["velero", "backup-canary", "backup-drill"])
      assert.match(problems({ apps: [{ ...app, name }] })[0]!.message, /is reserved/);
  });
});
