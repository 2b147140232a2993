/**
 * The Forgejo host's Docker Compose stack: Forgejo, its PostgreSQL and nightly dump, the Actions runner with
 * its Docker-in-Docker engine, the `git.<domain>` tunnel and pr-agent. Pure: config in, one Compose document
 * out; `compose-schema.ts` checks it against the Compose specification before anything is written.
 *
 * Secrets never appear in the file: every credential is a `${NAME:?…}` reference that Compose fills from its
 * own environment, which `homelab secrets exec-env secrets/forgejo/compose.sops.env -- docker compose …`
 * provides at deploy time (see `COMPOSE_SECRET_KEYS` and docs/bootstrap.md).
 */
import type { HomelabConfig, NodeConfig, Versions } from "../config/schema.ts";
import { imageRef } from "../platform/lib/context.ts";

/** The encrypted dotenv file the stack's credentials live in (every value encrypted, see .sops.yaml). */
export const COMPOSE_SECRETS_FILE = "secrets/forgejo/compose.sops.env";

/** Each variable the stack reads from the encrypted env file, and who reads it. */
export const COMPOSE_SECRET_KEYS = {
  FORGEJO_DB_PASSWORD: "forgejo, forgejo-db and forgejo-db-dump: the database password",
  RUNNER_REGISTRATION_TOKEN: "runner: the registration token (Site administration → Actions → Runners)",
  FORGEJO_TUNNEL_CREDENTIALS: "cloudflared: the git tunnel's credentials JSON (`cloudflared tunnel create`)",
  PR_AGENT_FORGEJO_TOKEN: "pr-agent: a Forgejo access token of its bot user",
  PR_AGENT_WEBHOOK_SECRET: "pr-agent: the secret Forgejo signs its webhooks with",
  PR_AGENT_OPENAI_KEY: "pr-agent: the model provider's API key",
} as const;
export type ComposeSecretKey = keyof typeof COMPOSE_SECRET_KEYS;

/** Compose project name: containers are `forgejo-<service>-1`, volumes `forgejo_<volume>`. */
export const COMPOSE_PROJECT = "forgejo";
/** Forgejo's HTTP port on the bridge network (never published on the host). */
export const FORGEJO_HTTP_PORT = 3000;
/** Forgejo's SSH port, published on the node's address. */
export const FORGEJO_SSH_PORT = 2222;
/** Where the nightly dumps land on the host, for the off-host backup to pick up. */
export const DB_DUMP_DIR = "/var/lib/homelab/backups/forgejo-db";
/** The runner's own Docker engine, reachable only on the `ci` network. */
export const DIND_PORT = 2375;
/** Files of the stack rendered beside compose.yaml and bind-mounted read-only (paths relative to it). */
export const COMPOSE_FILES = { tunnelConfig: "cloudflared/forgejo.yaml", runnerConfig: "runner/config.yaml" } as const;

const DB = { name: "forgejo", user: "forgejo" };

/** A reference Compose resolves from its environment; it refuses to start when the variable is unset. */
function secretRef(key: ComposeSecretKey): string {
  return `\${${key}:?${key} must come from homelab secrets exec-env ${COMPOSE_SECRETS_FILE}}`;
}

/** JSON logs, rotated so a chatty container cannot fill the disk. */
const LOGGING = { driver: "json-file", options: { "max-size": "10m", "max-file": "3" } };

function limits(memory: string) {
  return { resources: { limits: { memory } } };
}

/** The node whose Docker engine runs the stack: the first control-plane node (on Sky Palette, the only one). */
export function composeNode(config: HomelabConfig): NodeConfig {
  return config.nodes.find((n) => n.roles.includes("control-plane")) ?? config.nodes[0]!;
}

/**
 * The nightly logical dump: a custom-format `pg_dump` at 03:00 UTC into the dumps volume, written to a
 * temporary name and renamed, so a half-written dump is never mistaken for a good one; a week is kept.
 * `$$` is Compose's escape for a `$` the shell should see.
 */
const DUMP_SCRIPT = [
  "set -eu",
  "while true; do",
  "  sleep $$(( (86400 + 3 * 3600 - $$(date +%s) % 86400) % 86400 + 1 ))",
  '  f=/dumps/forgejo-$$(date -u +%Y%m%dT%H%M%SZ).dump',
  '  pg_dump --format=custom --file="$$f.partial" && mv "$$f.partial" "$$f"',
  "  find /dumps -name 'forgejo-*.dump' -mtime +7 -delete",
  "done",
].join("\n");

/**
 * Registers once (the registration is kept in /data/.runner), then runs the daemon. The token is only read
 * on the first start; a re-registration needs the file removed.
 */
