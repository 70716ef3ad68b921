// A FunctionRegistry in memory, with change notifications as the Redis one sends them; it passes the same
// contract suite (test/support/function-registry.contract.ts).
import { createHash } from 'node:crypto';
import type { FunctionSpec } from '../../../core/function-spec.js';
import type { DeployInput, FunctionChange, FunctionRegistry } from '../../../registry/function-registry.js';

export class InMemoryRegistry implements FunctionRegistry {
  readonly specs = new Map<string, FunctionSpec>();
  readonly code = new Map<string, Buffer>();
  private readonly listeners = new Set<(change: FunctionChange) => void>();

  async deploy(input: DeployInput): Promise<FunctionSpec> {
    const previous = this.specs.get(input.name);
    const sha = createHash('sha256').update(input.code).digest('hex');
    const now = new Date().toISOString();
    const spec: FunctionSpec = {
      ...structuredClone(input.config),
      name: input.name,
      version: (previous?.version ?? 0) + 1,
      codeSha256: sha,
      codeBytes: input.code.length,
      createdAt: previous?.createdAt ?? now,
      updatedAt: now,
    };
    this.specs.set(input.name, spec);
    this.code.set(sha, input.code);
    this.emit({ kind: 'deployed', spec, ...(previous ? { previous } : {}) });
    return spec;
  }

  async get(name: string): Promise<FunctionSpec | undefined> {
    return this.specs.get(name);
  }

  has(name: string): boolean {
    return this.specs.has(name);
  }

  async list(): Promise<FunctionSpec[]> {
    return [...this.specs.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async remove(name: string): Promise<boolean> {
    const previous = this.specs.get(name);
    if (!previous) return false;
    this.specs.delete(name);
    this.emit({ kind: 'deleted', name, previous });
    return true;
  }

  async getCode(codeSha256: string): Promise<Buffer | undefined> {
    return this.code.get(codeSha256);
  }

  onChange(listener: (change: FunctionChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }

  private emit(change: FunctionChange): void {
    // Asynchronously, as a notification through Redis arrives.
    queueMicrotask(() => {
      for (const listener of this.listeners) listener(change);
    });
  }
}
