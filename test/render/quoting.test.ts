/**
 * The rendered YAML keeps every string a string for whoever reads it: YAML 1.1 (kubectl, Argo CD),
 * YAML 1.2, and the Go number parsing go-yaml applies to plain scalars. Property-based: strings are
 * generated from the pieces numbers, booleans, nulls and timestamps are made of.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parse } from "yaml";
import { toYaml } from "../../src/render/render.ts";

/** What Go's strconv (ParseInt/ParseFloat, base 0) accepts once go-yaml has dropped the `_`s, written out independently. */
function goNumber(plain: string): boolean {
  if (!/^[-+0-9.]/.test(plain)) return false;
  const t = plain.replace(/_/g, "");
  return (
    /^[+-]?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.test(t) ||
    /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(t) ||
    /^[+-]?(?:inf|infinity)$/i.test(t) ||
    /^[+-]?nan$/i.test(t) ||
    /^[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+$/.test(t)
  );
}

const pieces = fc.constantFrom("", "+", "-", "0", "0o", "0O", "0x", "0X", "0b", "0B", ".", "_", "e", "E", "p", "1", "7", "9", "f", "inf", "Inf", "nan", "NaN", ":", "-", "T", " ");
const tricky = fc.oneof(
  fc.array(pieces, { minLength: 1, maxLength: 6 }).map((a) => a.join("")),
  fc.constantFrom("0o17", "0O17", "-0o7", "+0x1F", "1_000", "0755", "08", "1e3", ".5", "+Inf", "-infinity", "0x1p-2", "on", "Off", "YES", "n", "y", "~", "null", "NULL", "true", "False", "<<", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "1:20", "190:20:30", ".NaN", "-.inf"),
  fc.string(),
);

describe("rendered strings stay strings", () => {
  it("0o17, 0O17 and -0o7 are quoted", () => {
    for (const s of ["0o17", "0O17", "-0o7"]) assert.equal(toYaml({ v: s }), `v: "${s}"\n`);
  });

  it("every generated string reads back as the same string in YAML 1.1, YAML 1.2 and Go's number parsing", () => {
    fc.assert(
      fc.property(tricky, (s) => {
        const text = toYaml({ env: [{ name: "X", value: s }], [s]: "key" });
        for (const version of ["1.1", "1.2"] as const) {
          const back = parse(text, { version }) as { env: { value: unknown }[] } & Record<string, unknown>;
          assert.equal(back.env[0]!.value, s, `${version}: ${text}`);
          assert.equal(back[s], "key", `${version} key: ${text}`);
        }
        const line = /\n {4}value: (.*)\n/.exec(text)?.[1];
        // Unquoted output must be nothing Go would take for a number.
        if (line !== undefined && !/^["'|>]/.test(line)) assert.equal(goNumber(line), false, line);
      }),
      { numRuns: 3000 },
    );
  });
});
