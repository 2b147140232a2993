import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it, mock } from "node:test";
import { defineSpec, formatHelp, parseCommandArgs, UsageError } from "../../src/cli/args.ts";
import { main } from "../../src/cli/main.ts";
import { REPO, homelab } from "../helpers.ts";

/** Runs the CLI in this process (the process boundary is not what these tests are about). */
async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = mock.method(console, "log", (...a: unknown[]) => void out.push(a.join(" ")));
  const error = mock.method(console, "error", (...a: unknown[]) => void err.push(a.join(" ")));
  try {
    const code = await main(args);
    return { code, stdout: out.join("\n"), stderr: err.join("\n") };
  } finally {
    log.mock.restore();
    error.mock.restore();
  }
}

const SECRETS_SUBS = ["init", "set", "edit", "decrypt", "encrypt", "updatekeys", "rotate", "verify", "scan"];

describe("one argument parser for every command", () => {
  const mistakes: [string[], RegExp][] = [
    [["build", "extra"], /unexpected argument 'extra': build takes no arguments/],
    [["build", "--config"], /--config needs a value: --config <file>/],
    [["build", "--config", "--quiet"], /--config needs a value, but '--quiet' looks like an option/],
    [["build", "--quiet=yes"], /--quiet takes no value/],
    [["build", "--versions", "a.yaml", "--versions", "b.yaml"], /--versions given twice/],
    [["check", "--format"], /--format needs a value/],
    [["check", "--format", "xml"], /--format must be 'table' or 'json', not 'xml'/],
    [["check", "--rule"], /--rule needs a value/],
    [["check", "--kubernetes-version", "34"], /--kubernetes-version must be a minor version/],
    [["values", "--config"], /--config needs a value/],
    [["values"], /missing component name/],
    [["values", "argocd", "cert-manager"], /unexpected argument 'cert-manager'/],
    [["secrets", "set"], /set needs a file and a key/],
    [["secrets", "decrypt", "a", "b"], /unexpected argument 'b'/],
    [["secrets", "verify", "--bogus"], /unknown option --bogus/],
    [["secrets", "init", "--save-key"], /--save-key needs a value/],
  ];
  for (const [args, message] of mistakes) {
    it(`homelab ${args.join(" ")}: exit 2 with the command's usage, no stack trace`, async () => {
      const r = await run(args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      const name = args[0] === "secrets" ? `secrets ${args[1]}` : args[0]!;
      assert.match(r.stderr, new RegExp(`\\n\\nUsage: homelab ${name} `));
      assert.doesNotMatch(r.stderr, /\n\s+at |ERR_PARSE_ARGS|Error:/);
      assert.equal(r.stdout, "");
    });
  }

  it("a misspelt option or command gets the closest known one", async () => {
    assert.match((await run(["build", "--chek"])).stderr, /unknown option --chek — did you mean --check\?/);
    assert.match((await run(["check", "--list-rule"])).stderr, /did you mean --list-rules\?/);
    const cmd = await run(["bulid"]);
    assert.equal(cmd.code, 2);
    assert.match(cmd.stderr, /unknown command 'bulid' — did you mean 'build'\?/);
    assert.match((await run(["secrets", "verfy"])).stderr, /unknown subcommand 'verfy' — did you mean 'verify'\?/);
    // Far from every known word: no guess.
    assert.doesNotMatch((await run(["build", "--zzzzzz"])).stderr, /did you mean/);
  });

  it("the real process: exit 2 and usage, not exit 70 and a stack trace", () => {
    const r = homelab(["build", "extra"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^homelab build: unexpected argument 'extra'/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  it("homelab help <cmd> prints exactly what homelab <cmd> --help prints", async () => {
    for (const args of [["build"], ["check"], ["values"], ["secrets"], ...SECRETS_SUBS.map((s) => ["secrets", s])]) {
      const a = await run(["help", ...args]);
      const b = await run([...args, "--help"]);
      const c = await run([...args, "-h"]);
      assert.equal(a.code, 0, args.join(" "));
      assert.equal(b.code, 0, args.join(" "));
      assert.ok(a.stdout.startsWith(`Usage: homelab ${args.join(" ")} `), a.stdout.slice(0, 80));
      assert.equal(a.stdout, b.stdout, args.join(" "));
      assert.equal(c.stdout, b.stdout, args.join(" "));
    }
  });

  it("homelab secrets set --help shows set's own help, not the list of subcommands", async () => {
    const r = await run(["secrets", "set", "--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: homelab secrets set <file> <key>/);
    assert.match(r.stdout, /--namespace NS/);
    assert.doesNotMatch(r.stdout, /Subcommands:/);
    assert.doesNotMatch(r.stdout, /updatekeys/);
  });

  it("homelab --version prints the package version", async () => {
    const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string };
    for (const flag of ["--version", "-V"]) {
      const r = await run([flag]);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, `homelab ${pkg.version}`);
    }
  });

  it("no command parses arguments on its own: node:util parseArgs is used only by src/cli/args.ts", () => {
    const dir = join(REPO, "src", "cli", "commands");
    for (const f of readdirSync(dir)) assert.doesNotMatch(readFileSync(join(dir, f), "utf8"), /\bparseArgs\b/, f);
  });
});

describe("parseCommandArgs", () => {
  const spec = defineSpec({
    name: "demo",
    summary: "a demo",
    synopsis: "[files...] [options]",
    options: {
      out: { type: "string", short: "o", value: "<file>", help: "Where to write." },
      tag: { type: "string", multiple: true, value: "<t>", help: "A tag; repeat for several." },
      dry: { type: "boolean", help: "Change nothing." },
    },
    positionals: { max: 2 },
  });

  it("one declaration gives the parsed values and the help line", () => {
    const r = parseCommandArgs(spec, ["a", "-o", "x.yaml", "--tag", "1", "--tag=2", "--dry", "b"]);
    assert.deepEqual(r, { values: { out: "x.yaml", tag: ["1", "2"], dry: true }, positionals: ["a", "b"] });
    const help = formatHelp(spec);
    assert.match(help, /^Usage: homelab demo \[files\.\.\.\] \[options\]/);
    assert.match(help, /\n {2}-o, --out <file> +Where to write\.\n/);
    assert.match(help, /\n {2}--tag <t> \(repeatable\) +A tag; repeat for several\.\n/);
    assert.match(help, /\n {2}-h, --help +Show this help\./);
  });

  it("a value that starts with a dash needs the = form; `--` ends the options", () => {
    assert.deepEqual(parseCommandArgs(spec, ["--out=-weird"]).values, { out: "-weird" });
    assert.throws(() => parseCommandArgs(spec, ["--out", "-weird"]), UsageError);
    assert.deepEqual(parseCommandArgs(spec, ["--", "--dry"]).positionals, ["--dry"]);
    assert.throws(() => parseCommandArgs(spec, ["a", "b", "c"]), (e: unknown) => e instanceof UsageError && e.exitCode === 2 && /unexpected argument 'c'/.test(e.message));
    assert.throws(() => parseCommandArgs(spec, ["--out", ""]), /needs a non-empty value/);
  });
});
