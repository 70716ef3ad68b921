// Each bundled module keeps its own location: `__dirname`, `__filename` and `import.meta.url` in a module
// name the directory it has beside the bundle in the function's code directory — `lib/render.js` reads
// `lib/templates/page.html` (shipped with --include), a package's module reads its own files under
// node_modules/<package>/ — rather than the bundle's directory for every module. Packages whose modules use
// them get their own non-code files shipped there (templates, data, .cow files), so what they read is found.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { transformSync, type Loader, type Plugin } from 'esbuild';

/** Non-code files of one package shipped at most, and their bytes, before the package is left to --external. */
const MAX_ASSET_FILES = 300;
const MAX_ASSET_BYTES = 8 * 1024 * 1024;

const CODE_FILE = /\.(?:[mc]?[jt]sx?|map|md|markdown)$|\.d\.[mc]?ts$/;
/** Directories of a package nothing reads at run time. */
const SKIPPED_DIRS = new Set(['test', 'tests', '__tests__', 'example', 'examples', 'docs', 'doc', 'benchmark', 'benchmarks', 'coverage']);
/** Files shipped this way for all packages of one deploy at most (the deploy takes MAX_INCLUDED_FILES in all). */
const MAX_ASSETS_TOTAL = 500;
const DOC_FILE = /^(?:readme|changelog|history|license|licence|authors|contributors)(?:\.|$)/i;

const LOADERS: Record<string, Loader> = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.tsx': 'tsx', '.jsx': 'jsx' };

/**
 * Where a source file lands relative to the code directory: its path relative to the entry's directory,
 * or `node_modules/<package>/…` for a package's; undefined for a file outside both (it keeps the bundle's).
 */
export function shippedLocation(file: string, entryDir: string): string | undefined {
  const normal = file.split(path.sep).join('/');
  // From the first node_modules: a nested version (node_modules/a/node_modules/b) keeps a place of its own.
  const at = normal.indexOf('/node_modules/');
  if (at !== -1) return normal.slice(at + 1);
  const rel = path.relative(entryDir, file).split(path.sep).join('/');
  return rel.startsWith('../') || path.isAbsolute(rel) ? undefined : rel;
}

/** The package root of a file under node_modules (`…/node_modules/@scope/name`), or undefined. */
function packageRoot(file: string): string | undefined {
  const parts = file.split(path.sep);
  const at = parts.lastIndexOf('node_modules');
  if (at === -1) return undefined;
  const scoped = parts[at + 1]?.startsWith('@');
  return parts.slice(0, at + (scoped ? 3 : 2)).join(path.sep);
}

/**
 * The declarations a module gets in front of its code so `__dirname`, `__filename` and `import.meta.url`
 * name its own place (`__faas_dirname` is the bundle's directory, from the bundle's banner); '' when none.
 */
export function locationPrelude(code: string, location: string): string {
  const dir = path.posix.dirname(location);
  const lines: string[] = [];
  const own = (name: string) => new RegExp(`\\b(?:var|let|const|function|class)\\s+${name}\\b`).test(code);
  if (dir !== '.' && /\b__dirname\b/.test(code) && !own('__dirname')) lines.push(`var __dirname = __faas_dirname + ${JSON.stringify(`/${dir}`)};`);
  if (/\b__filename\b/.test(code) && !own('__filename')) lines.push(`var __filename = __faas_dirname + ${JSON.stringify(`/${location}`)};`);
  if (dir !== '.' && IMPORT_META_URL.test(code))
    lines.push(`var ${MODULE_URL} = __faasPathToFileURL(__faas_dirname + ${JSON.stringify(`/${location}`)}).href;`);
  return lines.join(' ');
}

const IMPORT_META_URL = /\bimport\.meta\.url\b/;
/** What `import.meta.url` of a nested module becomes (a module-level variable, renamed apart per module by esbuild). */
const MODULE_URL = '__faas_module_url';

