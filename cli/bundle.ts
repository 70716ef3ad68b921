// Bundles a function with esbuild into one ESM module with its npm dependencies inlined, and collects the
// files shipped beside it (--include). A directory deploys its entry file (index or handler, or package.json's
// main); included files keep their paths relative to the entry's directory, where the bundle lands too, so
// `new URL('./tpl.html', import.meta.url)` and `path.join(__dirname, 'tpl.html')` read them as they would
// next to the source.
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import path from 'node:path';
import { build, type Message, type Plugin } from 'esbuild';
import { glob } from 'tinyglobby';
import { includedPathProblem, MAX_INCLUDED_FILES } from '../core/code-archive.js';
import { CliError } from './errors.js';
import { isForeignPrebuild, NativePackages, packageNameOf } from './native-packages.js';
import { platformModules } from './platform-modules.js';
import { modulePaths } from './module-paths.js';

export interface Bundle {
  code: string;
  bytes: number;
  warnings: string[];
  /** Files beside the code: path relative to the entry's directory → content. */
  files: Map<string, Buffer>;
  /** Packages shipped unbundled because they carry native addons (found, not asked for with --external). */
  native: string[];
}

/**
 * CommonJS globals inside the ESM bundle: `require` for dependencies that require node builtins, and
 * `__filename`/`__dirname` (the bundle's own, in the code directory beside the included files). Named apart
 * so they never collide with the code's own declarations; esbuild's define points the free uses at them.
 */
const BANNER = [
  "import { createRequire as __faasCreateRequire } from 'node:module';",
  "import { fileURLToPath as __faasFileURLToPath, pathToFileURL as __faasPathToFileURL } from 'node:url';",
  "import { dirname as __faasDirname } from 'node:path';",
  'const require = __faasCreateRequire(import.meta.url);',
  'const __faas_filename = __faasFileURLToPath(import.meta.url);',
  'const __faas_dirname = __faasDirname(__faas_filename);',
].join(' ');

/** Entry files tried, in order, when a directory is deployed. */
const DIRECTORY_ENTRIES = ['index.ts', 'index.mts', 'index.js', 'index.mjs', 'handler.ts', 'handler.js', 'src/index.ts', 'src/index.js'];

const where = (m: Message) =>
  m.location ? `${path.relative(process.cwd(), m.location.file) || m.location.file}:${m.location.line}:${m.location.column + 1}: ` : '';

/** The package a file in node_modules belongs to (`@scope/name` or `name`). */
function packageOf(file: string): string {
  const parts = file.split(/[\\/]/);
  const at = parts.lastIndexOf('node_modules');
  if (at === -1) return path.basename(file);
  const first = parts[at + 1] ?? '';
  return first.startsWith('@') ? `${first}/${parts[at + 2] ?? ''}` : first;
}

/**
 * A .node file loaded by the function's own code (not from an installed package, which is shipped whole):
 * refused, naming it, instead of failing at the first call.
 */
const refuseLooseAddons: Plugin = {
  name: 'faas-refuse-loose-addons',
  setup(b) {
    b.onLoad({ filter: /\.node$/ }, (args) => ({
      errors: [
        {
          text: `${packageOf(args.path)} loads a native addon (${path.basename(args.path)}) that is not part of an installed package, which cannot be bundled; make it an npm package (with its package.json) and install it beside the function, so it is shipped whole`,
        },
      ],
    }));
  },
};

/**
 * Installed packages with native addons (sharp, bcrypt, …) are left out of the bundle and their names
 * collected into `found`: their directories are shipped beside it (externalFiles), as `--external` would.
 */
function shipNativePackages(found: Set<string>): Plugin {
  const native = new NativePackages(packageDir);
  return {
    name: 'faas-ship-native-packages',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (isBuiltin(args.path) || args.path.includes(':')) return undefined;
        const name = packageNameOf(args.path);
        const dir = packageDir(name, args.resolveDir);
        if (!dir || !native.carriesAddon(dir)) return undefined;
        found.add(name);
        return { path: args.path, external: true };
      });
    },
  };
}

/** The file to bundle: the file itself, or a directory's entry. */
export function entryOf(target: string): string {
  const resolved = path.resolve(target);
  if (!existsSync(resolved)) throw new CliError(`${target}: no such file or directory`, 'give the path of a .ts or .js function file, or of its directory');
  if (!statSync(resolved).isDirectory()) return resolved;
  const pkg = path.join(resolved, 'package.json');
  if (existsSync(pkg)) {
    const main = (JSON.parse(readFileSync(pkg, 'utf8')) as { main?: string }).main;
    if (main && existsSync(path.join(resolved, main))) return path.join(resolved, main);
  }
  for (const name of DIRECTORY_ENTRIES) if (existsSync(path.join(resolved, name))) return path.join(resolved, name);
  throw new CliError(`${target} has no entry file`, `add ${DIRECTORY_ENTRIES.slice(0, 3).join(', ')} or a package.json "main", or give the file itself`);
}

