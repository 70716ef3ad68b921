// Materializes a function's code on this host once per hash, as the read-only /fn mount of its containers.
import { chmod, mkdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FunctionSpec } from '../core/function-spec.js';
import type { FunctionRegistry } from '../registry/function-registry.js';
import { CONTAINER } from '../runtime-images/node/protocol.js';

export class CodeCache {
  private readonly pending = new Map<string, Promise<string>>();

  constructor(private readonly options: { dataDir: string; registry: Pick<FunctionRegistry, 'getCode'> }) {}

  /** Host directory holding `index.mjs` for the spec's code, world-readable (containers run as uid 65534). */
  dirFor(spec: Pick<FunctionSpec, 'name' | 'codeSha256'>): Promise<string> {
    const existing = this.pending.get(spec.codeSha256);
    if (existing) return existing;
    const made = this.materialize(spec).catch((err) => {
      this.pending.delete(spec.codeSha256);
      throw err;
    });
    this.pending.set(spec.codeSha256, made);
    return made;
  }

  private async materialize(spec: Pick<FunctionSpec, 'name' | 'codeSha256'>): Promise<string> {
    const dir = path.join(this.options.dataDir, 'code', spec.codeSha256);
    const file = path.join(dir, CONTAINER.codeFile);
    if (
      await stat(file).then(
        () => true,
        () => false,
      )
    )
      return dir;
    const code = await this.options.registry.getCode(spec.codeSha256);
    if (!code) throw new Error(`code ${spec.codeSha256} of function ${spec.name} is missing from the registry`);
    await mkdir(dir, { recursive: true, mode: 0o755 });
    await chmod(path.join(this.options.dataDir, 'code'), 0o755);
    await chmod(dir, 0o755);
    // Write then rename, so a container never sees a half-written bundle.
    const partial = `${file}.${process.pid}.partial`;
    await writeFile(partial, code, { mode: 0o644 });
    await rename(partial, file);
    return dir;
  }
}