function parsesWith(contents: string, loader: Loader): boolean {
  try {
    transformSync(contents, { loader, logLevel: 'silent' });
    return true;
  } catch {
    return false;
  }
}

/** A module's text with its prelude after any hashbang and directive prologue ('use strict' stays one). */
function withPrelude(code: string, prelude: string): string {
  const head = /^(?:#![^\n]*\n)?(?:\s*(?:\/\/[^\n]*\n|\/\*[\s\S]*?\*\/)?\s*(['"])use strict\1;?)?/.exec(code)?.[0] ?? '';
  return `${head}\n${prelude}\n${code.slice(head.length)}`;
}

/** The non-code files of a package, relative to its root (nested node_modules and dot-files left out), or undefined past the limits. */
function packageAssets(root: string): Map<string, string> | undefined {
  const assets = new Map<string, string>();
  let bytes = 0;
  const walk = (dir: string, rel: string): boolean => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.') || (entry.isDirectory() && SKIPPED_DIRS.has(entry.name))) continue;
      const full = path.join(dir, entry.name);
      const inner = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!walk(full, inner)) return false;
      } else if (entry.isFile() && !CODE_FILE.test(entry.name) && !DOC_FILE.test(entry.name)) {
        bytes += statSync(full).size;
        assets.set(inner, full);
        if (assets.size > MAX_ASSET_FILES || bytes > MAX_ASSET_BYTES) return false;
      }
    }
    return true;
  };
  return walk(root, '') ? assets : undefined;
}

export interface ModulePaths {
  plugin: Plugin;
  /** The files to ship for packages whose modules read beside themselves: code-directory path → content. */
  assets(): Map<string, Buffer>;
  /** Packages whose files were too many to ship this way (named in a warning, with --external as the fix). */
  tooLarge(): string[];
}

export function modulePaths(entryDir: string): ModulePaths {
  const readers = new Set<string>();
  /** Packages whose files were not shipped (too many, alone or with the others'). */
  const skipped = new Set<string>();
  return {
    plugin: {
      name: 'faas-module-paths',
      setup(b) {
        b.onLoad({ filter: /\.[mc]?[jt]sx?$/ }, (args) => {
          if (args.namespace !== 'file') return undefined;
          const code = readFileSync(args.path, 'utf8');
          if (!/\b__dirname\b|\b__filename\b|\bimport\.meta\.url\b/.test(code)) return undefined;
          const location = shippedLocation(args.path, entryDir);
          if (!location) return undefined;
          const prelude = locationPrelude(code, location);
          if (!prelude) return undefined;
          const root = packageRoot(args.path);
          if (root) readers.add(root);
          const text = prelude.includes(MODULE_URL) ? code.replace(/\bimport\.meta\.url\b/g, MODULE_URL) : code;
          const loader = LOADERS[path.extname(args.path)] ?? 'js';
          const contents = withPrelude(text, prelude);
          // A module that binds those names itself (`import { __dirname } from …`, destructuring, a list)
          // keeps its own: the prelude would declare them twice.
          if (!parsesWith(contents, loader)) return undefined;
          return { contents, loader, resolveDir: path.dirname(args.path) };
        });
      },
    },
    assets() {
      const files = new Map<string, Buffer>();
      // In name order, so the same packages are shipped (or skipped near the limit) on every build.
      for (const root of [...readers].sort()) {
        const assets = packageAssets(root);
        if (!assets || files.size + assets.size > MAX_ASSETS_TOTAL) {
          skipped.add(root);
          continue;
        }
        const base = shippedLocation(path.join(root, 'package.json'), entryDir)!.replace(/\/package\.json$/, '');
        for (const [rel, full] of assets) files.set(`${base}/${rel}`, readFileSync(full));
      }
      return files;
    },
    tooLarge() {
      return [...skipped].map((root) =>
        path.basename(path.dirname(root)).startsWith('@') ? `${path.basename(path.dirname(root))}/${path.basename(root)}` : path.basename(root),
      );
    },
  };
}
