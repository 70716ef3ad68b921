// Builds the function runtime image FROM scratch with the host's node binary, tagged by a hash of its inputs.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { HTML_REWRITER_DIR } from './src/html-rewriter.js';
import { runtimeV8Flags } from './v8-flags.js';
import type Dockerode from 'dockerode';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Source folder of the runtime, whether running from the repo (ts) or from dist (js). */
export const sourceDir = here.includes(`${path.sep}dist${path.sep}`) ? here.replace(`${path.sep}dist${path.sep}`, path.sep) : here;

export const RUNTIME_IMAGE_REPOSITORY = 'faas-runtime-node';

/** Bumped whenever the assembled root filesystem changes in a way the other hash inputs do not show. */
const ROOTFS_LAYOUT = 3;

/** Bundles the runtime server into one ESM file with no imports but node builtins. */
export async function bundleRuntime(): Promise<string> {
  const result = await build({
    entryPoints: [path.join(sourceDir, 'src', 'main.ts')],
    // Paths in the bundle's comments are relative to this: fixed, so the image tag does not depend on the cwd.
    absWorkingDir: sourceDir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    logLevel: 'silent',
    legalComments: 'none',
  });
  return result.outputFiles[0]!.text;
}

/** The AWS SDK v3 clients installed for the images (aws-sdk/package.json, by install-extras.sh), when they are. */
const AWS_SDK_MODULES = path.join(sourceDir, 'aws-sdk', 'node_modules');

/** The AWS SDK v3 clients the runtime images carry: aws-sdk/package.json's dependencies (a unit test holds them equal). */
export const AWS_SDK_CLIENTS = [
  '@aws-sdk/client-dynamodb',
  '@aws-sdk/client-eventbridge',
  '@aws-sdk/client-lambda',
  '@aws-sdk/client-s3',
  '@aws-sdk/client-secrets-manager',
  '@aws-sdk/client-sns',
  '@aws-sdk/client-sqs',
  '@aws-sdk/client-ssm',
  '@aws-sdk/client-sts',
  '@aws-sdk/lib-dynamodb',
] as const;

/**
 * The @aws-sdk packages the runtime images carry: the clients and, where they are installed beside this
 * file (not in a CLI bundled elsewhere), every @aws-sdk package under aws-sdk/node_modules.
 */
export function providedAwsPackages(): Set<string> {
  const names = new Set<string>(AWS_SDK_CLIENTS);
  // Their @aws-sdk dependencies, from the lock file installs follow (in the repository, installed or not).
  const lock = path.join(sourceDir, 'aws-sdk', 'package-lock.json');
  if (existsSync(lock)) {
    const packages = Object.keys((JSON.parse(readFileSync(lock, 'utf8')) as { packages?: Record<string, unknown> }).packages ?? {});
    for (const entry of packages) {
      const at = entry.lastIndexOf('node_modules/@aws-sdk/');
      if (at !== -1) names.add(entry.slice(at + 'node_modules/'.length));
    }
  }
  const scope = path.join(AWS_SDK_MODULES, '@aws-sdk');
  if (existsSync(scope)) for (const name of readdirSync(scope)) names.add(`@aws-sdk/${name}`);
  return names;
}

/** html-rewriter-wasm's files the runtime loads (its CommonJS glue and the WebAssembly module). */
export function htmlRewriterFiles(): string[] {
  const dist = path.dirname(createRequire(import.meta.url).resolve('html-rewriter-wasm'));
  return ['html_rewriter.js', 'asyncify.js', 'html_rewriter_bg.wasm'].map((name) => path.join(dist, name));
}

/** The shared libraries the node binary links, by absolute path (from ldd), with the loader. */
export function nodeLibraries(nodePath: string): string[] {
  const out = execFileSync('ldd', [nodePath], { encoding: 'utf8' });
  const libs = new Set<string>();
  for (const line of out.split('\n')) {
    const match = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (match?.[1]) libs.add(match[1]);
  }
  return [...libs].sort();
}

/**
 * glibc's other libraries, which native addons link beyond node's own (sharp's libvips needs libresolv):
 * taken from the directory of node's libc, those this host has. The runtime runs this host's glibc, so an
 * addon built or prebuilt for glibc Linux loads in the container as it does here.
 */
const ADDON_LIBRARIES = ['libresolv.so.2', 'librt.so.1', 'libutil.so.1', 'libanl.so.1', 'libatomic.so.1', 'libz.so.1'];

export function addonLibraries(nodeLibs: readonly string[]): string[] {
  const libc = nodeLibs.find((lib) => path.basename(lib) === 'libc.so.6');
  if (!libc) return [];
  const dir = path.dirname(libc);
  return ADDON_LIBRARIES.map((name) => path.join(dir, name)).filter((lib) => existsSync(lib) && !nodeLibs.includes(lib));
}

function copyInto(root: string, file: string, as = file): void {
  const target = path.join(root, as);
  mkdirSync(path.dirname(target), { recursive: true });
  copyFileSync(realpathSync(file), target);
}

export interface EnsureImageOptions {
  onProgress?: (line: string) => void;
  /**
   * 'scratch' (default): FROM scratch with this host's node binary and its libraries, needing no registry.
   * 'official': FROM the official node:20-slim image, for hosts that reach a registry.
   */
  base?: 'scratch' | 'official';
  /** The node binary the image runs: default this process's own (the node20 runtime). */
  node?: NodeBinary;
}

