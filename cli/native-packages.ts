// Which installed packages carry native addons. Such a package cannot be inlined into a JavaScript bundle
// (a .node file is machine code, often loaded through a computed require esbuild cannot follow, as sharp's
// `require(\`@img/sharp-${platform}/sharp.node\`)`), so the bundler leaves it out and ships its directory
// as it is, where Node's own resolution finds it at run time — as Lambda users ship node_modules.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Files looked at in one package at most, before deciding it carries none (a large pure package). */
const MAX_FILES_LOOKED_AT = 5_000;

interface Manifest {
  gypfile?: boolean;
  os?: string[];
  cpu?: string[];
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

function manifestOf(dir: string): Manifest {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Manifest;
  } catch {
    return {};
  }
}

/** Whether a package's own files (not its node_modules) hold a native addon or its build recipe. */
function hasOwnAddon(dir: string): boolean {
  if (manifestOf(dir).gypfile === true || existsSync(path.join(dir, 'binding.gyp'))) return true;
  let looked = 0;
  const stack = [dir];
  while (stack.length > 0 && looked < MAX_FILES_LOOKED_AT) {
    const at = stack.pop()!;
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(at, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      looked++;
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && !entry.name.startsWith('.')) stack.push(path.join(at, entry.name));
      } else if (entry.name.endsWith('.node')) return true;
    }
  }
  return false;
}

/**
 * Finds packages with native addons, memoised per directory. A package carries one when its own files hold
 * a `.node` file or a `binding.gyp`, or when one of its installed dependencies is a platform-specific binary
 * package (`os`/`cpu` in its package.json, as `@img/sharp-linux-x64`) holding one: those are always loaded
 * through computed requires, so the package that loads them must be shipped with them.
 */
export class NativePackages {
  private readonly known = new Map<string, boolean>();

  constructor(private readonly dirOf: (name: string, from: string) => string | undefined) {}

  carriesAddon(dir: string): boolean {
    const cached = this.known.get(dir);
    if (cached !== undefined) return cached;
    this.known.set(dir, false);
    let native = hasOwnAddon(dir);
    if (!native) {
      const manifest = manifestOf(dir);
      for (const dep of [...Object.keys(manifest.optionalDependencies ?? {}), ...Object.keys(manifest.dependencies ?? {})]) {
        const depDir = this.dirOf(dep, dir);
        if (!depDir) continue;
        const depManifest = manifestOf(depDir);
        if ((depManifest.os || depManifest.cpu) && hasOwnAddon(depDir)) {
          native = true;
          break;
        }
      }
    }
    this.known.set(dir, native);
    return native;
  }
}

/** `@scope/name` or `name`: the package a bare import specifier names (`sharp/lib/x` → `sharp`). */
export function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/**
 * Directories under a package's `prebuilds/` for another operating system (node-gyp-build's layout,
 * `prebuilds/<platform>-<arch>/`): left out when the package is shipped to the platform's Linux containers.
 */
export function isForeignPrebuild(relativeDir: string): boolean {
  const match = /(?:^|\/)prebuilds\/([^/]+)$/.exec(relativeDir);
  return match !== null && !match[1]!.startsWith('linux-');
}
