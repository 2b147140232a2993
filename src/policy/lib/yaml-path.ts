import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node as YNode } from "yaml";
import { ptr } from "./util.ts";

/**
 * The JSON pointer of the deepest value that starts on `line` (1-based) of a YAML/JSON text,
 * or undefined. Turns a line-based finding back into a field path.
 */
export function pathAtLine(text: string, line: number): string | undefined {
  return pathFinder(text)(line);
}

/**
 * `pathAtLine` for many lines of one text: parsed once on first use, not once per finding (a big
 * object with many findings was parsed again for each of them).
 */
export function pathFinder(text: string): (line: number) => string | undefined {
  let lc: LineCounter | undefined;
  let doc: ReturnType<typeof parseDocument> | undefined;
  return (line) => {
    if (!doc) {
      lc = new LineCounter();
      doc = parseDocument(text, { lineCounter: lc, uniqueKeys: false });
    }
    return pathIn(doc, lc!, line);
  };
}

function pathIn(doc: ReturnType<typeof parseDocument>, lc: LineCounter, line: number): string | undefined {
  if (doc.errors.length) return undefined;
  const lineOf = (n: { range?: [number, number, number] | null } | null | undefined) => (n?.range ? lc.linePos(n.range[0]).line : undefined);
  const endLineOf = (n: { range?: [number, number, number] | null } | null | undefined) => (n?.range ? lc.linePos(Math.max(n.range[1] - 1, n.range[0])).line : undefined);
  let best: string | undefined;
  const visit = (n: unknown, segments: (string | number)[]): void => {
    const node = n as YNode | null;
    if (isMap(node)) {
      for (const p of node.items) {
        if (!isPair(p)) continue;
        const key = isScalar(p.key) ? String(p.key.value) : "?";
        const here = [...segments, key];
        if (lineOf(p.key as YNode) === line) best = ptr(...here);
        visit(p.value, here);
      }
    } else if (isSeq(node)) {
      node.items.forEach((it, i) => {
        const here = [...segments, i];
        const start = lineOf(it as YNode);
        const end = endLineOf(it as YNode);
        if (start !== undefined && end !== undefined && start <= line && line <= end) {
          if (start === line && !isMap(it) && !isSeq(it)) best = ptr(...here);
          visit(it, here);
        }
      });
    } else if (isScalar(node) && lineOf(node) !== undefined && (lineOf(node)! <= line && line <= (endLineOf(node) ?? 0)) && best === undefined) {
      best = ptr(...segments);
    }
  };
  visit(doc.contents, []);
  return best;
}
