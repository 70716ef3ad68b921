// Bundles a function file with esbuild into one ESM module with its npm dependencies inlined.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { build, type Message } from 'esbuild';
import { CliError } from './errors.js';

export interface Bundle {
  code: string;
  bytes: number;
  warnings: string[];
}

/** CommonJS dependencies that `require` node builtins need a require inside the ESM bundle. */
const BANNER = "import { createRequire as __faasCreateRequire } from 'node:module'; const require = __faasCreateRequire(import.meta.url);";

const where = (m: Message) =>
  m.location ? `${path.relative(process.cwd(), m.location.file) || m.location.file}:${m.location.line}:${m.location.column + 1}: ` : '';

export async function bundleFunction(entry: string): Promise<Bundle> {
  const file = path.resolve(entry);
  if (!existsSync(file)) throw new CliError(`${entry}: no such file`, 'give the path of a .ts or .js function file');
  try {
    const result = await build({
      entryPoints: [file],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      write: false,
      minify: false,
      logLevel: 'silent',
      banner: { js: BANNER },
      legalComments: 'none',
    });
    const code = result.outputFiles[0]!.text;
    return { code, bytes: Buffer.byteLength(code), warnings: result.warnings.map((w) => `${where(w)}${w.text}`) };
  } catch (err) {
    const errors = (err as { errors?: Message[] }).errors;
    if (!errors?.length) throw err;
    throw new CliError(`could not bundle ${entry}:\n${errors.map((e) => `  ${where(e)}${e.text}`).join('\n')}`, 'fix the error above; nothing was uploaded');
  }
}
