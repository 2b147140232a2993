import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { COMPOSE_SECRET_KEYS, COMPOSE_SECRETS_FILE, composeEnvReferences, composeStack, DB_DUMP_DIR } from "../../src/host/compose.ts";
import { checkCompose } from "../../src/host/compose-schema.ts";
import { checkComposeSecrets } from "../../src/host/hosts.ts";
import { toYaml } from "../../src/render/render.ts";
import { COMPOSE_VALIDATOR_FILE, composeValidatorSource } from "../../scripts/gen-compose-validator.ts";
import { REPO, config, versions } from "../helpers.ts";

type Service = {
  image: string;
  restart: string;
  environment?: Record<string, string>;
  ports?: { target: number; published: string; host_ip: string; protocol: string }[];
  networks: string[];
  volumes?: string[];
  healthcheck: { test: string[] };
  deploy: { resources: { limits: { memory: string } } };
  logging: { driver: string; options: Record<string, string> };
  depends_on?: Record<string, { condition: string }>;
  privileged?: boolean;
  command?: string[];
  entrypoint?: string[];
};
type Stack = { name: string; services: Record<string, Service>; networks: Record<string, { internal?: boolean }>; volumes: Record<string, Record<string, unknown>> };

const stack = () => composeStack(config(), versions()) as unknown as Stack;
const committed = () => readFileSync(join(REPO, "hosts/k8s-worker-3090/compose.yaml"), "utf8");

