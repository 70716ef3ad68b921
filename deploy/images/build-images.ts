// Builds the images Compose, Swarm and Kubernetes run, with no registry: each FROM scratch with this host's
// own binaries and the libraries they link (as the function runtime image is built) —
//   faas-platform: node, the built platform (dist/, production node_modules, the dashboard) and iptables;
//   faas-redis:    redis-server;
//   the function runtime image (faas-runtime-node), which the platform is told to use as it is.
// Writes deploy/images/images.env (the three tags) for compose.yaml. Run with `npm run images`.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { ensureRuntimeImage, nodeLibraries } from '../../runtime-images/node/build-image.js';
import { nodeBinaryOf } from '../../runtime-images/node/node-runtimes.js';
import { DEFAULT_RUNTIME, RUNTIMES } from '../../core/function-settings.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository's root, whether this runs from dist/ or from the sources. */
const root = here.includes(`${path.sep}dist${path.sep}`) ? path.resolve(here, '../../..') : path.resolve(here, '../..');
export const IMAGES_ENV = path.join(root, 'deploy', 'images', 'images.env');

function copyInto(rootfs: string, file: string, as = file): void {
  const target = path.join(rootfs, as);
  mkdirSync(path.dirname(target), { recursive: true });
  copyFileSync(realpathSync(file), target);
}

/** A binary and every library it links, at their own paths. */
function copyBinary(rootfs: string, binary: string, as = binary): void {
  copyInto(rootfs, binary, as);
  for (const lib of nodeLibraries(binary)) copyInto(rootfs, lib);
}

function baseFiles(rootfs: string): void {
  mkdirSync(path.join(rootfs, 'etc'), { recursive: true });
  writeFileSync(path.join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n');
  writeFileSync(path.join(rootfs, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  for (const file of ['/etc/protocols', '/etc/services']) if (existsSync(file)) copyInto(rootfs, file);
  mkdirSync(path.join(rootfs, 'tmp'), { recursive: true });
}

/** iptables (the nft or legacy multi-call binary the host uses, named iptables and ip6tables) and its extensions. */
function copyIptables(rootfs: string): void {
  const iptables = ['/usr/sbin/iptables', '/sbin/iptables'].find((p) => existsSync(p));
  if (!iptables) return;
  const multi = realpathSync(iptables);
  copyBinary(rootfs, multi);
  for (const name of ['iptables', 'ip6tables']) symlinkSync(path.basename(multi), path.join(rootfs, path.dirname(multi), name));
  const extensions = readdirSync('/usr/lib').flatMap((d) => {
    const dir = path.join('/usr/lib', d, 'xtables');
    return existsSync(dir) ? [dir] : [];
  });
  for (const dir of extensions) cpSync(dir, path.join(rootfs, dir), { recursive: true });
}

/**
 * Builds `tag` FROM scratch unless the engine has it: `assemble` fills the root filesystem, `dockerfile` is
 * what follows `FROM scratch` and `COPY rootfs/ /`.
 */
async function buildFromRootfs(
  docker: Docker,
  tag: string,
  log: (line: string) => void,
  assemble: (rootfs: string) => void,
  dockerfile: string[],
): Promise<string> {
  if (await exists(docker, tag)) return tag;
  log(`building ${tag}`);
  const context = mkdtempSync(path.join(os.tmpdir(), 'faas-image-'));
  try {
    const rootfs = path.join(context, 'rootfs');
    mkdirSync(rootfs, { recursive: true });
    assemble(rootfs);
    writeFileSync(
      path.join(context, 'Dockerfile'),
      ['# Assembled by deploy/images/build-images.ts.', 'FROM scratch', 'COPY rootfs/ /', ...dockerfile, ''].join('\n'),
    );
    await build(docker, context, tag);
    return tag;
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

async function build(docker: Docker, context: string, tag: string): Promise<void> {
  const stream = await docker.buildImage({ context, src: ['Dockerfile', 'rootfs'] }, { t: tag, labels: { 'faas.image': tag.split(':')[0]! } });
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, output: Array<{ error?: string }>) => {
      const failed = err ?? output.find((o) => o.error);
      if (failed) reject(new Error(`building ${tag}: ${failed instanceof Error ? failed.message : failed.error}`));
      else resolve();
    });
  });
}

const exists = (docker: Docker, tag: string) =>
  docker
    .getImage(tag)
    .inspect()
    .then(() => true)
    .catch(() => false);

/** The platform: node, dist/, production dependencies (installed from the lock file), the dashboard, iptables. */
async function platformImage(docker: Docker, log: (line: string) => void): Promise<string> {
  const dist = path.join(root, 'dist');
  if (!existsSync(path.join(dist, 'cli', 'main.js'))) throw new Error('no dist/: run `npm run build` first (npm run images does)');
  const nodePath = realpathSync(process.execPath);
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else hash.update(full.slice(root.length)).update(readFileSync(full));
    }
  };
  walk(dist);
  walk(path.join(root, 'gateway', 'dashboard'));
  hash.update(readFileSync(path.join(root, 'package-lock.json'))).update(`${nodePath}\n${process.version}\n${nodeLibraries(nodePath).join('\n')}`);
  const tag = `faas-platform:${hash.digest('hex').slice(0, 12)}`;
  return buildFromRootfs(
    docker,
    tag,
    log,
    (rootfs) => {
      const app = path.join(rootfs, 'app');
      mkdirSync(app, { recursive: true });
      copyBinary(rootfs, nodePath, '/usr/local/bin/node');
      baseFiles(rootfs);
      copyIptables(rootfs);
      cpSync(dist, path.join(app, 'dist'), { recursive: true });
      cpSync(path.join(root, 'gateway', 'dashboard'), path.join(app, 'gateway', 'dashboard'), { recursive: true });
      for (const file of ['package.json', 'package-lock.json']) copyFileSync(path.join(root, file), path.join(app, file));
      // Production dependencies only, from the lock file (npm's cache makes this fast; no dev tools in the image).
      execFileSync('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: app, stdio: 'ignore' });
    },
    [
      'ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin NODE_ENV=production',
      'WORKDIR /app',
      'EXPOSE 8080 8081',
      'ENTRYPOINT ["/usr/local/bin/node", "/app/dist/cli/main.js"]',
      'CMD ["up"]',
    ],
  );
}

