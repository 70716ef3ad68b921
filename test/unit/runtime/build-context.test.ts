import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AWS_SDK_CLIENTS, assembleContext, nodeLibraries, runtimeDockerfile } from '../../../runtime-images/node/build-image.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('assembleContext', () => {
  it('puts the host node binary, its libraries, the runtime and a nobody user in a FROM scratch context', () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'faas-ctx-'));
    const nodePath = realpathSync(process.execPath);
    const libs = nodeLibraries(nodePath);
    expect(libs.some((l) => l.includes('ld-linux'))).toBe(true);
    assembleContext(dir, 'scratch', 'console.log(1)', 'FROM scratch\n', nodePath, libs);
    expect(existsSync(path.join(dir, 'rootfs/usr/local/bin/node'))).toBe(true);
    for (const lib of libs) expect(existsSync(path.join(dir, 'rootfs', lib))).toBe(true);
    expect(readFileSync(path.join(dir, 'rootfs/runtime/runtime.mjs'), 'utf8')).toBe('console.log(1)');
    expect(readFileSync(path.join(dir, 'rootfs/etc/passwd'), 'utf8')).toContain('nobody:x:65534:65534');
    expect(existsSync(path.join(dir, 'rootfs/tmp'))).toBe(false);
  });

  it('puts only the runtime and the Dockerfile in the official-image context', () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'faas-ctx-'));
    const dockerfile = readFileSync('runtime-images/node/Dockerfile', 'utf8');
    assembleContext(dir, 'official', 'console.log(2)', dockerfile, '/unused', []);
    expect(readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).toMatch(/^FROM node:20-slim$/m);
    expect(existsSync(path.join(dir, 'rootfs/runtime/runtime.mjs'))).toBe(true);
    expect(existsSync(path.join(dir, 'rootfs/usr'))).toBe(false);
  });
});

describe('runtimeDockerfile', () => {
  const scratch = readFileSync('runtime-images/node/Dockerfile.scratch', 'utf8');
  const official = readFileSync('runtime-images/node/Dockerfile', 'utf8');

  it("starts node 20 with the V8 flags measured for it (a young runtime's tier-up)", () => {
    expect(runtimeDockerfile(scratch, 'v20.20.2')).toMatch(/^ENTRYPOINT \["\/usr\/local\/bin\/node", "--interrupt-budget=16000", "\/runtime\/runtime.mjs"\]$/m);
    expect(runtimeDockerfile(official, 'v20.20.2')).toMatch(/^ENTRYPOINT \["node", "--interrupt-budget=16000", "\/runtime\/runtime.mjs"\]$/m);
  });

  it('gives node 22 and 24 no flag their V8 refuses (node will not start with an unknown one), and their own official base', () => {
    for (const version of ['v22.23.5', 'v24.22.3']) {
      expect(runtimeDockerfile(scratch, version)).toMatch(/^ENTRYPOINT \["\/usr\/local\/bin\/node", "\/runtime\/runtime.mjs"\]$/m);
      expect(runtimeDockerfile(official, version)).toContain(`FROM node:${version.slice(1, 3)}-slim`);
    }
  });
});

describe('the AWS SDK clients the images carry', () => {
  it('are the ones aws-sdk/package.json installs', () => {
    const manifest = JSON.parse(readFileSync('runtime-images/node/aws-sdk/package.json', 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(manifest.dependencies).sort()).toEqual([...AWS_SDK_CLIENTS].sort());
  });
});
