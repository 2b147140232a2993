/** A problem the operator can fix (bad config, bad input file, stale tree). Exit code 1 unless set. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 1,
  ) {
    super(message);
    this.name = "UserError";
  }
}

/** A bug in this project. Exit code 70 (EX_SOFTWARE). */
export class InternalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InternalError";
  }
}

/** One finding of a validator: where it is and what is wrong. */
export interface Issue {
  /** File the object was rendered to, relative to the repo root, when known. */
  readonly file?: string;
  /** `Kind namespace/name`, or a chart/config reference. */
  readonly subject: string;
  /** JSON-pointer-like path of the offending field, e.g. `/spec/replica`. */
  readonly path: string;
  readonly message: string;
  /** Which check produced it (e.g. `schema`, `unknown-field`, `helm-values`). */
  readonly check: string;
}

export function formatIssue(i: Issue): string {
  const where = i.file ? `${i.file}: ` : "";
  // An empty path is the whole object; "/" would read as a key named "".
  return `${where}${i.subject} ${i.path || "(root)"}: ${i.message} [${i.check}]`;
}

/** Several issues at once; the CLI prints all of them. */
export class ValidationFailed extends UserError {
  constructor(
    readonly issues: readonly Issue[],
    what = "validation",
  ) {
    super(`${what} failed with ${issues.length} error(s):\n${issues.map((i) => "  - " + formatIssue(i)).join("\n")}`);
    this.name = "ValidationFailed";
  }
}
