/**
 * The Forgejo runner's configuration. Jobs run as containers in the runner's own Docker-in-Docker engine
 * (decision 0012), on that engine's host network, so a job's `docker build` reaches the same engine on
 * 127.0.0.1 and nothing of the host's Docker.
 */
import { DIND_PORT } from "./compose.ts";

export function runnerConfig(): Record<string, unknown> {
  return {
    log: { level: "info" },
    runner: {
      file: "/data/.runner",
      // One job at a time: the box also runs the cluster.
      capacity: 1,
      timeout: "1h",
      envs: { DOCKER_HOST: `tcp://127.0.0.1:${DIND_PORT}` },
      labels: ["docker:docker://node:20-bookworm"],
    },
    cache: { enabled: true, dir: "/data/cache" },
    container: {
      network: "host",
      privileged: false,
      // The engine is reached over TCP: nothing to mount into job containers.
      docker_host: "-",
      valid_volumes: [],
    },
    host: { workdir_parent: "/data/workdir" },
  };
}
