// Where a Docker container's cgroup files live on this host: cgroup v1 (one hierarchy per controller) or
// v2 (one unified directory), with Docker's cgroupfs or systemd driver. Tried in this order; the first
// layout whose files open is kept for the process.
import path from 'node:path';

export interface CgroupLayout {
  version: 1 | 2;
  /** A file of the container's cgroup for a v1 controller (ignored on v2, where all files share one directory). */
  file(controller: 'cpu' | 'cpuacct' | 'memory' | 'freezer', id: string, name: string): string;
}

export const cgroupLayouts = (root: string): CgroupLayout[] => [
  { version: 1, file: (controller, id, name) => path.join(root, controller, 'docker', id, name) },
  { version: 1, file: (controller, id, name) => path.join(root, controller, 'system.slice', `docker-${id}.scope`, name) },
  { version: 2, file: (_controller, id, name) => path.join(root, 'docker', id, name) },
  { version: 2, file: (_controller, id, name) => path.join(root, 'system.slice', `docker-${id}.scope`, name) },
];
