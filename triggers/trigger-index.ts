// Which function consumes each named queue and which functions are subscribed to each topic, kept from
// the registry's specs (pure: fed specs and changes, answers lookups without I/O). Indexed by queue and by
// topic (and by tenant), so a lookup costs the same with 10 functions deployed or 10,000.
import { splitFunctionId, type FunctionSpec } from '../core/function-spec.js';

export class TriggerIndex {
  private readonly specs = new Map<string, FunctionSpec>();
  /** Queue → names of the functions that claim it (one, unless two deploys raced). */
  private readonly byQueue = new Map<string, Set<string>>();
  private readonly byTopic = new Map<string, Set<string>>();
  private readonly byTenant = new Map<string, Set<string>>();

  /** Replaces the whole index (start-up). */
  reset(specs: Iterable<FunctionSpec>): void {
    this.specs.clear();
    this.byQueue.clear();
    this.byTopic.clear();
    this.byTenant.clear();
    for (const spec of specs) this.put(spec);
  }

  /** A deploy (newer version) or a delete (spec undefined). Older versions arriving late are ignored. */
  apply(name: string, spec: FunctionSpec | undefined): void {
    const current = this.specs.get(name);
    if (spec && current && current.version > spec.version) return;
    if (current) this.take(current);
    if (spec) this.put(spec);
  }

  private put(spec: FunctionSpec): void {
    this.specs.set(spec.name, spec);
    link(this.byTenant, splitFunctionId(spec.name).tenant, spec.name);
    for (const queue of spec.queues) link(this.byQueue, queue, spec.name);
    for (const topic of spec.topics) link(this.byTopic, topic, spec.name);
  }

  private take(spec: FunctionSpec): void {
    this.specs.delete(spec.name);
    unlink(this.byTenant, splitFunctionId(spec.name).tenant, spec.name);
    for (const queue of spec.queues) unlink(this.byQueue, queue, spec.name);
    for (const topic of spec.topics) unlink(this.byTopic, topic, spec.name);
  }

  functions(): FunctionSpec[] {
    return [...this.specs.values()];
  }

  /** One tenant's functions. */
  functionsOf(tenant: string): FunctionSpec[] {
    return [...(this.byTenant.get(tenant) ?? [])].map((name) => this.specs.get(name)!);
  }

  get(name: string): FunctionSpec | undefined {
    return this.specs.get(name);
  }

  /** The function consuming a queue; when two claim it (a race between deploys), the oldest deploy wins. */
  consumerOf(queue: string): FunctionSpec | undefined {
    let found: FunctionSpec | undefined;
    for (const name of this.byQueue.get(queue) ?? []) {
      const spec = this.specs.get(name)!;
      if (!found || spec.createdAt < found.createdAt) found = spec;
    }
    return found;
  }

  /** Every function that claims a queue (one, unless two deploys raced). */
  claimantsOf(queue: string): FunctionSpec[] {
    return [...(this.byQueue.get(queue) ?? [])].map((name) => this.specs.get(name)!);
  }

  subscribersOf(topic: string): FunctionSpec[] {
    return [...(this.byTopic.get(topic) ?? [])].map((name) => this.specs.get(name)!).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Every named queue with a consumer. */
  queues(): Map<string, FunctionSpec> {
    const out = new Map<string, FunctionSpec>();
    for (const queue of this.byQueue.keys()) out.set(queue, this.consumerOf(queue)!);
    return out;
  }
}

function link(index: Map<string, Set<string>>, key: string, name: string): void {
  let names = index.get(key);
  if (!names) {
    names = new Set();
    index.set(key, names);
  }
  names.add(name);
}

function unlink(index: Map<string, Set<string>>, key: string, name: string): void {
  const names = index.get(key);
  if (!names) return;
  names.delete(name);
  if (names.size === 0) index.delete(key);
}
