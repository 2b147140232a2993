/**
 * Pre-compression: a `.gz` (gzip level 9) and a `.br` (brotli quality 11) beside each compressible file of
 * the site, made once at build time so the server never compresses per request. A variant is kept only when
 * it is smaller than the file; one that no longer is (or whose file changed type) is removed.
 * The site's generator calls this on the folder it is about to swap in.
 */
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { brotliCompress, constants, gzip } from "node:zlib";
import { compressible } from "./types.ts";

const gz = promisify(gzip);
const br = promisify(brotliCompress);

/** Smaller files gain less than the `Content-Encoding` header costs. */
export const MIN_COMPRESS_BYTES = 256;

export interface PrecompressResult {
  /** Files looked at (variants and dotfiles excluded). */
  readonly files: number;
  readonly gzip: number;
  readonly brotli: number;
  readonly bytes: number;
  /** Bytes of the brotli variant where there is one, else of the file: what a modern browser downloads. */
  readonly brotliBytes: number;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith(".")) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile() && !/\.(gz|br)$/.test(e.name)) out.push(p);
  }
  return out;
}

export async function precompress(dir: string): Promise<PrecompressResult> {
  const files = await walk(dir);
  let gzipN = 0;
  let brN = 0;
  let bytes = 0;
  let brotliBytes = 0;
  // A few at a time: brotli 11 is CPU-heavy, and the machine is shared.
  const queue = [...files];
  const worker = async () => {
    for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
      const data = await readFile(f);
      bytes += data.length;
      let best = data.length;
      const want = compressible(f) && data.length >= MIN_COMPRESS_BYTES;
      const [g, b] = want
        ? await Promise.all([
            gz(data, { level: 9 }),
            br(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT, [constants.BROTLI_PARAM_SIZE_HINT]: data.length } }),
          ])
        : [undefined, undefined];
      if (g && g.length < data.length) {
        await writeFile(`${f}.gz`, g);
        gzipN++;
      } else await rm(`${f}.gz`, { force: true });
      if (b && b.length < data.length) {
        await writeFile(`${f}.br`, b);
        brN++;
        best = b.length;
      } else await rm(`${f}.br`, { force: true });
      brotliBytes += best;
    }
  };
  await Promise.all([worker(), worker()]);
  return { files: files.length, gzip: gzipN, brotli: brN, bytes, brotliBytes };
}