describe("the Compose stack", () => {
  it("has the seed's services plus the dump job and the runner's engine", () => {
    assert.deepEqual(Object.keys(stack().services).sort(), ["cloudflared", "forgejo", "forgejo-db", "forgejo-db-dump", "pr-agent", "runner", "runner-dind"]);
    assert.equal(stack().name, "forgejo");
  });

  it("publishes only Forgejo's SSH, on port 2222 of the node's address; HTTP stays on the bridge network", () => {
    const s = stack().services;
    assert.deepEqual(s.forgejo!.ports, [{ target: 2222, published: "2222", host_ip: "192.168.1.253", protocol: "tcp" }]);
    for (const [name, svc] of Object.entries(s)) if (name !== "forgejo") assert.equal(svc.ports, undefined, `${name} publishes a port`);
    const env = s.forgejo!.environment!;
    assert.equal(env.FORGEJO__server__HTTP_PORT, "3000");
    assert.equal(env.FORGEJO__server__SSH_PORT, "2222");
    assert.equal(env.FORGEJO__server__SSH_LISTEN_PORT, "2222");
    assert.equal(env.FORGEJO__server__SSH_DOMAIN, "192.168.1.253");
    assert.equal(env.FORGEJO__server__ROOT_URL, "https://git.skypalette.ai/");
    assert.equal(env.FORGEJO__packages__ENABLED, "true", "the container registry the site image is pushed to");
    assert.equal(env.FORGEJO__database__HOST, "forgejo-db:5432");
  });

  it("networks: the database is on an internal network with Forgejo and the dump job only; the engine only with the runner", () => {
    const st = stack();
    assert.deepEqual(st.networks, { forgejo: { driver: "bridge" }, "forgejo-db": { driver: "bridge", internal: true }, ci: { driver: "bridge" } });
    const on = (net: string) => Object.entries(st.services).filter(([, s]) => s.networks.includes(net)).map(([n]) => n).sort();
    assert.deepEqual(on("forgejo-db"), ["forgejo", "forgejo-db", "forgejo-db-dump"]);
    assert.deepEqual(on("ci"), ["runner", "runner-dind"]);
    assert.deepEqual(on("forgejo"), ["cloudflared", "forgejo", "pr-agent", "runner"]);
  });

  it("volumes: named volumes for data; the dumps on a host folder; nobody mounts the host's Docker socket", () => {
    const st = stack();
    const s = st.services;
    assert.deepEqual(s.forgejo!.volumes, ["forgejo-data:/var/lib/gitea", "forgejo-config:/etc/gitea"]);
    assert.deepEqual(s["forgejo-db"]!.volumes, ["forgejo-db:/var/lib/postgresql/data"]);
    assert.deepEqual(s["forgejo-db-dump"]!.volumes, ["forgejo-db-dumps:/dumps"]);
    assert.deepEqual(s["runner-dind"]!.volumes, ["runner-dind:/var/lib/docker"]);
    assert.deepEqual(s.runner!.volumes, ["runner-data:/data", "./runner/config.yaml:/config/runner.yaml:ro"]);
    assert.deepEqual(s.cloudflared!.volumes, ["./cloudflared/forgejo.yaml:/etc/cloudflared/config.yaml:ro"]);
    assert.deepEqual(st.volumes["forgejo-db-dumps"], { driver: "local", driver_opts: { type: "none", o: "bind", device: DB_DUMP_DIR } });
    assert.equal(DB_DUMP_DIR, "/var/lib/homelab/backups/forgejo-db");
    assert.doesNotMatch(committed(), /docker\.sock/);
  });

  it("the runner's jobs use its own privileged Docker-in-Docker engine over the ci network", () => {
    const s = stack().services;
    assert.equal(s.runner!.environment!.DOCKER_HOST, "tcp://runner-dind:2375");
    assert.equal(s["runner-dind"]!.privileged, true);
    assert.deepEqual(s["runner-dind"]!.command, ["dockerd", "-H", "tcp://0.0.0.0:2375", "--tls=false"]);
    for (const [name, svc] of Object.entries(s)) if (name !== "runner-dind") assert.notEqual(svc.privileged, true, `${name} is privileged`);
    assert.deepEqual(s.runner!.depends_on, { forgejo: { condition: "service_healthy" }, "runner-dind": { condition: "service_healthy" } });
  });

  it("Forgejo starts only once PostgreSQL is healthy; every service has a health check, a restart policy, a memory limit and rotated JSON logs", () => {
    const s = stack().services;
    assert.deepEqual(s.forgejo!.depends_on, { "forgejo-db": { condition: "service_healthy" } });
    assert.deepEqual(s["forgejo-db"]!.healthcheck.test, ["CMD", "pg_isready", "-U", "forgejo", "-d", "forgejo"]);
    const memory: Record<string, string> = { forgejo: "1g", "forgejo-db": "512m", "forgejo-db-dump": "256m", runner: "256m", "runner-dind": "4g", cloudflared: "128m", "pr-agent": "512m" };
    for (const [name, svc] of Object.entries(s)) {
      assert.equal(svc.restart, "unless-stopped", name);
      assert.ok(svc.healthcheck.test.length > 1 && /^CMD/.test(svc.healthcheck.test[0]!), `${name} health check`);
      assert.equal(svc.deploy.resources.limits.memory, memory[name], `${name} memory limit`);
      assert.deepEqual(svc.logging, { driver: "json-file", options: { "max-size": "10m", "max-file": "3" } }, name);
    }
  });

  it("every image is the one pinned in versions.yaml", () => {
    const v = versions().images;
    const pin = (n: string) => `${v[n]!.image}:${v[n]!.tag}`;
    const s = stack().services;
    assert.equal(s.forgejo!.image, pin("forgejo"));
    assert.equal(s["forgejo-db"]!.image, pin("postgres"));
    assert.equal(s["forgejo-db-dump"]!.image, pin("postgres"));
    assert.equal(s.runner!.image, pin("forgejo-runner"));
    assert.equal(s["runner-dind"]!.image, pin("docker-dind"));
    assert.equal(s.cloudflared!.image, pin("cloudflared"), "the same cloudflared pin as the cluster tunnel");
    assert.equal(s["pr-agent"]!.image, pin("pr-agent"));
  });

  it("secrets: every credential is a required reference to a key of the encrypted env file, none is in the file", () => {
    const s = stack().services;
    const ref = (k: string) => `\${${k}:?${k} must come from homelab secrets exec-env ${COMPOSE_SECRETS_FILE}}`;
    assert.equal(s.forgejo!.environment!.FORGEJO__database__PASSWD, ref("FORGEJO_DB_PASSWORD"));
    assert.equal(s["forgejo-db"]!.environment!.POSTGRES_PASSWORD, ref("FORGEJO_DB_PASSWORD"));
    assert.equal(s["forgejo-db-dump"]!.environment!.PGPASSWORD, ref("FORGEJO_DB_PASSWORD"));
    assert.equal(s.runner!.environment!.RUNNER_REGISTRATION_TOKEN, ref("RUNNER_REGISTRATION_TOKEN"));
    assert.equal(s.cloudflared!.environment!.TUNNEL_CRED_CONTENTS, ref("FORGEJO_TUNNEL_CREDENTIALS"));
    assert.equal(s["pr-agent"]!.environment!.GITEA__PERSONAL_ACCESS_TOKEN, ref("PR_AGENT_FORGEJO_TOKEN"));
    assert.equal(s["pr-agent"]!.environment!.GITEA__WEBHOOK_SECRET, ref("PR_AGENT_WEBHOOK_SECRET"));
    assert.equal(s["pr-agent"]!.environment!.OPENAI__KEY, ref("PR_AGENT_OPENAI_KEY"));
    assert.deepEqual(composeEnvReferences(committed()), Object.keys(COMPOSE_SECRET_KEYS).sort());
    // Every other `$` is Compose's `$$` escape for the shell inside the container.
    assert.doesNotMatch(committed().replace(/\$\$/g, "").replace(/\$\{[A-Z_]+:\?[^}]*\}/g, ""), /\$/);
    assert.match(committed(), /--token "\$\$RUNNER_REGISTRATION_TOKEN"/);
  });

  it("the nightly dump writes a custom-format dump under a temporary name, renames it, and keeps a week", () => {
    const script = stack().services["forgejo-db-dump"]!.entrypoint!;
    assert.equal(script[0], "/bin/sh");
    assert.match(script[2]!, /pg_dump --format=custom --file="\$\$f\.partial" && mv "\$\$f\.partial" "\$\$f"/);
    assert.match(script[2]!, /-mtime \+7 -delete/);
    assert.match(script[2]!, /3 \* 3600/);
  });

  it("the committed compose.yaml is the rendered one and passes the Compose specification's schema", () => {
    const doc = parse(committed());
    assert.deepEqual(doc, stack());
    assert.deepEqual(checkCompose(doc, "compose.yaml"), []);
  });
});

