// A function's deployed code as stored and shipped: the bundle alone (an ES module, as earlier versions
// stored it), or the bundle with files beside it (templates, data, assets: `faas deploy --include`), packed
// into one blob so the registry, the code cache and the hash stay one per deploy. Defined here only: the
// gateway packs, the invoker's code cache unpacks into the container's read-only code directory.

/** The first line of a packed archive; a plain bundle never starts with it. */
const MAGIC = '//faas-code-archive v1\n';

/** Paths of files beside the code: relative, no `..`, no leading dot-dot or slash, not the bundle itself. */
export const INCLUDED_PATH_PATTERN = '^(?![./])(?!.*(?:^|/)\\.\\.(?:/|$))[A-Za-z0-9._@+=,~-][A-Za-z0-9._@+=,~/-]{0,255}$';
const INCLUDED_PATH = new RegExp(INCLUDED_PATH_PATTERN);

/** Files beside the code at most, per deploy. */
export const MAX_INCLUDED_FILES = 1_000;

/** Why a path cannot hold an included file, or undefined. `bundleFile` is the bundle's own name. */
export function includedPathProblem(path: string, bundleFile: string): string | undefined {
  if (!INCLUDED_PATH.test(path) || path.endsWith('/') || path.includes('//')) {
    return `"${path}" is not a relative path of letters, digits and ._-@+=,~ without ".."`;
  }
  if (path === bundleFile) return `"${path}" is the name of the bundle itself`;
  return undefined;
}

/**
 * Why a set of included paths cannot all be files of one directory tree, or undefined: a path that is also
 * the directory of another (`a` and `a/b`), which would fail the container's start, not the deploy.
 */
export function includedTreeProblem(paths: Iterable<string>): string | undefined {
  const files = new Set(paths);
  for (const file of files) {
    for (let at = file.indexOf('/'); at !== -1; at = file.indexOf('/', at + 1)) {
      const dir = file.slice(0, at);
      if (files.has(dir)) return `"${dir}" is a file and the directory of "${file}"; a path is one or the other`;
    }
  }
  return undefined;
}

/** Packs the bundle and files beside it; the bundle alone stays as it is (so its hash is unchanged). */
export function packCode(bundle: Buffer, files: ReadonlyMap<string, Buffer>): Buffer {
  if (files.size === 0) return bundle;
  const manifest: Record<string, string> = { '': bundle.toString('base64') };
  for (const [path, content] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) manifest[path] = content.toString('base64');
  return Buffer.from(MAGIC + JSON.stringify(manifest));
}

/** The bundle and the files beside it, from what packCode stored (or a plain bundle). */
export function unpackCode(stored: Buffer): { bundle: Buffer; files: Map<string, Buffer> } {
  if (stored.length < MAGIC.length || stored.subarray(0, MAGIC.length).toString('utf8') !== MAGIC) return { bundle: stored, files: new Map() };
  const manifest = JSON.parse(stored.subarray(MAGIC.length).toString('utf8')) as Record<string, string>;
  const files = new Map<string, Buffer>();
  for (const [path, content] of Object.entries(manifest)) if (path !== '') files.set(path, Buffer.from(content, 'base64'));
  return { bundle: Buffer.from(manifest[''] ?? '', 'base64'), files };
}
