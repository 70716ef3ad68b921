// The Docker driver's host side: each container's channel directory (<dataDir>/sock/<id>, bind-mounted
// read-only at CONTAINER.socketDir, the invoker listening in it) and code directories (the shared code
// cache, and prewarmed runtimes' own <dataDir>/prewarm/<id>, mounted read-only at CONTAINER.codeDir).
import { copyFile, cp, mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ChannelListener, ContainerHost } from '../container-driver.js';
import { RuntimeListener } from '../../runtime/runtime-listener.js';
import { CONTAINER } from '../../../runtime-images/node/protocol.js';

export interface HostDirectoriesOptions {
  dataDir: string;
  /** Materialises a function's code on this host (code-cache.ts). */
  codeCache: { dirFor(spec: { name: string; codeSha256: string }): Promise<string> };
}

export class HostDirectories implements ContainerHost {
  constructor(private readonly options: HostDirectoriesOptions) {}

  socketDirOf(id: string): string {
    return path.join(this.options.dataDir, 'sock', id);
  }

  private prewarmDirOf(id: string): string {
    return path.join(this.options.dataDir, 'prewarm', id);
  }

  async openChannel(id: string, concurrency: number): Promise<ChannelListener> {
    const dir = this.socketDirOf(id);
    // Only root may enter the parent on the host; the container sees the socket's own directory, read-only.
    await mkdir(path.dirname(dir), { recursive: true, mode: 0o700 });
    return RuntimeListener.open(dir, concurrency);
  }

  codeDirFor(spec: { name: string; codeSha256: string }): Promise<string> {
    return this.options.codeCache.dirFor(spec);
  }

  async ownCodeDir(id: string): Promise<string> {
    const dir = this.prewarmDirOf(id);
    await mkdir(dir, { recursive: true, mode: 0o755 });
    return dir;
  }

  async placeCode(spec: { name: string; codeSha256: string }, ownCodeDir: string): Promise<void> {
    const from = await this.codeDirFor(spec);
    const entries = await readdir(from, { withFileTypes: true });
    if (entries.every((entry) => entry.isFile())) {
      // Most functions are their bundle alone: plain copies, without fs.cp's walk (a few ms of a cold start).
      await Promise.all(
        entries.filter((entry) => !entry.name.endsWith('.partial')).map((entry) => copyFile(path.join(from, entry.name), path.join(ownCodeDir, entry.name))),
      );
      return;
    }
    // The bundle, and the files shipped beside it with their directories.
    await cp(from, ownCodeDir, { recursive: true, filter: (source) => !source.endsWith('.partial') });
    await copyFile(path.join(from, CONTAINER.codeFile), path.join(ownCodeDir, CONTAINER.codeFile));
  }

  async release(id: string, ownCodeDir?: string): Promise<void> {
    await rm(this.socketDirOf(id), { recursive: true, force: true });
    if (ownCodeDir) await rm(ownCodeDir, { recursive: true, force: true });
  }

  async clearLeftovers(): Promise<void> {
    await rm(path.join(this.options.dataDir, 'sock'), { recursive: true, force: true });
    await rm(path.join(this.options.dataDir, 'prewarm'), { recursive: true, force: true });
  }
}