/** A node binary and its version (`v22.23.5`). */
export interface NodeBinary {
  path: string;
  version: string;
}

/** The major version of a node version string (`v22.23.5` → `22`). */
export const nodeMajorOf = (version: string): string => version.replace(/^v/, '').split('.')[0]!;

/** Writes the build context of an image base into dir; returns the entries to send. */
export function assembleContext(
  dir: string,
  base: 'scratch' | 'official',
  runtime: string,
  dockerfile: string,
  nodePath: string,
  libs: readonly string[],
): string[] {
  const rootfs = path.join(dir, 'rootfs');
  mkdirSync(path.join(rootfs, 'runtime', HTML_REWRITER_DIR), { recursive: true });
  writeFileSync(path.join(rootfs, 'runtime', 'runtime.mjs'), runtime);
  // Workers' HTMLRewriter: lol-html's WebAssembly build, loaded by the runtime at its first use.
  for (const file of htmlRewriterFiles()) copyFileSync(file, path.join(rootfs, 'runtime', HTML_REWRITER_DIR, path.basename(file)));
  // The AWS SDK v3 clients, where a function's ES module at /fn resolves bare imports last (as Lambda ships them).
  if (existsSync(AWS_SDK_MODULES)) cpSync(AWS_SDK_MODULES, path.join(rootfs, 'node_modules'), { recursive: true, dereference: true });
  writeFileSync(path.join(dir, 'Dockerfile'), dockerfile);
  if (base === 'official') return ['Dockerfile', 'rootfs'];
  copyInto(rootfs, nodePath, '/usr/local/bin/node');
  for (const lib of libs) copyInto(rootfs, lib);
  mkdirSync(path.join(rootfs, 'etc'), { recursive: true });
  writeFileSync(path.join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n');
  writeFileSync(path.join(rootfs, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  // No /tmp in the image: Docker would copy that directory's mode onto the tmpfs mounted there,
  // overriding the tmpfs `mode=1777` the driver asks for.
  return ['Dockerfile', 'rootfs'];
}

/**
 * A runtime Dockerfile for a node version (`v22.23.5`): the official base of its major version (node:22-slim
 * for node22) and node started with that version's V8 flags.
 */
export function runtimeDockerfile(template: string, nodeVersion: string): string {
  const major = nodeMajorOf(nodeVersion);
  const flags = runtimeV8Flags(major)
    .map((flag) => `${JSON.stringify(flag)}, `)
    .join('');
  return template.replace(/FROM node:\d+-slim/, `FROM node:${major}-slim`).replace(/^ENTRYPOINT \[("[^"]+"), /m, `ENTRYPOINT [$1, ${flags}`);
}

/**
 * Returns the tag of the runtime image for this host's node (or the official base) and this runtime
 * source, building it when the engine does not have it yet (a few seconds; about 100 MB).
 */
export async function ensureRuntimeImage(docker: Dockerode, options: EnsureImageOptions = {}): Promise<string> {
  const progress = options.onProgress ?? (() => {});
  const base = options.base ?? 'scratch';
  const runtime = await bundleRuntime();
  const node = options.node ?? { path: realpathSync(process.execPath), version: process.version };
  const dockerfile = runtimeDockerfile(readFileSync(path.join(sourceDir, base === 'scratch' ? 'Dockerfile.scratch' : 'Dockerfile'), 'utf8'), node.version);
  const nodePath = node.path;
  const nodeLibs = base === 'scratch' ? nodeLibraries(nodePath) : [];
  const libs = [...nodeLibs, ...addonLibraries(nodeLibs)];
  const hash = createHash('sha256')
    .update(runtime)
    .update(
      htmlRewriterFiles()
        .map((file) => readFileSync(file))
        .reduce((h, bytes) => h.update(bytes), createHash('sha256'))
        .digest('hex'),
    )
    .update(dockerfile)
    .update(existsSync(AWS_SDK_MODULES) ? readFileSync(path.join(sourceDir, 'aws-sdk', 'package-lock.json')) : 'no aws-sdk')
    .update(base === 'scratch' ? `${ROOTFS_LAYOUT}\n${nodePath}\n${node.version}\n${libs.join('\n')}` : 'official')
    .digest('hex')
    .slice(0, 12);
  const tag = `${RUNTIME_IMAGE_REPOSITORY}:${base === 'scratch' ? '' : 'official-'}${hash}`;

  const exists = await docker
    .getImage(tag)
    .inspect()
    .then(() => true)
    .catch(() => false);
  if (exists) return tag;

  progress(`building runtime image ${tag}${base === 'scratch' ? ` from ${nodePath} (${node.version})` : ` from node:${nodeMajorOf(node.version)}-slim`}`);
  const context = mkdtempSync(path.join(os.tmpdir(), 'faas-image-'));
  try {
    const src = assembleContext(context, base, runtime, dockerfile, nodePath, libs);
    const stream = await docker.buildImage({ context, src }, { t: tag, labels: { 'faas.runtime': 'node' } });
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (err: Error | null, output: Array<{ error?: string }>) => {
          const failed = err ?? output.find((o) => o.error);
          if (failed) reject(new Error(`runtime image build failed: ${failed instanceof Error ? failed.message : failed.error}`));
          else resolve();
        },
        (event: { stream?: string }) => {
          const line = event.stream?.trim();
          if (line) progress(line);
        },
      );
    });
    return tag;
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}
