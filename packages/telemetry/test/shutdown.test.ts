import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { Agent, request } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { test } from "node:test";

const APP = join(import.meta.dirname, "fixtures", "slow-app.ts");

interface Running {
  child: ChildProcess;
  lines: Record<string, any>[];
  port: number;
  exited: Promise<{ code: number | null; at: number }>;
  waitFor: (pred: (l: Record<string, any>) => boolean, count?: number) => Promise<void>;
}

async function start(env: Record<string, string> = {}): Promise<Running> {
  const child = spawn(process.execPath, ["--import", "tsx", APP], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  const lines: Record<string, any>[] = [];
  const waiters: (() => void)[] = [];
  let buf = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      lines.push(JSON.parse(buf.slice(0, i)));
      buf = buf.slice(i + 1);
    }
    for (const w of waiters) w();
  });
  const exited = new Promise<{ code: number | null; at: number }>((r) => child.on("exit", (code) => r({ code, at: Date.now() })));
  const waitFor = (pred: (l: Record<string, any>) => boolean, count = 1) =>
    new Promise<void>((resolve, reject) => {
      const check = () => lines.filter(pred).length >= count && (resolve(), true);
      if (check()) return;
      waiters.push(check);
      void exited.then(() => reject(new Error(`app exited before the expected lines; got:\n${lines.map((l) => JSON.stringify(l)).join("\n")}`)));
    });
  await waitFor((l) => l.msg === "listening");
  return { child, lines, port: lines.find((l) => l.msg === "listening")!.port, exited, waitFor };
}

function call(port: number, path: string, agent: Agent): Promise<{ status: number; body: string; connection?: string }> {
  return new Promise((resolve, reject) => {
    request({ host: "127.0.0.1", port, path, agent }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, body, connection: res.headers.connection }));
    })
      .on("error", reject)
      .end();
  });
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.on("connect", () => {
      s.destroy();
      resolve(false);
    });
    s.on("error", (e: NodeJS.ErrnoException) => resolve(e.code === "ECONNREFUSED"));
  });
}

test("SIGTERM with requests in flight: none fails, new connections are refused, spans are flushed, exit 0", async () => {
  const app = await start();
  const agent = new Agent({ keepAlive: true, maxSockets: 10 });
  try {
    // Warm the keep-alive pool so the requests under test ride reused connections.
    await Promise.all(Array.from({ length: 10 }, () => call(app.port, "/work?ms=0", agent)));
    const pending = Array.from({ length: 10 }, () => call(app.port, "/work?ms=1500", agent));
    await app.waitFor((l) => l.msg === "started" && l.ms === 1500, 10);
    const sentAt = Date.now();
    app.child.kill("SIGTERM");
    await app.waitFor((l) => l.msg === "shutting down: draining requests");
    assert.equal(await refused(app.port), true, `a new connection after SIGTERM must be refused: ${app.port} ${JSON.stringify(app.lines.slice(-3))}`);
    const replies = await Promise.all(pending);
    assert.deepEqual(replies.map((r) => `${r.status} ${r.body.trim()}`), Array(10).fill("200 waited 1500"));
    // Keep-alive clients are told the connection ends with this answer, so they send nothing more to it.
    assert.deepEqual(replies.map((r) => r.connection), Array(10).fill("close"));
    const { code, at } = await app.exited;
    assert.equal(code, 0);
    assert.ok(at - sentAt < 10_000, `exited ${at - sentAt} ms after SIGTERM`);
    assert.equal(app.lines.find((l) => l.msg === "shutting down: draining requests")!.in_flight, 10);
    assert.equal(app.lines.find((l) => l.msg === "drained; flushing telemetry")!.clean, true);
    // Every request's span was exported before the exit.
    assert.equal(app.lines.filter((l) => l.span === "GET /work").length, 20);
  } finally {
    agent.destroy();
    app.child.kill("SIGKILL");
  }
});

test("a request that outlasts the grace period is cut so the process exits before the kubelet's SIGKILL", async () => {
  const app = await start({ GRACE_MS: "4000" });
  const agent = new Agent({ keepAlive: false });
  try {
    const stuck = call(app.port, "/work?ms=60000", agent).then(
      () => "answered",
      () => "cut",
    );
    await app.waitFor((l) => l.msg === "started");
    const sentAt = Date.now();
    app.child.kill("SIGTERM");
    const { code, at } = await app.exited;
    assert.equal(await stuck, "cut");
    assert.equal(code, 1);
    // Drain deadline: 5 s before the grace period's end, at least half of it (2 s here); exit well before 4 s.
    assert.ok(at - sentAt >= 1_900 && at - sentAt < 4_000, `exited ${at - sentAt} ms after SIGTERM`);
    assert.equal(app.lines.find((l) => l.msg === "drained; flushing telemetry")!.clean, false);
  } finally {
    agent.destroy();
    app.child.kill("SIGKILL");
  }
});
