/** KSOPS in ArgoCD: chart values checked against argo-cd 10.1.1's values.yaml, generator and kustomization files. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { UserError } from "../../src/errors.ts";
import {
  KSOPS_FREEFORM_VALUES,
  KUSTOMIZE_BUILD_OPTIONS,
  REPO_SERVER_KEY_DIR,
  SOPS_AGE_SECRET,
  bootstrapAgeSecretCommand,
  checkKsopsFolder,
  ksopsArgoCdValues,
  ksopsGenerator,
  kustomizationFor,
} from "../../src/secrets/ksops.ts";
import { encrypt } from "../../src/secrets/sops.ts";
import { REPO, needTool, newKeyFile, tempDir } from "./helpers.ts";

const IMAGE = "docker.io/viaductoss/ksops:v4.5.1";
const ARGO_VALUES = join(REPO, "charts", "argo-cd-10.1.1", "values.yaml");

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Key paths we set that the chart does not define (lists and scalars are leaves). */
function unknownPaths(ours: Obj, chart: Obj, prefix = ""): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(ours)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (KSOPS_FREEFORM_VALUES.some((f) => prefix === f.path)) continue;
    if (!(k in chart)) {
      out.push(path);
      continue;
    }
    if (isObj(v)) {
      const c = chart[k];
      if (!isObj(c)) out.push(`${path} (chart default is not a map)`);
      else out.push(...unknownPaths(v, c, path));
    } else if (Array.isArray(v) && !Array.isArray(chart[k])) out.push(`${path} (chart default is not a list)`);
  }
  return out;
}

describe("ksopsArgoCdValues", () => {
  it("uses only keys that exist in the pinned argo-cd chart's values.yaml (configs.cm is free-form)", (t) => {
    const chart = parse(readFileSync(ARGO_VALUES, "utf8")) as Obj;
    assert.deepEqual(unknownPaths(ksopsArgoCdValues({ ksopsImage: IMAGE }), chart), []);
    // The check itself catches a typo.
    assert.deepEqual(unknownPaths({ repoServer: { volumeMount: [] } }, chart), ["repoServer.volumeMount"]);
  });

  it("mounts the sops-age Secret where SOPS_AGE_KEY_FILE points and enables exec plugins", () => {
    const v = ksopsArgoCdValues({ ksopsImage: IMAGE }) as { configs: { cm: Obj }; repoServer: Obj };
    assert.equal(v.configs.cm["kustomize.buildOptions"], "--enable-alpha-plugins --enable-exec");
    assert.equal(KUSTOMIZE_BUILD_OPTIONS, "--enable-alpha-plugins --enable-exec");
    const rs = v.repoServer as { env: { name: string; value: string }[]; volumes: Obj[]; volumeMounts: Obj[]; initContainers: Obj[] };
    const env = Object.fromEntries(rs.env.map((e) => [e.name, e.value]));
    assert.equal(env.SOPS_AGE_KEY_FILE, `${REPO_SERVER_KEY_DIR}/keys.txt`);
    const keyVol = rs.volumes.find((x) => isObj(x.secret)) as { name: string; secret: { secretName: string; items: { key: string }[] } };
    assert.equal(keyVol.secret.secretName, "sops-age");
    assert.deepEqual(keyVol.secret.items.map((i) => i.key), ["keys.txt"]);
    const keyMount = rs.volumeMounts.find((m) => m.name === keyVol.name)!;
    assert.ok(env.SOPS_AGE_KEY_FILE!.startsWith(`${String(keyMount.mountPath)}/`));
    assert.equal(keyMount.readOnly, true);
    assert.deepEqual(
      rs.volumeMounts.filter((m) => m.subPath).map((m) => [m.mountPath, m.subPath]),
      [
        ["/usr/local/bin/kustomize", "kustomize"],
        ["/usr/local/bin/ksops", "ksops"],
      ],
    );
    const init = rs.initContainers[0] as { image: string; command: string[]; volumeMounts: Obj[] };
    assert.equal(init.image, IMAGE);
    assert.deepEqual(init.command, ["/usr/local/bin/ksops", "install", "--with-kustomize", "/custom-tools"]);
    assert.equal(init.volumeMounts[0]!.name, rs.volumeMounts[0]!.name);
  });

  it("picks the install step the image version supports", () => {
    const cmd = (image: string) => {
      const init = (ksopsArgoCdValues({ ksopsImage: image }) as { repoServer: { initContainers: Obj[] } }).repoServer.initContainers[0]!;
      return [...(init.command as string[]), ...((init.args as string[]) ?? [])];
    };
    assert.deepEqual(cmd("docker.io/viaductoss/ksops:v4.3.3"), ["/bin/sh", "-c", "cp /usr/local/bin/ksops /usr/local/bin/kustomize /custom-tools/"]);
    assert.deepEqual(cmd("viaductoss/ksops:v4.5.0"), ["/usr/local/bin/ksops", "install", "/custom-tools"]);
    assert.deepEqual(cmd(`${IMAGE}@sha256:${"a".repeat(64)}`), ["/usr/local/bin/ksops", "install", "--with-kustomize", "/custom-tools"]);
    assert.throws(() => cmd("viaductoss/ksops:v4.4.0"), (e: unknown) => e instanceof UserError && /neither a shell nor 'ksops install'/.test(e.message));
    assert.throws(() => cmd("viaductoss/ksops"), (e: unknown) => e instanceof UserError && /has no tag/.test(e.message));
    assert.throws(() => cmd("localhost:5000/ksops"), /has no tag/);
    assert.throws(() => cmd("viaductoss/ksops:latest"), /not a version/);
  });

  it("documents the bootstrap as a kubectl command reading the key from stdin", () => {
    const c = bootstrapAgeSecretCommand();
    assert.match(c, /kubectl -n argocd create secret generic sops-age --from-file=keys\.txt=\/dev\/stdin/);
    assert.deepEqual(SOPS_AGE_SECRET, { namespace: "argocd", name: "sops-age", key: "keys.txt" });
  });
});