function runnerCommand(config: HomelabConfig): string {
  return [
    "set -eu",
    "if [ ! -f /data/.runner ]; then",
    `  forgejo-runner register --no-interactive --instance http://forgejo:${FORGEJO_HTTP_PORT} --token "$$RUNNER_REGISTRATION_TOKEN" --name ${config.name}-runner --labels docker:docker://node:20-bookworm`,
    "fi",
    "exec forgejo-runner daemon --config /config/runner.yaml",
  ].join("\n");
}

export function composeStack(config: HomelabConfig, versions: Versions): Record<string, unknown> {
  const node = composeNode(config);
  const gitHost = config.tunnels.forgejo.hostname;
  const dbEnv = { PGHOST: "forgejo-db", PGUSER: DB.user, PGDATABASE: DB.name, PGPASSWORD: secretRef("FORGEJO_DB_PASSWORD") };
  return {
    name: COMPOSE_PROJECT,
    services: {
      forgejo: {
        image: imageRef(versions, "forgejo"),
        restart: "unless-stopped",
        depends_on: { "forgejo-db": { condition: "service_healthy" } },
        environment: {
          FORGEJO__database__DB_TYPE: "postgres",
          FORGEJO__database__HOST: "forgejo-db:5432",
          FORGEJO__database__NAME: DB.name,
          FORGEJO__database__USER: DB.user,
          FORGEJO__database__PASSWD: secretRef("FORGEJO_DB_PASSWORD"),
          FORGEJO__server__DOMAIN: gitHost,
          FORGEJO__server__ROOT_URL: `https://${gitHost}/`,
          FORGEJO__server__HTTP_PORT: String(FORGEJO_HTTP_PORT),
          // SSH does not go through the tunnel: clients reach the node's address on 2222.
          FORGEJO__server__SSH_DOMAIN: node.address,
          FORGEJO__server__SSH_PORT: String(FORGEJO_SSH_PORT),
          FORGEJO__server__SSH_LISTEN_PORT: String(FORGEJO_SSH_PORT),
          FORGEJO__server__START_SSH_SERVER: "true",
          // The site image is pushed to Forgejo's own container registry.
          FORGEJO__packages__ENABLED: "true",
          FORGEJO__actions__ENABLED: "true",
          FORGEJO__security__INSTALL_LOCK: "true",
          FORGEJO__service__DISABLE_REGISTRATION: "true",
          // Webhooks may reach pr-agent on the bridge network and nothing else private.
          FORGEJO__webhook__ALLOWED_HOST_LIST: "pr-agent",
        },
        ports: [{ target: FORGEJO_SSH_PORT, published: String(FORGEJO_SSH_PORT), host_ip: node.address, protocol: "tcp" }],
        networks: ["forgejo", "forgejo-db"],
        volumes: ["forgejo-data:/var/lib/gitea", "forgejo-config:/etc/gitea"],
        healthcheck: {
          test: ["CMD", "curl", "-fsS", "-o", "/dev/null", `http://127.0.0.1:${FORGEJO_HTTP_PORT}/api/healthz`],
          interval: "30s",
          timeout: "5s",
          retries: 5,
          start_period: "60s",
        },
        deploy: limits("1g"),
        logging: LOGGING,
      },
      "forgejo-db": {
        image: imageRef(versions, "postgres"),
        restart: "unless-stopped",
        environment: { POSTGRES_DB: DB.name, POSTGRES_USER: DB.user, POSTGRES_PASSWORD: secretRef("FORGEJO_DB_PASSWORD") },
        networks: ["forgejo-db"],
        volumes: ["forgejo-db:/var/lib/postgresql/data"],
        healthcheck: { test: ["CMD", "pg_isready", "-U", DB.user, "-d", DB.name], interval: "10s", timeout: "5s", retries: 6, start_period: "30s" },
        deploy: limits("512m"),
        logging: LOGGING,
      },
      "forgejo-db-dump": {
        image: imageRef(versions, "postgres"),
        restart: "unless-stopped",
        depends_on: { "forgejo-db": { condition: "service_healthy" } },
        entrypoint: ["/bin/sh", "-c", DUMP_SCRIPT],
        environment: dbEnv,
        networks: ["forgejo-db"],
        volumes: ["forgejo-db-dumps:/dumps"],
        healthcheck: { test: ["CMD", "pg_isready", "-h", "forgejo-db", "-U", DB.user, "-d", DB.name], interval: "60s", timeout: "5s", retries: 3 },
        deploy: limits("256m"),
        logging: LOGGING,
      },
      runner: {
        image: imageRef(versions, "forgejo-runner"),
        restart: "unless-stopped",
        depends_on: { forgejo: { condition: "service_healthy" }, "runner-dind": { condition: "service_healthy" } },
        command: ["/bin/sh", "-c", runnerCommand(config)],
        environment: {
          // The runner starts job containers in its own Docker engine, never in the host's.
          DOCKER_HOST: `tcp://runner-dind:${DIND_PORT}`,
          RUNNER_REGISTRATION_TOKEN: secretRef("RUNNER_REGISTRATION_TOKEN"),
        },
        networks: ["forgejo", "ci"],
        volumes: ["runner-data:/data", `./${COMPOSE_FILES.runnerConfig}:/config/runner.yaml:ro`],
        healthcheck: { test: ["CMD-SHELL", "test -f /data/.runner && pgrep -f 'forgejo-runner daemon' >/dev/null"], interval: "30s", timeout: "5s", retries: 3, start_period: "60s" },
        deploy: limits("256m"),
        logging: LOGGING,
      },
      "runner-dind": {
        image: imageRef(versions, "docker-dind"),
        restart: "unless-stopped",
        // Docker-in-Docker needs a privileged container (decision 0012): the price of keeping the host's
        // Docker socket, and with it the host, out of reach of every job.
        privileged: true,
        command: ["dockerd", "-H", `tcp://0.0.0.0:${DIND_PORT}`, "--tls=false"],
        networks: ["ci"],
        volumes: ["runner-dind:/var/lib/docker"],
        healthcheck: { test: ["CMD", "docker", "-H", `tcp://127.0.0.1:${DIND_PORT}`, "info"], interval: "30s", timeout: "10s", retries: 5, start_period: "30s" },
        deploy: limits("4g"),
        logging: LOGGING,
      },
      cloudflared: {
        image: imageRef(versions, "cloudflared"),
        restart: "unless-stopped",
        depends_on: { forgejo: { condition: "service_healthy" } },
        command: ["tunnel", "--no-autoupdate", "--config", "/etc/cloudflared/config.yaml", "--metrics", "0.0.0.0:2000", "run"],
        // cloudflared reads the credentials JSON from this variable instead of a file on disk.
        environment: { TUNNEL_CRED_CONTENTS: secretRef("FORGEJO_TUNNEL_CREDENTIALS") },
        networks: ["forgejo"],
        volumes: [`./${COMPOSE_FILES.tunnelConfig}:/etc/cloudflared/config.yaml:ro`],
        healthcheck: { test: ["CMD", "cloudflared", "tunnel", "--metrics", "127.0.0.1:2000", "ready"], interval: "30s", timeout: "5s", retries: 3, start_period: "30s" },
        deploy: limits("128m"),
        logging: LOGGING,
      },
      "pr-agent": {
        image: imageRef(versions, "pr-agent"),
        restart: "unless-stopped",
        depends_on: { forgejo: { condition: "service_healthy" } },
        environment: {
          CONFIG__GIT_PROVIDER: "gitea",
          GITEA__URL: `http://forgejo:${FORGEJO_HTTP_PORT}`,
          GITEA__PERSONAL_ACCESS_TOKEN: secretRef("PR_AGENT_FORGEJO_TOKEN"),
          GITEA__WEBHOOK_SECRET: secretRef("PR_AGENT_WEBHOOK_SECRET"),
          OPENAI__KEY: secretRef("PR_AGENT_OPENAI_KEY"),
        },
        networks: ["forgejo"],
        healthcheck: {
          test: ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/', timeout=4)"],
          interval: "60s",
          timeout: "5s",
          retries: 3,
          start_period: "30s",
        },
        deploy: limits("512m"),
        logging: LOGGING,
      },
    },
    networks: {
      // Forgejo, the tunnel, pr-agent and the runner's control connection.
      forgejo: { driver: "bridge" },
      // PostgreSQL: no route out, and only Forgejo and the dump job on it.
      "forgejo-db": { driver: "bridge", internal: true },
      // The runner and its engine; jobs pull images, so it reaches the internet.
      ci: { driver: "bridge" },
    },
    volumes: {
      "forgejo-data": {},
      "forgejo-config": {},
      "forgejo-db": {},
      // A host folder, so the off-host backup reads the dumps without entering Docker's own storage.
      "forgejo-db-dumps": { driver: "local", driver_opts: { type: "none", o: "bind", device: DB_DUMP_DIR } },
      "runner-data": {},
      "runner-dind": {},
    },
  };
}

/** Every `${NAME:?…}` the rendered stack reads from its environment. */
export function composeEnvReferences(text: string): string[] {
  return [...new Set([...text.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!))].sort();
}
