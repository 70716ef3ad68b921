// Materializes a function's code on this host once per hash, as the read-only /fn mount of its containers.
import { chmod, mkdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FunctionSpec } from '../core/function-spec.js';
import type { FunctionRegistry } from '../registry/function-registry.js';
import { CONTAINER } from '../runtime-images/node/protocol.js';
import { includedPathProblem, unpackCode } from '../core/code-archive.js';

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
    const stored = await this.options.registry.getCode(spec.codeSha256);
    if (!stored) throw new Error(`code ${spec.codeSha256} of function ${spec.name} is missing from the registry`);
    const { bundle, files } = unpackCode(stored);
    await mkdir(dir, { recursive: true, mode: 0o755 });
    await chmod(path.join(this.options.dataDir, 'code'), 0o755);
    await chmod(dir, 0o755);
    // Files beside the code first; the bundle last, since its presence marks the directory complete.
    for (const [name, content] of files) {
      const target = path.resolve(dir, name);
      // Checked at deploy; checked again here, as this writes on the host.
      if (includedPathProblem(name, CONTAINER.codeFile) || !target.startsWith(`${dir}${path.sep}`))
        throw new Error(`unsafe file path in code ${spec.codeSha256}: ${name}`);
      await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
      await writeFile(target, content, { mode: 0o644 });
    }
    // Write then rename, so a container never sees a half-written bundle.
    const partial = `${file}.${process.pid}.partial`;
    await writeFile(partial, bundle, { mode: 0o644 });
    await rename(partial, file);
    return dir;
  }
}