describe("generator and kustomization", () => {
  it("ksopsGenerator is a KSOPS v4 exec KRM function", () => {
    assert.deepEqual(ksopsGenerator("cloudflared-secrets", ["cloudflared-credentials.sops.yaml"]), {
      apiVersion: "viaduct.ai/v1",
      kind: "ksops",
      metadata: { name: "cloudflared-secrets", annotations: { "config.kubernetes.io/function": "exec:\n  path: ksops\n" } },
      files: ["cloudflared-credentials.sops.yaml"],
    });
    assert.throws(() => ksopsGenerator("x", []), /no files/);
    assert.throws(() => ksopsGenerator("x", ["../other/a.sops.yaml"]), /relative \*\.sops\.yaml path/);
    assert.throws(() => ksopsGenerator("x", ["plain.yaml"]), /relative \*\.sops\.yaml path/);
  });

  it("kustomizationFor refuses a sops file as a resource", () => {
    assert.deepEqual(kustomizationFor(["a.yaml"], ["secret-generator.yaml"]), {
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      resources: ["a.yaml"],
      generators: ["secret-generator.yaml"],
    });
    assert.deepEqual(kustomizationFor(["a.yaml"], []), { apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", resources: ["a.yaml"] });
    assert.throws(() => kustomizationFor(["s.sops.yaml"], []), /would be applied still encrypted/);
  });

  it("`kubectl kustomize` builds a folder without a generator", (t) => {
    if (!needTool(t, "kubectl")) return;
    const { dir, cleanup } = tempDir();
    try {
      writeFileSync(join(dir, "cm.yaml"), stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "n" }, data: { a: "b" } }));
      writeFileSync(join(dir, "kustomization.yaml"), stringify(kustomizationFor(["cm.yaml"], [])));
      const res = spawnSync("kubectl", ["kustomize", dir], { encoding: "utf8" });
      assert.equal(res.status, 0, res.stderr);
      assert.deepEqual(parse(res.stdout), { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "n" }, data: { a: "b" } });
    } finally {
      cleanup();
    }
  });
});

