// Changes a running container's memory and CPU limits by writing its cgroup files on this host — a few
// writes, where `docker update` takes a round trip through dockerd, containerd and runc (about 15 ms, most of a
// prewarmed cold start). The engine does not learn of it: `docker inspect` keeps the limits it started with.
// cgroup v1 (memory.limit_in_bytes, memory.memsw.limit_in_bytes, cpu.cfs_quota_us) and v2 (memory.max,
// memory.swap.max, cpu.max), with Docker's cgroupfs or systemd driver.
import { readFileSync, writeFileSync } from 'node:fs';
import { cgroupLayouts, type CgroupLayout } from './cgroup-paths.js';

const MIB = 1024 * 1024;

export interface Limits {
  memoryMb: number;
  cpus: number;
}

export class CgroupLimits {
  private layout: CgroupLayout | undefined;

  constructor(private readonly root = '/sys/fs/cgroup') {}

  /** Applies the limits (memory without swap); false where the container's cgroup is not writable here. */
  set(dockerId: string, limits: Limits): boolean {
    const layout = this.layoutOf(dockerId);
    if (!layout) return false;
    const bytes = limits.memoryMb * MIB;
    if (layout.version === 1) {
      const limitFile = layout.file('memory', dockerId, 'memory.limit_in_bytes');
      const swapFile = layout.file('memory', dockerId, 'memory.memsw.limit_in_bytes');
      const hasSwapAccounting = readable(swapFile);
      // memsw (memory + swap) may never be below the memory limit: raise it first, lower it last.
      const raising = bytes > Number(readFileSync(limitFile, 'utf8'));
      if (raising && hasSwapAccounting) writeFileSync(swapFile, String(bytes));
      writeFileSync(limitFile, String(bytes));
      if (!raising && hasSwapAccounting) writeFileSync(swapFile, String(bytes));
      const period = Number(readFileSync(layout.file('cpu', dockerId, 'cpu.cfs_period_us'), 'utf8')) || 100_000;
      writeFileSync(layout.file('cpu', dockerId, 'cpu.cfs_quota_us'), String(Math.round(limits.cpus * period)));
      return true;
    }
    writeFileSync(layout.file('memory', dockerId, 'memory.max'), String(bytes));
    if (readable(layout.file('memory', dockerId, 'memory.swap.max'))) writeFileSync(layout.file('memory', dockerId, 'memory.swap.max'), '0');
    const period = Number(readFileSync(layout.file('cpu', dockerId, 'cpu.max'), 'utf8').split(' ')[1]) || 100_000;
    writeFileSync(layout.file('cpu', dockerId, 'cpu.max'), `${Math.round(limits.cpus * period)} ${period}`);
    return true;
  }

  /** The limits in force, from the cgroup (undefined where it is not readable here). */
  get(dockerId: string): Limits | undefined {
    const layout = this.layoutOf(dockerId);
    if (!layout) return undefined;
    if (layout.version === 1) {
      const bytes = Number(readFileSync(layout.file('memory', dockerId, 'memory.limit_in_bytes'), 'utf8'));
      const quota = Number(readFileSync(layout.file('cpu', dockerId, 'cpu.cfs_quota_us'), 'utf8'));
      const period = Number(readFileSync(layout.file('cpu', dockerId, 'cpu.cfs_period_us'), 'utf8'));
      return { memoryMb: bytes / MIB, cpus: quota / period };
    }
    const bytes = Number(readFileSync(layout.file('memory', dockerId, 'memory.max'), 'utf8'));
    const [quota, period] = readFileSync(layout.file('cpu', dockerId, 'cpu.max'), 'utf8')
      .trim()
      .split(' ')
      .map(Number) as [number, number];
    return { memoryMb: bytes / MIB, cpus: quota / period };
  }

  private layoutOf(dockerId: string): CgroupLayout | undefined {
    for (const layout of this.layout ? [this.layout] : cgroupLayouts(this.root)) {
      const probe = layout.version === 1 ? layout.file('memory', dockerId, 'memory.limit_in_bytes') : layout.file('memory', dockerId, 'memory.max');
      if (readable(probe)) {
        this.layout = layout;
        return layout;
      }
    }
    return undefined;
  }
}

function readable(file: string): boolean {
  try {
    readFileSync(file);
    return true;
  } catch {
    return false;
  }
}
