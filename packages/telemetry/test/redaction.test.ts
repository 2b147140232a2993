import assert from "node:assert/strict";
import { test } from "node:test";
import { REDACTED, redactByKey } from "../src/index.ts";
import { kit } from "./helpers.ts";

const SECRETS = ["hunter2", "s3cr3t-value", "Bearer abc.def.ghi", "sessionid=xyz", "tok-123", "AKIAFAKEKEY", "pk-material", "extra-secret"];

test("values under secret-looking keys are redacted at any depth, in arrays, errors and child bindings", async () => {
  const { t, logs } = kit({ redactKeys: ["pin"] });
  try {
    const err = Object.assign(new Error("db down"), { config: { password: "hunter2" } });
    t.logger.info(
      {
        user: "ada",
        db: { host: "db", password: "hunter2", nested: { deeper: { clientSecret: "s3cr3t-value" } } },
        req: { headers: { Authorization: "Bearer abc.def.ghi", cookie: "sessionid=xyz", accept: "text/html" } },
        tokens: [{ refresh_token: "tok-123" }],
        AWS_SECRET_ACCESS_KEY: "AKIAFAKEKEY",
        private_key: "pk-material",
        pin: "extra-secret",
      },
      "hello",
    );
    t.logger.error({ err }, "failed");
    t.logger.child({ apiKey: "tok-123", component: "c" }).info("from child");
    const text = logs.raw.join("\n");
    for (const s of SECRETS) assert.ok(!text.includes(s), `${s} leaked: ${text}`);
    const [first, second, third] = logs.lines;
    assert.equal(first!.user, "ada");
    assert.equal(first!.db.host, "db");
    assert.equal(first!.db.password, REDACTED);
    assert.equal(first!.db.nested.deeper.clientSecret, REDACTED);
    assert.equal(first!.req.headers.Authorization, REDACTED);
    assert.equal(first!.req.headers.cookie, REDACTED);
    assert.equal(first!.req.headers.accept, "text/html");
    assert.equal(first!.tokens, REDACTED); // the key "tokens" itself names secrets
    assert.equal(first!.pin, REDACTED);
    assert.equal(second!.err.message, "db down");
    assert.equal(second!.err.config.password, REDACTED);
    assert.match(second!.err.stack, /db down/);
    assert.equal(third!.apiKey, REDACTED);
    assert.equal(third!.component, "c");
  } finally {
    await t.flush();
  }
});

test("redactByKey leaves ordinary keys alone and survives cycles", () => {
  const o: Record<string, unknown> = { name: "x", bypass: 1, list: [1, { secret: "no" }] };
  o.self = o;
  const out = redactByKey(o) as Record<string, any>;
  assert.equal(out.name, "x");
  assert.equal(out.bypass, 1);
  assert.deepEqual(out.list, [1, { secret: REDACTED }]);
  assert.equal(out.self, "[circular]");
});

test("every line is JSON with an ISO time, the level as a word and the service", async () => {
  const { t, logs } = kit();
  try {
    t.logger.warn("careful");
    const [l] = logs.lines;
    assert.equal(l!.level, "warn");
    assert.equal(l!.service, "test-app");
    assert.equal(l!.version, "1.2.3");
    assert.equal(l!.msg, "careful");
    assert.ok(!Number.isNaN(Date.parse(l!.time)) && /T.*Z$/.test(l!.time), l!.time);
  } finally {
    await t.flush();
  }
});