describe("checkKsopsFolder", () => {
  async function folder(): Promise<Map<string, string>> {
    const { dir, cleanup } = tempDir();
    try {
      const k = await newKeyFile(dir);
      const secret = await encrypt("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: n\nstringData:\n  k: v\n", {
        format: "yaml",
        recipients: [k.recipient],
        rules: { encryptedRegex: "^(data|stringData)$" },
      });
      return new Map([
        ["kustomization.yaml", stringify(kustomizationFor(["cm.yaml"], ["secret-generator.yaml"]))],
        ["cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"],
        ["secret-generator.yaml", stringify(ksopsGenerator("n-secrets", ["s.sops.yaml"]))],
        ["s.sops.yaml", secret],
      ]);
    } finally {
      cleanup();
    }
  }

  it("a folder built from these helpers is clean", async () => {
    assert.deepEqual(checkKsopsFolder("gitops/n", await folder()), []);
  });

  it("reports a missing generator file, a missing sops file, a sops resource and an unlisted sops file", async () => {
    const f = await folder();
    f.set("kustomization.yaml", stringify({ apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", resources: ["cm.yaml", "s.sops.yaml"], generators: ["gone.yaml"] }));
    assert.deepEqual(checkKsopsFolder("gitops/n", f), [
      "gitops/n/kustomization.yaml: s.sops.yaml is a resource and would be applied still encrypted",
      "gitops/n/kustomization.yaml: generator gone.yaml does not exist",
      "gitops/n/s.sops.yaml: not listed in any ksops generator, so it is never deployed",
    ]);
    const g = await folder();
    g.delete("s.sops.yaml");
    assert.deepEqual(checkKsopsFolder("gitops/n", g), ["gitops/n/secret-generator.yaml: s.sops.yaml does not exist in the folder"]);
  });

  it("reports a generator without the exec annotation and a plaintext value in the sops file", async () => {
    const f = await folder();
    f.set("secret-generator.yaml", "apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata:\n  name: x\nfiles:\n  - s.sops.yaml\n");
    f.set("s.sops.yaml", f.get("s.sops.yaml")!.replace(/^( {4}k: )ENC\[.*\]$/m, "$1leaked"));
    assert.deepEqual(checkKsopsFolder("gitops/n", f), [
      "gitops/n/secret-generator.yaml: missing the exec function annotation (config.kubernetes.io/function: exec: path: ksops)",
      "gitops/n/s.sops.yaml: stringData.k holds plaintext where an encrypted value is required",
    ]);
  });
});

describe("the rendered gitops tree", () => {
  it("folders without a generator build with `kubectl kustomize`; folders with one pass the KSOPS check", (t) => {
    const root = join(REPO, "gitops");
    assert.ok(existsSync(root), "gitops/ is committed; run `homelab build`");
    if (!needTool(t, "kubectl")) return;
    const folders = readdirSync(root).filter((d) => existsSync(join(root, d, "kustomization.yaml")));
    assert.ok(folders.length > 0);
    for (const d of folders) {
      const dir = join(root, d);
      const k = parse(readFileSync(join(dir, "kustomization.yaml"), "utf8")) as { generators?: string[] };
      if (k.generators?.length) {
        const files = new Map(readdirSync(dir).filter((n) => statSync(join(dir, n)).isFile()).map((n) => [n, readFileSync(join(dir, n), "utf8")] as const));
        assert.deepEqual(checkKsopsFolder(`gitops/${d}`, files), [], d);
      } else {
        const res = spawnSync("kubectl", ["kustomize", dir], { encoding: "utf8" });
        assert.equal(res.status, 0, `gitops/${d}: ${res.stderr}`);
      }
    }
  });
});
