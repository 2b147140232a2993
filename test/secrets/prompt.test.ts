/** The hidden prompt's input handling: typed values end at Enter, pasted multi-line values are kept whole. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HiddenInput, type InputEvent } from "../../src/secrets/prompt.ts";

/** Feeds chunks in order; returns every event and the final value. */
function type(...chunks: string[]): { events: InputEvent[]; value: string } {
  const input = new HiddenInput();
  const events = chunks.map((c) => input.feed(c));
  return { events, value: input.result };
}

const PEM = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBx\nAoGCCqGSM49\n-----END EC PRIVATE KEY-----\n";

describe("hidden prompt input", () => {
  it("a typed value ends at Enter; backspace and arrow keys edit it", () => {
    assert.deepEqual(type("s3c", "rx\u007f", "\u001b[D", "et\r"), { events: [undefined, undefined, undefined, "done"], value: "s3cret" });
  });

  it("Ctrl-C cancels", () => {
    assert.deepEqual(type("abc", "\u0003").events, [undefined, "cancelled"]);
  });

  it("a bracketed paste keeps its newlines; Enter after it ends the value", () => {
    const r = type(`\u001b[200~${PEM}\u001b[201~`, "\r");
    assert.deepEqual(r, { events: [undefined, "done"], value: PEM.slice(0, -1) });
  });

  it("a paste marker split across chunks is still recognised", () => {
    const r = type("\u001b[20", `0~${PEM.replace(/\n/g, "\r")}\u001b[2`, "01~", "\r");
    assert.deepEqual(r, { events: [undefined, undefined, undefined, "done"], value: PEM.slice(0, -1) });
  });

  it("without bracketed paste, a newline with more text behind it switches to multi-line input, ended by Ctrl-D", () => {
    const r = type(PEM, "\u0004");
    assert.deepEqual(r, { events: ["multiline", "done"], value: PEM.slice(0, -1) });
    // Lines typed after the switch are kept too.
    assert.deepEqual(type("a\nb", "\r", "c\r", "\u0004"), { events: ["multiline", undefined, undefined, "done"], value: "a\nb\nc" });
  });
});
