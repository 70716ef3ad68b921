// Starts a worker thread from a module beside the caller's, from the built JavaScript or, in tests and
// under tsx, from the TypeScript sources through tsx's loader.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';

/**
 * `name` is the thread module's file name without extension, in the directory of `callerUrl` (import.meta.url).
 * `resourceLimits` bound the thread's own V8 heap (its young generation is as large as the main thread's by default).
 */
export function startWorkerThread(callerUrl: string, name: string, workerData: unknown, resourceLimits?: ResourceLimits): Worker {
  const fromSources = path.extname(fileURLToPath(callerUrl)) === '.ts';
  const file = new URL(`./${name}${fromSources ? '.ts' : '.js'}`, callerUrl);
  if (!fromSources) return new Worker(file, { workerData, ...(resourceLimits ? { resourceLimits } : {}) });
  const load = `import('tsx/esm/api').then((tsx) => tsx.tsImport(${JSON.stringify(file.href)}, ${JSON.stringify(callerUrl)}))`;
  return new Worker(load, { eval: true, workerData, ...(resourceLimits ? { resourceLimits } : {}) });
}
