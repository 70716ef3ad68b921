// A FunctionRegistry in memory, with change notifications as the Redis one sends them; it passes the same
// contract suite (test/support/function-registry.contract.ts).
import { createHash } from 'node:crypto';
import type { FunctionRecord, FunctionSpec } from '../../../core/function-spec.js';
import { DEFAULT_VERSIONS_KEPT } from '../../../core/releases.js';
import type { DeployInput, DeployResult, FunctionChange, FunctionRegistry, ReleasesChange } from '../../../registry/function-registry.js';
import { nextRecord, versionSpecOf } from '../../../registry/next-record.js';

export class InMemoryRegistry implements FunctionRegistry {
  readonly specs = new Map<string, FunctionRecord>();
  readonly versionSpecs = new Map<string, Map<number, FunctionSpec>>();
  readonly code = new Map<string, Buffer>();
  private readonly listeners = new Set<(change: FunctionChange) => void>();

  async deploy(input: DeployInput): Promise<DeployResult> {
    const previous = this.specs.get(input.name);
    const sha = createHash('sha256').update(input.code).digest('hex');
    const draft = { name: input.name, config: input.config, codeSha256: sha, codeBytes: input.code.length };
    const next = nextRecord(previous, draft, { promote: input.promote !== false, keep: DEFAULT_VERSIONS_KEPT, now: new Date().toISOString() });
    this.code.set(sha, input.code);
    let versions = this.versionSpecs.get(input.name);
    if (!versions) this.versionSpecs.set(input.name, (versions = new Map()));
    if (next.created) versions.set(next.record.version, versionSpecOf(next.record));
    for (const v of next.pruned) versions.delete(v);
    this.specs.set(input.name, next.record);
    this.emit({ kind: 'deployed', spec: next.record, ...(previous ? { previous } : {}) });
    return { spec: next.record, created: next.created };
  }

  async updateReleases(name: string, change: ReleasesChange): Promise<FunctionRecord | undefined> {
    const previous = this.specs.get(name);
    if (!previous) return undefined;
    const releases = change(previous);
    const record = { ...previous, releases, revision: previous.revision + 1 };
    const versions = this.versionSpecs.get(name);
    for (const v of previous.releases.versions) if (!releases.versions.includes(v)) versions?.delete(v);
    this.specs.set(name, record);
    this.emit({ kind: 'deployed', spec: record, previous });
    return record;
  }

  async restart(name: string): Promise<FunctionRecord | undefined> {
    const previous = this.specs.get(name);
    if (!previous) return undefined;
    const record = { ...previous, restartedAt: new Date().toISOString(), revision: previous.revision + 1 };
    this.specs.set(name, record);
    this.emit({ kind: 'deployed', spec: record, previous });
    return record;
  }

  async get(name: string): Promise<FunctionRecord | undefined> {
    return this.specs.get(name);
  }

  peek(name: string): FunctionRecord | undefined {
    return this.specs.get(name);
  }

  async getVersion(name: string, version: number): Promise<FunctionSpec | undefined> {
    return this.versionSpecs.get(name)?.get(version);
  }

  async versions(name: string): Promise<FunctionSpec[]> {
    return [...(this.versionSpecs.get(name)?.values() ?? [])].sort((a, b) => a.version - b.version);
  }

  has(name: string): boolean {
    return this.specs.has(name);
  }

  async list(): Promise<FunctionRecord[]> {
    return [...this.specs.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async remove(name: string): Promise<boolean> {
    const previous = this.specs.get(name);
    if (!previous) return false;
    this.specs.delete(name);
    this.versionSpecs.delete(name);
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