/** The files the --include globs match, relative to `base` (the entry's directory). */
export async function includedFiles(base: string, patterns: readonly string[]): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  if (patterns.length === 0) return files;
  const matched = await glob([...patterns], { cwd: base, onlyFiles: true, dot: false, ignore: ['**/node_modules/**'] });
  if (matched.length === 0)
    throw new CliError(
      `--include ${patterns.join(' ')} matches no file under ${base}`,
      'globs are relative to the function file’s directory, e.g. --include "templates/**"',
    );
  if (matched.length > MAX_INCLUDED_FILES)
    throw new CliError(`--include matches ${matched.length} files; at most ${MAX_INCLUDED_FILES} are shipped`, 'narrow the globs');
  // A symbolic link (to a file, or a directory on the way) is followed only while it stays inside the function's
  // directory: a link out of it would ship whatever it points at (a key, /etc/...) to the platform.
  const root = realpathSync(base);
  for (const file of matched.sort()) {
    const problem = includedPathProblem(file, 'index.mjs');
    if (problem) throw new CliError(`--include: ${problem}`, 'rename the file or leave it out');
    const real = realpathSync(path.join(base, file));
    if (real !== root && !real.startsWith(`${root}${path.sep}`))
      throw new CliError(`--include: ${file} is a link to ${real}, outside ${root}`, 'copy the file into the function’s directory, or leave it out');
    files.set(file, readFileSync(real));
  }
  return files;
}

/** The directory of an installed package as Node resolves it from `from`, or undefined. */
function packageDir(name: string, from: string): string | undefined {
  try {
    return path.dirname(createRequire(path.join(from, 'noop.js')).resolve(`${name}/package.json`));
  } catch {
    // A package whose exports hide package.json: walk up node_modules by hand.
    for (let dir = from; ; dir = path.dirname(dir)) {
      const candidate = path.join(dir, 'node_modules', name);
      if (existsSync(path.join(candidate, 'package.json'))) return candidate;
      if (path.dirname(dir) === dir) return undefined;
    }
  }
}

/**
 * The files of packages shipped unbundled (`--external PKG`): each package's directory and, recursively,
 * its dependencies', under node_modules/ beside the bundle, where Node finds them from it — so a package that
 * reads files beside its own modules (`__dirname`, `import.meta.url`) finds them.
 */
export function externalFiles(entryDir: string, packages: readonly string[]): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const seen = new Set<string>();
  const visit = (name: string, from: string, required: boolean) => {
    if (seen.has(name)) return;
    const dir = packageDir(name, from);
    if (!dir) {
      if (required)
        throw new CliError(`--external ${name}: the package is not installed where ${entryDir} resolves it`, 'npm install it beside the function first');
      return;
    }
    seen.add(name);
    const walk = (at: string, rel: string) => {
      for (const entry of readdirSync(at, { withFileTypes: true })) {
        if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
        const full = path.join(at, entry.name);
        const inner = rel ? `${rel}/${entry.name}` : entry.name;
        if (entry.isDirectory()) {
          if (!isForeignPrebuild(inner)) walk(full, inner);
        } else if (entry.isFile()) files.set(`node_modules/${name}/${inner}`, readFileSync(full));
      }
    };
    walk(dir, '');
    const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(manifest.dependencies ?? {})) visit(dep, dir, true);
    for (const dep of Object.keys(manifest.optionalDependencies ?? {})) visit(dep, dir, false);
  };
  for (const name of packages) visit(name, entryDir, true);
  if (files.size > MAX_INCLUDED_FILES) {
    throw new CliError(
      `--external ${packages.join(' ')} ships ${files.size} files; at most ${MAX_INCLUDED_FILES} are shipped with a function`,
      'bundle the largest package instead (leave out its --external)',
    );
  }
  return files;
}

export async function bundleFunction(target: string, include: readonly string[] = [], external: readonly string[] = []): Promise<Bundle> {
  const file = entryOf(target);
  const files = await includedFiles(path.dirname(file), include);
  const native = new Set<string>();
  const located = modulePaths(path.dirname(file));
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
      define: { __dirname: '__faas_dirname', __filename: '__faas_filename' },
      plugins: [platformModules, shipNativePackages(native), refuseLooseAddons, located.plugin],
      // Shipped as they are beside the bundle (externalFiles), imported from there at run time.
      external: external.flatMap((name) => [name, `${name}/*`]),
      legalComments: 'none',
    });
    const code = result.outputFiles[0]!.text;
    // Files packages read beside their modules first: a package also shipped whole (--external) overwrites them.
    for (const [name, content] of located.assets()) if (!files.has(name)) files.set(name, content);
    for (const [name, content] of externalFiles(path.dirname(file), [...new Set([...external, ...native])])) files.set(name, content);
    const bytes = Buffer.byteLength(code) + [...files.values()].reduce((sum, f) => sum + f.length, 0);
    const shipped = [...native].filter((name) => !external.includes(name));
    const tooLarge = located
      .tooLarge()
      .map((name) => `package ${name} reads files beside its modules, too many to ship that way: deploy with --external ${name} if it needs them`);
    return { code, bytes, warnings: [...result.warnings.map((w) => `${where(w)}${w.text}`), ...tooLarge], files, native: shipped };
  } catch (err) {
    const errors = (err as { errors?: Message[] }).errors;
    if (!errors?.length) throw err;
    throw new CliError(`could not bundle ${target}:\n${errors.map((e) => `  ${where(e)}${e.text}`).join('\n')}`, 'fix the error above; nothing was uploaded');
  }
}
