/**
 * `node --import tsx apps/site/src/generate/cli.ts [--out <dir>] [--root <dir>]`: generates the site from
 * the checkout's config into apps/site/dist/public (or <dir>). Exit codes as `homelab`: 0 ok, 1 the config
 * does not build, 2 usage, 70 internal error.
 */
import { parseArgs } from "node:util";
import { UserError } from "../../../../src/errors.ts";
import { generateSite } from "./generate.ts";

export async function main(argv: string[]): Promise<number> {
  let values: { out?: string; root?: string };
  try {
    ({ values } = parseArgs({ args: argv, options: { out: { type: "string" }, root: { type: "string" } }, strict: true, allowPositionals: false }));
  } catch (e) {
    console.error(`site generate: ${(e as Error).message}\nusage: generate [--out <dir>] [--root <repository>]`);
    return 2;
  }
  const started = performance.now();
  try {
    const g = await generateSite({ root: values.root ?? process.cwd(), ...(values.out ? { out: values.out } : {}) });
    console.log(`site: ${g.pages.length} pages generated into ${g.out} (${((performance.now() - started) / 1000).toFixed(1)}s)`);
    return 0;
  } catch (e) {
    if (e instanceof UserError) {
      console.error(`site generate: ${e.message}`);
      return 1;
    }
    console.error(e);
    return 70;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main(process.argv.slice(2));
