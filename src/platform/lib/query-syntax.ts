/**
 * Syntax checks of PromQL and LogQL queries (lezer parsers), with one verdict shared by queries that differ
 * only in the letters, digits, `_` and `-` inside their double-quoted strings. Every app's dashboard and
 * alert are the same queries with its own namespace and host in the label matchers: 1000 apps parsed
 * 10,000 queries (0.4 s) where about ten shapes exist.
 *
 * Why a shared verdict is the parser's own: the parsers' tokens are context-free over the characters, and a
 * double-quoted string is one token, `"` then (any character but `\`, `"` or a line break | `\` and any
 * character) then `"`; nothing but identifiers is looked at by the grammar beyond its token type. Two
 * queries with the same {@link shapeOf} are the same text outside their strings, have their strings at the
 * same places in that text and, inside each, the same escapes and punctuation with only runs of
 * `[A-Za-z0-9_-]` in between; such a run can neither end a string nor start an escape. So the parser reads
 * the same token types from both and reaches the same verdict. Only "parses" is shared, and only after the
 * parser itself found exactly those strings as string tokens in the query it parsed; errors (and their
 * positions) always come from parsing the query at hand. Queries with a comment, a line break, a single or
 * back quote, or an unterminated string get no shape and are always parsed.
 */
import type { LRParser } from "@lezer/lr";

export interface QuerySyntax {
  readonly parser: LRParser;
  /** The grammar's node name for a quoted string. */
  readonly stringNode: string;
  /** Shapes of queries that parsed. */
  readonly parsed: Set<string>;
  /** Queries actually handed to the parser (for the tests). */
  parses: number;
}

export function querySyntax(parser: LRParser, stringNode: string): QuerySyntax {
  return { parser, stringNode, parsed: new Set(), parses: 0 };
}

/** A bound on the shapes kept: a build has a few dozen; anything past this is simply parsed. */
const MAX_SHAPES = 10_000;

const isRunChar = (c: string) => (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c === "_" || c === "-";

/**
 * The query with each run of `[A-Za-z0-9_-]` inside its double-quoted strings written as one `a`, and the
 * strings' spans (quotes included); undefined for a query this does not read (see the file's comment).
 */
export function shapeOf(q: string): { key: string; strings: [number, number][] } | undefined {
  if (/[#'`\n\r]/.test(q)) return undefined;
  let key = "";
  const strings: [number, number][] = [];
  let i = 0;
  while (i < q.length) {
    const open = q.indexOf('"', i);
    if (open < 0) {
      key += q.slice(i);
      break;
    }
    key += q.slice(i, open + 1);
    let j = open + 1;
    let inRun = false;
    for (;;) {
      if (j >= q.length) return undefined; // unterminated
      const c = q[j]!;
      if (c === '"') break;
      if (c === "\\") {
        if (j + 1 >= q.length) return undefined;
        key += q.slice(j, j + 2);
        j += 2;
        inRun = false;
      } else if (isRunChar(c)) {
        if (!inRun) key += "a";
        inRun = true;
        j++;
      } else {
        key += c;
        j++;
        inRun = false;
      }
    }
    key += '"';
    strings.push([open, j + 1]);
    i = j + 1;
  }
  return { key, strings };
}

/** Position of the first syntax error in `q`, or undefined when it parses. */
export function syntaxError(s: QuerySyntax, q: string): number | undefined {
  const shape = shapeOf(q);
  if (shape && s.parsed.has(shape.key)) return undefined;
  s.parses++;
  let at: number | undefined;
  const found: [number, number][] = [];
  s.parser.parse(q).iterate({
    enter: (n) => {
      if (at === undefined && n.type.isError) at = n.from;
      if (n.type.name === s.stringNode) found.push([n.from, n.to]);
      return at === undefined;
    },
  });
  if (at === undefined && shape && s.parsed.size < MAX_SHAPES && sameSpans(found, shape.strings)) s.parsed.add(shape.key);
  return at;
}

function sameSpans(a: readonly [number, number][], b: readonly [number, number][]): boolean {
  return a.length === b.length && a.every(([f, t], i) => f === b[i]![0] && t === b[i]![1]);
}