/** Redis: the host's redis-server. */
async function redisImage(docker: Docker, log: (line: string) => void): Promise<string> {
  const binary = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
  if (!binary) throw new Error('no redis-server on this host: `apt-get install -y redis-server`');
  const real = realpathSync(binary);
  const libs = nodeLibraries(real);
  const hash = createHash('sha256').update(readFileSync(real)).update(libs.join('\n')).digest('hex').slice(0, 12);
  const tag = `faas-redis:${hash}`;
  return buildFromRootfs(
    docker,
    tag,
    log,
    (rootfs) => {
      copyBinary(rootfs, real, '/usr/bin/redis-server');
      baseFiles(rootfs);
      mkdirSync(path.join(rootfs, 'data'), { recursive: true });
    },
    ['WORKDIR /data', 'ENTRYPOINT ["/usr/bin/redis-server"]'],
  );
}

export interface BuiltImages {
  platform: string;
  runtime: string;
  redis: string;
}

export async function buildImages(docker = new Docker(), log: (line: string) => void = () => {}): Promise<BuiltImages> {
  const runtime = await ensureRuntimeImage(docker, { onProgress: log });
  // The other runtimes installed here (--runtime node22, node24): an image each, named to every process.
  const others: string[] = [];
  for (const name of RUNTIMES) {
    const node = name === DEFAULT_RUNTIME ? undefined : nodeBinaryOf(name);
    if (node) others.push(`FAAS_RUNTIME_IMAGE_${name.toUpperCase()}=${await ensureRuntimeImage(docker, { onProgress: log, node })}\n`);
  }
  const platform = await platformImage(docker, log);
  const redis = await redisImage(docker, log);
  writeFileSync(IMAGES_ENV, `FAAS_PLATFORM_IMAGE=${platform}\nFAAS_RUNTIME_IMAGE=${runtime}\n${others.join('')}FAAS_REDIS_IMAGE=${redis}\n`);
  return { platform, runtime, redis };
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildImages(new Docker(), (line) => console.log(line)).then(
    (images) => console.log(`built: ${images.platform}, ${images.redis}, ${images.runtime}\ntags written to ${IMAGES_ENV}`),
    (err: Error) => {
      console.error(`images not built: ${err.message}`);
      process.exit(1);
    },
  );
}
