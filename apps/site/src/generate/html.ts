/**
 * HTML built from tagged templates: every interpolated value is escaped unless it is already `Html`
 * (the output of another template, or Markdown rendered by markdown-it). So a value from the config,
 * a chart or an alert description can never become markup by accident.
 */

export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export type Part = Html | string | number | boolean | null | undefined | readonly Part[];

function piece(v: Part): string {
  if (v === null || v === undefined || v === false) return "";
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return (v as readonly Part[]).map(piece).join("");
  return escapeHtml(String(v));
}

/** `html\`<td>${value}</td>\`` escapes `value`; arrays are joined; null, undefined and false vanish. */
export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += piece(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Markup that is already safe (markdown-it's output with raw HTML disabled, an SVG we drew). */
export function trusted(text: string): Html {
  return new Html(text);
}

/** A table from rows; `head` are the column titles. An empty list says so in words instead of an empty table. */
export function table(head: readonly string[], rows: readonly (readonly Part[])[], empty: string): Html {
  if (rows.length === 0) return html`<p class="empty">${empty}</p>`;
  return html`<table><thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead><tbody>${rows.map(
    (r) => html`<tr>${r.map((c) => html`<td>${c}</td>`)}</tr>`,
  )}</tbody></table>`;
}

export function code(s: string): Html {
  return html`<code>${s}</code>`;
}
