/**
 * Aliases, resolved once and bounded by what they expand to. A few hundred bytes of nested anchors
 * (a "billion laughs" file) expand to billions of nodes, while a real manifest may use one anchor a
 * hundred times or more. So, like kubectl's YAML reader, the limit is on the size of the expanded
 * tree relative to the document itself, never on the number of aliases. The walk is iterative and
 * linear in the document's own nodes: deep nesting cannot overflow the stack and the size of a bomb
 * is known before anything is expanded.
 */
import { isAlias, isMap, isNode, isPair, isSeq, LineCounter, parseDocument, type Alias, type Document, type Node as YNode } from "yaml";
import { UserError } from "../errors.ts";

/** Expanded trees up to this many nodes are always accepted. */
export const MIN_EXPANSION_LIMIT = 1_000_000;
/** Above that, a document may expand to this many times its own node count. */
export const EXPANSION_FACTOR = 10;

export interface AliasInfo {
  /** Each alias and the node its anchor names (the last one before it, as YAML says). */
  readonly targets: ReadonlyMap<Alias, YNode>;
  /** Nodes in the document as written. */
  readonly ownNodes: number;
  /** Nodes after every alias is expanded. */
  readonly expandedNodes: number;
  /** Why the document cannot be expanded safely, at the offending node's offset. */
  readonly problem?: { readonly offset: number; readonly message: string };
}

interface Frame {
  readonly node: YNode;
  readonly children: readonly unknown[];
  i: number;
  size: number;
}

function childrenOf(n: YNode): unknown[] {
  if (isMap(n)) return n.items.flatMap((p) => (isPair(p) ? [p.key, p.value] : []));
  if (isSeq(n)) return n.items;
  return [];
}

/** Resolves every alias of `doc` and measures its expansion; never throws. */
export function analyseAliases(doc: Document): AliasInfo {
  const targets = new Map<Alias, YNode>();
  const anchors = new Map<string, YNode>();
  const sizes = new Map<YNode, number>();
  const open = new Set<YNode>();
  let ownNodes = 0;
  let problem: AliasInfo["problem"];
  const offset = (n: YNode) => n.range?.[0] ?? 0;
  const stack: Frame[] = [];
  let rootSize = 0;

  const enter = (n: YNode): number | undefined => {
    ownNodes++;
    if (isAlias(n)) {
      const target = anchors.get(n.source);
      if (!target) {
        problem ??= { offset: offset(n), message: `alias *${n.source} has no anchor &${n.source} before it in this document (anchors do not carry over a \`---\`)` };
        return 1;
      }
      targets.set(n, target);
      if (open.has(target)) {
        problem ??= { offset: offset(n), message: `alias *${n.source} is inside its own anchor &${n.source}, so it would expand forever` };
        return 1;
      }
      return sizes.get(target) ?? 1;
    }
    if (n.anchor) anchors.set(n.anchor, n);
    const children = childrenOf(n);
    if (children.length === 0) {
      sizes.set(n, 1);
      return 1;
    }
    open.add(n);
    stack.push({ node: n, children, i: 0, size: 1 });
    return undefined;
  };
  const add = (size: number) => {
    // Clamped: a bomb's size may exceed what a double counts exactly; it only has to be "too big".
    const top = stack[stack.length - 1];
    if (top) top.size = Math.min(top.size + size, Number.MAX_SAFE_INTEGER);
    else rootSize = Math.min(rootSize + size, Number.MAX_SAFE_INTEGER);
  };

  if (isNode(doc.contents)) {
    const s = enter(doc.contents);
    if (s !== undefined) add(s);
  }
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    if (top.i < top.children.length) {
      const c = top.children[top.i++];
      if (!isNode(c)) continue;
      const s = enter(c);
      if (s !== undefined) add(s);
      continue;
    }
    stack.pop();
    open.delete(top.node);
    sizes.set(top.node, top.size);
    add(top.size);
  }
  const limit = Math.max(MIN_EXPANSION_LIMIT, EXPANSION_FACTOR * ownNodes);
  if (!problem && rootSize > limit) {
    const first = [...targets.keys()][0];
    problem = {
      offset: first ? offset(first) : 0,
      message: `aliases expand this document to ${rootSize >= Number.MAX_SAFE_INTEGER ? "more than 9e15" : rootSize} nodes from ${ownNodes} written (limit ${limit}): an alias bomb, refused before expanding it`,
    };
  }
  return { targets, ownNodes, expandedNodes: rootSize, ...(problem && { problem }) };
}

/** A YAML file that cannot be read: parse error, alias bomb, unresolved alias. */
export class YamlInputError extends UserError {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly reason: string,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ""}: ${reason}`);
    this.name = "YamlInputError";
  }
}

/**
 * Parses a single-document YAML file (a config, a waiver list) to plain data, with aliases bounded
 * as above. Throws YamlInputError naming the file and line.
 */
export function parseYamlFile(text: string, file: string): unknown {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const err = doc.errors[0];
  if (err) throw new YamlInputError(file, lc.linePos(err.pos[0]).line, `invalid YAML: ${err.message.split("\n")[0]}`);
  const a = analyseAliases(doc);
  if (a.problem) throw new YamlInputError(file, lc.linePos(a.problem.offset).line, a.problem.message);
  return doc.toJS({ maxAliasCount: -1 });
}
