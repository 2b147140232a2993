/**
 * The `RE2` class of re2-wasm as the published Kubernetes models use it (prometheus-operator's
 * RuleGroup, MonthRange and WeekdayRange patterns: `new RE2(pattern, "u")`, then `.test(value)`), on
 * re2js, a pure-JavaScript port of the same RE2 engine the project already uses (secrets/tree.ts).
 * The models bundled next to the CLI (scripts/build-cli.mjs, dist/models/) import this instead of
 * re2-wasm, whose WebAssembly instance reserved 16 MiB and took 8 MiB of resident memory in every `check`
 * of a PrometheusRule, for three case-insensitive alternations. test/validate/model-bundle.test.ts
 * holds both engines to the same answers on those patterns.
 *
 * The models build their patterns when their module loads, for every kind loaded, yet most objects never
 * hold the field a pattern checks. So a pattern is compiled on its first test: a case-insensitive one
 * makes re2js build its case-folding tables, about 0.4 MiB that a `check` without such a field never needs.
 */
import { RE2JS } from "re2js";

export default class RE2 {
  #re: RE2JS | undefined;
  readonly #flags: number;
  readonly source: string;
  readonly flags: string;

  constructor(pattern: string, flags = "") {
    // re2-wasm refuses a pattern without the `u` flag; keep that refusal so a model that relied on
    // anything else fails here as it would there.
    if (!flags.includes("u")) throw new TypeError(`RE2: the "u" flag is required (pattern ${JSON.stringify(pattern)})`);
    let f = 0;
    for (const c of flags) {
      if (c === "i") f |= RE2JS.CASE_INSENSITIVE;
      else if (c === "m") f |= RE2JS.MULTILINE;
      else if (c === "s") f |= RE2JS.DOTALL;
      else if (c !== "u") throw new TypeError(`RE2: flag "${c}" is not supported here (pattern ${JSON.stringify(pattern)})`);
    }
    this.#flags = f;
    this.source = pattern;
    this.flags = flags;
  }

  /** Whether the pattern matches anywhere in `s` (RegExp.prototype.test without the `g` flag). */
  test(s: string): boolean {
    this.#re ??= RE2JS.compile(this.source, this.#flags);
    return this.#re.matcher(String(s)).find();
  }
}
