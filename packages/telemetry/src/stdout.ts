/**
 * Lines to stdout (log lines and stdout-exported spans), batched: every line written during one turn of the
 * event loop goes out in one write at its end, instead of one write(2) per line. Under load a server answers
 * dozens of requests per turn, and a synchronous write per access line cost more than answering the request.
 * Nothing waits on a timer (a quiet server's line is written at the end of the turn that logged it), the
 * writes themselves stay synchronous (pino's sonic-boom, which retries a full pipe), and whatever is pending
 * is written on `flush()` and when the process exits, so a shutdown or `process.exit()` loses no line.
 */
import type { DestinationStream } from "pino";
import { pino } from "pino";

/** A batch this large is written at once rather than at the end of the turn. */
const MAX_PENDING_CHARS = 64 * 1024;

export class BatchedLines implements DestinationStream {
  private pending = "";
  private scheduled = false;

  constructor(private readonly out: { write(s: string): unknown }) {}

  write(line: string): void {
    this.pending += line;
    if (this.pending.length >= MAX_PENDING_CHARS) this.flushSync();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.endOfTurn);
    }
  }

  /** pino's `logger.flush(cb)`. */
  flush(cb?: (err?: Error) => void): void {
    this.flushSync();
    cb?.();
  }

  /** Writes what is pending now. */
  flushSync(): void {
    if (this.pending === "") return;
    const out = this.pending;
    this.pending = "";
    this.out.write(out);
  }

  private readonly endOfTurn = () => {
    this.scheduled = false;
    this.flushSync();
  };
}

let stdout: BatchedLines | undefined;

/** The process's one batched stdout (logs and spans share it, so their lines never interleave mid-line). */
export function stdoutLines(): BatchedLines {
  if (!stdout) {
    const lines = new BatchedLines(pino.destination({ dest: 1, sync: true }));
    // Runs on process.exit() and on a normal end alike: the last turn's lines are written too.
    process.once("exit", () => lines.flushSync());
    stdout = lines;
  }
  return stdout;
}

/** Writes stdout's pending lines now (when anything was logged to it at all). */
export function flushStdout(): void {
  stdout?.flushSync();
}
