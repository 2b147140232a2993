/**
 * The site's server against Debian's nginx serving the same pre-rendered, pre-compressed files, in the same
 * run with the same load generator (Debian's wrk, keep-alive connections, `Accept-Encoding: br, gzip`, every
 * file of the site in turn): requests/s, p50/p99 latency and the server's peak RSS.
 * The server runs as the image runs it (the bundle, plain node); nginx with one worker (the server is one
 * Node process, as in its pod) and brotli_static/gzip_static. Two configurations: both logging every request
 * (nginx's access log, the server's JSON access line and span; what runs in the cluster), and both quiet.
 * Rounds alternate between the servers so that machine noise hits all alike. Targets: at least 0.8x
 * nginx's requests/s, p99 under 2x nginx's, peak RSS under 100 MiB.
 * The server gets METRICS_PORT as in the cluster (its /metrics on a port of its own). It runs twice: as
 * deployed (its fast path on: plain GETs answered without node:http's request objects) and with
 * SITE_FAST_PATH=off (every request through node:http, the server before the fast path). Another server, the
 * floor (scripts/bench-site-floor.mjs: plain node:http sending the same bytes with the same heads and doing
 * nothing else), runs in the same rounds: it does not make the comparison easier, it shows how much of what
 * is left is Node's HTTP stack rather than the site's server. The load averages before and after are printed:
 * on a shared machine the absolute figures move with them, the same-run ratios much less.
 * `node --import tsx scripts/bench-site.ts` alone, or the last part of `npm run bench`.
 * nginx and wrk are installed by scripts/ensure-bench-tools.sh when missing.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, openSync } from "node:fs";
import { get as httpGet } from "node:http";
import { connect, createServer } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { SECURITY_HEADERS } from "../apps/site/src/server/headers.ts";

const REPO = resolve(import.meta.dirname, "..");
const ROUNDS = Number(process.env.BENCH_SITE_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SITE_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_SITE_CONNECTIONS ?? 32);
/** node's flags in the image's CMD (apps/site/Dockerfile), so the server runs here as it runs there. */
const IMAGE_NODE_FLAGS = (() => {
  const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(join(REPO, "apps/site/Dockerfile"), "utf8"));
  if (!cmd) throw new Error("apps/site/Dockerfile has no CMD in exec form");
  return (JSON.parse(cmd[1]!) as string[]).slice(1, -1);
})();

function must(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 26, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

async function waitForPort(port: number, proc: ChildProcess, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with ${proc.exitCode}`);
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, "127.0.0.1");
      s.on("connect", () => (s.destroy(), r(true)));
      s.on("error", () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not listen on ${port}`);
}

interface Result {
  rps: number;
  p50ms: number;
  p99ms: number;
  errors: number;
}

function toMs(v: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v.trim());
  if (!m) throw new Error(`wrk latency "${v}"`);
  const n = Number(m[1]);
  return m[2] === "us" ? n / 1000 : m[2] === "s" ? n * 1000 : n;
}

