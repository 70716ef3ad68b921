// Reads a container's CPU time and peak memory straight from its cgroup files on this host, through file
// descriptors kept open per container: a few microseconds per reading (synchronous reads of kernel files
// that never block on a disk), where Docker's stats API takes a round trip through the engine.
// cgroup v1 and v2, with Docker's cgroupfs or systemd driver.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { cgroupLayouts, type CgroupLayout } from './cgroup-paths.js';

export interface CgroupUsage {
  /** CPU time used since the container started, ns. */
  cpuNs: number;
  /** Highest memory use (bytes): since the last resetPeak() on cgroup v1, since start on v2. */
  peakMemoryBytes: number;
}

/** Parses the CPU file of either cgroup version into ns. */
export function parseCpu(text: string, version: 1 | 2): number {
  if (version === 1) return Number(text.trim());
  const match = /^usage_usec (\d+)$/m.exec(text);
  return match ? Number(match[1]) * 1000 : NaN;
}

interface Handles {
  layout: CgroupLayout;
  cpu: number;
  peak: number;
}

const buffer = Buffer.alloc(4096);

/** The whole of a kernel file, read from offset 0 (cgroup files are regenerated on each read). */
function readAll(fd: number): string {
  const n = readSync(fd, buffer, 0, buffer.length, 0);
  return buffer.toString('utf8', 0, n);
}

export class CgroupStats {
  private layout: CgroupLayout | undefined;
  private readonly open = new Map<string, Handles>();

  constructor(private readonly root = '/sys/fs/cgroup') {}

  /** Usage of a running container by its full engine id; undefined when its cgroup cannot be read here. */
  read(dockerId: string): CgroupUsage | undefined {
    const handles = this.handlesOf(dockerId);
    if (!handles) return undefined;
    try {
      const cpuNs = parseCpu(readAll(handles.cpu), handles.layout.version);
      const peakMemoryBytes = Number(readAll(handles.peak).trim());
      return Number.isFinite(cpuNs) && Number.isFinite(peakMemoryBytes) ? { cpuNs, peakMemoryBytes } : undefined;
    } catch {
      this.forget(dockerId);
      return undefined;
    }
  }

  /** Starts a new peak (cgroup v1: writing 0 to memory.max_usage_in_bytes). False where that is not possible. */
  resetPeak(dockerId: string): boolean {
    const handles = this.handlesOf(dockerId);
    if (handles?.layout.version !== 1) return false;
    try {
      writeSync(handles.peak, '0', 0);
      return true;
    } catch {
      return false;
    }
  }

  /** Closes what was kept open for a container (call when it is removed). */
  forget(dockerId: string): void {
    const handles = this.open.get(dockerId);
    if (!handles) return;
    this.open.delete(dockerId);
    for (const fd of [handles.cpu, handles.peak]) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
  }

  private handlesOf(dockerId: string): Handles | undefined {
    const known = this.open.get(dockerId);
    if (known) return known;
    for (const layout of this.layout ? [this.layout] : cgroupLayouts(this.root)) {
      let cpu = -1;
      try {
        // v1: cpuacct.usage holds ns, memory.max_usage_in_bytes is written to reset it; v2: cpu.stat, memory.peak (read only).
        cpu = openSync(layout.file('cpuacct', dockerId, layout.version === 1 ? 'cpuacct.usage' : 'cpu.stat'), 'r');
        const peak =
          layout.version === 1
            ? openSync(layout.file('memory', dockerId, 'memory.max_usage_in_bytes'), 'r+')
            : openSync(layout.file('memory', dockerId, 'memory.peak'), 'r');
        this.layout = layout;
        const handles = { layout, cpu, peak };
        this.open.set(dockerId, handles);
        return handles;
      } catch {
        if (cpu !== -1) closeSync(cpu);
      }
    }
    return undefined;
  }
}