describe("the Compose schema check", () => {
  it("runs the committed validator, which is the schema as Ajv compiles it (rerun scripts/gen-compose-validator.ts when not)", async () => {
    assert.equal(readFileSync(join(REPO, COMPOSE_VALIDATOR_FILE), "utf8"), await composeValidatorSource());
    // The check loads no Ajv compiler: only the generated module and Ajv's small runtime helpers.
    const source = readFileSync(join(REPO, "src/host/compose-schema.ts"), "utf8");
    assert.doesNotMatch(source, /import \{[^}]*\bAjv\b/);
  });

  const broken = (edit: (s: Stack) => void) => {
    const s = stack();
    edit(s);
    return checkCompose(JSON.parse(JSON.stringify(s)), "hosts/x/compose.yaml");
  };

  it("names an unknown key with its path", () => {
    const issues = broken((s) => ((s.services.forgejo as unknown as Record<string, unknown>).restart_policy = "always"));
    assert.deepEqual(issues.map((i) => [i.file, i.path, i.message, i.check]), [["hosts/x/compose.yaml", "/services/forgejo", "unknown key 'restart_policy'", "compose-schema"]]);
  });

  it("rejects a wrong type and a wrong enum value", () => {
    const issues = broken((s) => {
      (s.services.forgejo as unknown as Record<string, unknown>).volumes = "forgejo-data:/var/lib/gitea";
      (s.services.forgejo!.depends_on!["forgejo-db"] as unknown as Record<string, unknown>).condition = "service_ready";
    });
    assert.ok(issues.some((i) => i.path === "/services/forgejo/volumes" && i.message === "must be array"), JSON.stringify(issues));
    assert.ok(
      issues.some((i) => i.path === "/services/forgejo/depends_on/forgejo-db/condition" && i.message === "must be equal to one of the allowed values: service_started, service_healthy, service_completed_successfully"),
      JSON.stringify(issues),
    );
  });

  it("rejects an unknown network option", () => {
    const issues = broken((s) => ((s.networks["forgejo-db"] as Record<string, unknown>).private = true));
    assert.deepEqual(issues.map((i) => [i.path, i.message]), [["/networks/forgejo-db", "unknown key 'private'"]]);
  });
});

describe("the Compose secrets check", () => {
  const text = () => toYaml(composeStack(config(), versions()));
  const withEnv = (content: string | undefined, fn: (root: string) => void) => {
    const root = mkdtempSync(join(tmpdir(), "homelab-compose-"));
    try {
      if (content !== undefined) {
        mkdirSync(join(root, "secrets/forgejo"), { recursive: true });
        writeFileSync(join(root, COMPOSE_SECRETS_FILE), content);
      }
      fn(root);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };
  const committedEnv = () => readFileSync(join(REPO, COMPOSE_SECRETS_FILE), "utf8");

  it("passes on the committed example (placeholders encrypted to the test-only recipient)", () => {
    assert.deepEqual(checkComposeSecrets(text(), "compose.yaml", REPO), []);
    assert.match(committedEnv(), /^sops_age__list_0__map_recipient=age1je6kjhzuhdjy3fqptpttxjh5k8q46vygzlgtpuq3030c947pc5tqz9dqvr$/m);
  });

  it("a missing file, a missing key, a value in the clear and an undeclared reference are each named", () => {
    withEnv(undefined, (root) => {
      const [i] = checkComposeSecrets(text(), "compose.yaml", root);
      assert.match(i!.message, /^missing; create it with `homelab secrets set secrets\/forgejo\/compose\.sops\.env/);
    });
    withEnv(committedEnv().replace(/^RUNNER_REGISTRATION_TOKEN=.*\n/m, ""), (root) => {
      assert.deepEqual(checkComposeSecrets(text(), "compose.yaml", root).map((i) => i.path), ["RUNNER_REGISTRATION_TOKEN"]);
    });
    withEnv(committedEnv().replace(/^PR_AGENT_OPENAI_KEY=.*$/m, "PR_AGENT_OPENAI_KEY=sk-live-value"), (root) => {
      assert.deepEqual(checkComposeSecrets(text(), "compose.yaml", root).map((i) => i.message), ["PR_AGENT_OPENAI_KEY is not encrypted"]);
    });
    withEnv("FORGEJO_DB_PASSWORD=hunter2\n", (root) => {
      assert.match(checkComposeSecrets(text(), "compose.yaml", root)[0]!.message, /not a sops-encrypted env file/);
    });
    const extra = text().replace("OPENAI__KEY:", "EXTRA: ${SOME_OTHER_KEY:?x}\n      OPENAI__KEY:");
    assert.deepEqual(checkComposeSecrets(extra, "compose.yaml", REPO).map((i) => i.message), ["reads SOME_OTHER_KEY, which is not a declared key of secrets/forgejo/compose.sops.env"]);
  });
});
