/**
 * The hidden prompt of `homelab secrets set`: reads a value from the terminal without echoing it.
 * Enter ends a typed value; a pasted value may span lines (a PEM key, a JSON credentials file), so
 * pasted newlines are kept and the value then ends with Ctrl-D, never cut at its first line.
 */
import { UserError } from "../errors.ts";

const PASTE_START = "\u001b[200~";
const PASTE_END = "\u001b[201~";
/** Asks the terminal to mark pastes (bracketed paste mode), so pasted newlines are not Enter. */
const BRACKETED_PASTE_ON = "\u001b[?2004h";
const BRACKETED_PASTE_OFF = "\u001b[?2004l";

export type InputEvent = "done" | "cancelled" | "multiline" | undefined;

/**
 * The key-by-key state of the prompt, apart from the terminal so it can be tested. `feed` takes
 * what the terminal sends and says when the value is complete.
 */
export class HiddenInput {
  private value = "";
  private pasting = false;
  private multiline = false;
  private pending = "";

  /**
   * `done` when the value is complete, `cancelled` on Ctrl-C, `multiline` when a pasted newline
   * switched to multi-line input (finish with Ctrl-D), else undefined.
   */
  feed(chunk: string): InputEvent {
    let s = this.pending + chunk;
    this.pending = "";
    let event: InputEvent;
    while (s.length) {
      if (s.startsWith(PASTE_START)) {
        this.pasting = true;
        s = s.slice(PASTE_START.length);
        continue;
      }
      if (s.startsWith(PASTE_END)) {
        this.pasting = false;
        s = s.slice(PASTE_END.length);
        continue;
      }
      const ch = s[0]!;
      if (ch === "\u001b") {
        // A marker or key sequence cut in two by the terminal: wait for the rest.
        if (PASTE_START.startsWith(s) || PASTE_END.startsWith(s)) {
          this.pending = s;
          return event;
        }
        // Other escape sequences (arrow keys) are not part of a value.
        const m = /^\u001b(?:\[[0-9;?]*[ -/]*[@-~]|O.|.)?/.exec(s)!;
        s = s.slice(m[0].length || 1);
        continue;
      }
      s = s.slice(1);
      if (ch === "\u0003") return "cancelled";
      if (ch === "\u0004") return "done";
      if (ch === "\u007f" || ch === "\b") {
        this.value = [...this.value].slice(0, -1).join("");
        continue;
      }
      if (ch === "\r" || ch === "\n") {
        // \r\n counts once.
        if (ch === "\r" && s[0] === "\n") s = s.slice(1);
        if (this.pasting || this.multiline) {
          this.value += "\n";
          continue;
        }
        // Without bracketed paste a paste still shows as a newline with more text right behind it.
        if (s.length > 0 && !s.startsWith(PASTE_END)) {
          this.value += "\n";
          this.multiline = true;
          event = "multiline";
          continue;
        }
        return "done";
      }
      this.value += ch;
    }
    return event;
  }

  /** The value; one trailing newline is dropped, as for piped input. */
  get result(): string {
    return this.value.endsWith("\n") ? this.value.slice(0, -1) : this.value;
  }
}

/** Reads a value from the terminal without echoing it. Ctrl-C rejects with a UserError. */
export function promptHidden(question: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const stdin = process.stdin;
    const input = new HiddenInput();
    // The mode switch is for the terminal; it must not end up in a log that stderr is redirected to.
    const tty = !!process.stderr.isTTY;
    process.stderr.write((tty ? BRACKETED_PASTE_ON : "") + question);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding("utf8");
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener("data", onData);
      process.stderr.write((tty ? BRACKETED_PASTE_OFF : "") + "\n");
      if (err) reject(err);
      else resolvePromise(input.result);
    };
    const onData = (chunk: string) => {
      const e = input.feed(chunk);
      if (e === "cancelled") done(new UserError("cancelled"));
      else if (e === "done") done();
      else if (e === "multiline") process.stderr.write("\n(multi-line value: press Ctrl-D when it is complete) ");
    };
    stdin.on("data", onData);
  });
}