function wrk(port: number, script: string, seconds: number): Result {
  const out = must("wrk", ["-t1", `-c${CONNECTIONS}`, `-d${seconds}s`, "--latency", "--timeout", "10s", "-s", script, `http://127.0.0.1:${port}/`]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p50 = /^\s+50%\s+(\S+)/m.exec(out)?.[1];
  const p99 = /^\s+99%\s+(\S+)/m.exec(out)?.[1];
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = non2xx + (sock ? sock.slice(1).reduce((n, x) => n + Number(x), 0) : 0);
  if (!rps || !p50 || !p99) throw new Error(`could not read wrk's output:\n${out}`);
  return { rps, p50ms: toMs(p50), p99ms: toMs(p99), errors };
}

function fetchBody(port: number, path: string): Promise<{ status: number; encoding: string; bytes: number; head: string[] }> {
  return new Promise((ok, fail) => {
    httpGet({ host: "127.0.0.1", port, path, headers: { "accept-encoding": "br, gzip" } }, (res) => {
      let bytes = 0;
      // The head as sent, less what node:http adds to every answer by itself.
      const head = res.rawHeaders.filter((_, i, all) => i % 2 === 0 && !/^(date|connection|keep-alive)$/i.test(all[i]!)).flatMap((name) => [name, res.headers[name.toLowerCase()] as string]);
      res.on("data", (c: Buffer) => (bytes += c.length));
      res.on("end", () => ok({ status: res.statusCode!, encoding: String(res.headers["content-encoding"] ?? "identity"), bytes, head }));
    }).on("error", fail);
  });
}

function loadAverage(): string {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
}

function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

function nginxConf(dir: string, root: string, port: number, log: boolean): string {
  const headers = Object.entries(SECURITY_HEADERS)
    .map(([k, v]) => `      add_header ${k} "${v}" always;`)
    .join("\n");
  return `load_module /usr/lib/nginx/modules/ngx_http_brotli_static_module.so;
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log ${log ? `${dir}/nginx-access.log` : "off"};
  client_body_temp_path ${dir}/nginx-body;
  proxy_temp_path ${dir}/nginx-proxy;
  fastcgi_temp_path ${dir}/nginx-fastcgi;
  uwsgi_temp_path ${dir}/nginx-uwsgi;
  scgi_temp_path ${dir}/nginx-scgi;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 5s;
  keepalive_requests 1000000;
  server_tokens off;
  gzip_static on;
  brotli_static on;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    index index.html;
    location ~ /\\. { return 404; }
    location / {
${headers}
      add_header cache-control "no-cache" always;
      try_files $uri $uri/ $uri.html =404;
    }
    error_page 404 /404.html;
  }
}
`;
}

export async function benchSite(): Promise<void> {
  const tools = spawnSync("bash", [join(REPO, "scripts/ensure-bench-tools.sh")], { stdio: "inherit" });
  if (tools.status !== 0) throw new Error("scripts/ensure-bench-tools.sh failed");
  const dir = mkdtempSync(join(tmpdir(), "bench-site-"));
  // nginx's worker runs as an unprivileged user: it must be able to read the site (mkdtemp makes it 0700).
  chmodSync(dir, 0o755);
  const procs: ChildProcess[] = [];
  const cleanup = [dir];
  try {
    // The site as the image has it: generated (and pre-compressed) by the generator, the server bundled.
    must(process.execPath, ["--import", "tsx", join(REPO, "apps/site/src/generate/cli.ts"), "--out", join(dir, "public")], { cwd: REPO });
    // Inside the checkout, so that the bundle finds its npm packages in node_modules as in the image.
    const bundle = join(REPO, "apps/site/dist", `bench-${process.pid}`);
    cleanup.push(bundle);
    must(process.execPath, [join(REPO, "apps/site/scripts/bundle-server.mjs"), "--out", bundle]);
    const root = join(dir, "public");
    const paths = files(root)
      .filter((f) => !/\.(gz|br)$/.test(f))
      .map((f) => `/${relative(root, f)}`)
      .sort();
    const script = join(dir, "paths.lua");
    writeFileSync(
      script,
      `local paths = {${paths.map((p) => JSON.stringify(p)).join(", ")}}\nlocal i = 0\nwrk.headers["Accept-Encoding"] = "br, gzip"\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format("GET", paths[i])\nend\n`,
    );
    const bytes = paths.reduce((n, p) => n + statSync(join(root, p)).size, 0);
    const loadBefore = loadAverage();
    console.log(
      `\nsite server vs ${spawnSync("nginx", ["-v"], { encoding: "utf8" }).stderr.trim().replace("nginx version: ", "")} (1 worker) with the server run as in the image (node ${IMAGE_NODE_FLAGS.join(" ")}), wrk 1 thread ${CONNECTIONS} keep-alive connections, ${paths.length} files (${(bytes / 1024).toFixed(0)} KiB) in turn, ${ROUNDS} alternating rounds of ${SECONDS} s (median), ${process.version}`,
    );

    for (const logging of [true, false]) {
      // The server as deployed (fast path on) and with SITE_FAST_PATH=off (every request through node:http).
      const startSite = async (fastPath: boolean) => {
        const port = await freePort();
        const out = openSync(join(dir, `site-${logging}-${fastPath}.log`), "w");
        const proc = spawn(process.execPath, [...IMAGE_NODE_FLAGS, join(bundle, "main.js")], {
          env: {
            ...process.env,
            NODE_ENV: "production",
            PORT: String(port),
            // As the cluster runs it (the app's metricsPort): /metrics on a port of its own.
            METRICS_PORT: String(await freePort()),
            HOST: "127.0.0.1",
            SITE_ROOT: root,
            SITE_FAST_PATH: fastPath ? "on" : "off",
            ...(logging ? {} : { LOG_LEVEL: "warn", OTEL_TRACES_SAMPLER: "always_off" }),
          },
          stdio: ["ignore", out, out],
        });
        procs.push(proc);
        await waitForPort(port, proc, `site server (fast path ${fastPath ? "on" : "off"})`);
        return { port, proc };
      };
      const { port: sitePort, proc: site } = await startSite(true);
      const { port: offPort, proc: off } = await startSite(false);
      const nginxPort = await freePort();
      const conf = join(dir, `nginx-${logging}.conf`);
      writeFileSync(conf, nginxConf(dir, root, nginxPort, logging));
      const nginx = spawn("nginx", ["-c", conf, "-p", dir], { stdio: ["ignore", "ignore", "inherit"] });
      procs.push(nginx);
      await waitForPort(nginxPort, nginx, "nginx");
      // Both must answer every file with 200 and the same bytes, else the comparison means nothing.
      const heads: Record<string, string[]> = {};
      for (const p of paths) {
        const [a, b, o] = await Promise.all([fetchBody(sitePort, p), fetchBody(nginxPort, p), fetchBody(offPort, p)]);
        if (a.status !== 200 || b.status !== 200 || a.encoding !== b.encoding || a.bytes !== b.bytes) {
          throw new Error(`${p}: site server ${a.status} ${a.encoding} ${a.bytes} B, nginx ${b.status} ${b.encoding} ${b.bytes} B`);
        }
        if (o.status !== 200 || JSON.stringify(o) !== JSON.stringify(a)) throw new Error(`${p}: the fast path off answers otherwise than on: ${JSON.stringify(o)}`);
        heads[p] = a.head;
      }
      const headsFile = join(dir, "heads.json");
      writeFileSync(headsFile, JSON.stringify(heads));
      const floorPort = await freePort();
      const floor = spawn(process.execPath, [...IMAGE_NODE_FLAGS, join(REPO, "scripts/bench-site-floor.mjs")], {
        env: { ...process.env, PORT: String(floorPort), HOST: "127.0.0.1", SITE_ROOT: root, HEADS: headsFile },
        stdio: ["ignore", "ignore", "inherit"],
      });
      procs.push(floor);
      await waitForPort(floorPort, floor, "node:http floor");
      for (const p of paths) {
        const [a, f] = await Promise.all([fetchBody(sitePort, p), fetchBody(floorPort, p)]);
        if (f.status !== 200 || a.encoding !== f.encoding || a.bytes !== f.bytes || JSON.stringify(a.head) !== JSON.stringify(f.head)) {
          throw new Error(`${p}: the floor answers otherwise than the site server: ${f.status} ${f.encoding} ${f.bytes} B`);
        }
      }
      // Warm them (the JIT, the page cache) before measuring.
      wrk(sitePort, script, 2);
      wrk(offPort, script, 2);
      wrk(nginxPort, script, 2);
      wrk(floorPort, script, 2);
      const runs = { site: [] as Result[], off: [] as Result[], nginx: [] as Result[], floor: [] as Result[] };
      for (let i = 0; i < ROUNDS; i++) {
        runs.nginx.push(wrk(nginxPort, script, SECONDS));
        runs.site.push(wrk(sitePort, script, SECONDS));
        runs.off.push(wrk(offPort, script, SECONDS));
        runs.floor.push(wrk(floorPort, script, SECONDS));
      }
      const med = (rs: Result[], k: keyof Result) => [...rs.map((r) => r[k])].sort((a, b) => a - b)[Math.floor(rs.length / 2)]!;
      const rss = peakRssMiB(site.pid!);
      const offRss = peakRssMiB(off.pid!);
      const n = { rps: med(runs.nginx, "rps"), p50: med(runs.nginx, "p50ms"), p99: med(runs.nginx, "p99ms") };
      const s = { rps: med(runs.site, "rps"), p50: med(runs.site, "p50ms"), p99: med(runs.site, "p99ms") };
      const f = { rps: med(runs.floor, "rps"), p50: med(runs.floor, "p50ms"), p99: med(runs.floor, "p99ms") };
      const o = { rps: med(runs.off, "rps"), p50: med(runs.off, "p50ms"), p99: med(runs.off, "p99ms") };
      const errs = (rs: Result[]) => {
        const e = rs.reduce((x, r) => x + r.errors, 0);
        return e ? `   ${e} errors (non-2xx/3xx or socket errors)!` : "";
      };
      console.log(`  ${logging ? "both logging every request (as deployed)" : "both quiet (no access log, no spans)"}`);
      console.log(`    nginx        ${n.rps.toFixed(0).padStart(7)} req/s   p50 ${n.p50.toFixed(2).padStart(6)} ms   p99 ${n.p99.toFixed(2).padStart(6)} ms${errs(runs.nginx)}`);
      console.log(`    site server  ${s.rps.toFixed(0).padStart(7)} req/s   p50 ${s.p50.toFixed(2).padStart(6)} ms   p99 ${s.p99.toFixed(2).padStart(6)} ms   peak RSS ${rss.toFixed(0)} MiB${errs(runs.site)}`);
      console.log(`    fast path off${o.rps.toFixed(0).padStart(7)} req/s   p50 ${o.p50.toFixed(2).padStart(6)} ms   p99 ${o.p99.toFixed(2).padStart(6)} ms   peak RSS ${offRss.toFixed(0)} MiB   (SITE_FAST_PATH=off: every request through node:http)${errs(runs.off)}`);
      console.log(`    node:http floor ${f.rps.toFixed(0).padStart(4)} req/s   p50 ${f.p50.toFixed(2).padStart(6)} ms   p99 ${f.p99.toFixed(2).padStart(6)} ms   (the same bytes, nothing else)${errs(runs.floor)}`);
      const tr = s.rps / n.rps;
      const lr = s.p99 / n.p99;
      console.log(
        `    ratios: throughput ${tr.toFixed(2)}x nginx (target >= 0.8x: ${tr >= 0.8 ? "met" : "MISSED"}), p99 ${lr.toFixed(2)}x nginx (target < 2x: ${lr < 2 ? "met" : "MISSED"}), p50 ${(s.p50 / n.p50).toFixed(2)}x; RSS target < 100 MiB: ${rss < 100 ? "met" : "MISSED"}`,
      );
      console.log(
        `    fast path off: ${(o.rps / n.rps).toFixed(2)}x nginx's throughput, p99 ${(o.p99 / n.p99).toFixed(2)}x; floor: ${(f.rps / n.rps).toFixed(2)}x nginx's throughput; site server ${(s.rps / f.rps).toFixed(2)}x the floor's, ${(s.rps / o.rps).toFixed(2)}x its own with the fast path off`,
      );
      site.kill("SIGTERM");
      off.kill("SIGTERM");
      nginx.kill("SIGQUIT");
      floor.kill("SIGTERM");
      await Promise.all([site, off, nginx, floor].map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once("exit", r)))));
    }
    console.log(`  load average (1, 5, 15 min) before: ${loadBefore}, after: ${loadAverage()} (${cpus().length} cores)`);
  } finally {
    for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
    for (const d of cleanup) rmSync(d, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchSite();
