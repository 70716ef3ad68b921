// Which function consumes each named queue and which functions are subscribed to each topic, kept from
// the registry's specs (pure: fed specs and changes, answers lookups without I/O).
import type { FunctionSpec } from '../core/function-spec.js';

export class TriggerIndex {
  private readonly specs = new Map<string, FunctionSpec>();

  /** Replaces the whole index (start-up). */
  reset(specs: Iterable<FunctionSpec>): void {
    this.specs.clear();
    for (const spec of specs) this.specs.set(spec.name, spec);
  }

  /** A deploy (newer version) or a delete (spec undefined). Older versions arriving late are ignored. */
  apply(name: string, spec: FunctionSpec | undefined): void {
    if (!spec) {
      this.specs.delete(name);
      return;
    }
    const current = this.specs.get(name);
    if (!current || current.version <= spec.version) this.specs.set(name, spec);
  }

  functions(): FunctionSpec[] {
    return [...this.specs.values()];
  }

  get(name: string): FunctionSpec | undefined {
    return this.specs.get(name);
  }

  /** The function consuming a queue; when two claim it (a race between deploys), the oldest deploy wins. */
  consumerOf(queue: string): FunctionSpec | undefined {
    let found: FunctionSpec | undefined;
    for (const spec of this.specs.values()) {
      if (spec.queues.includes(queue) && (!found || spec.createdAt < found.createdAt)) found = spec;
    }
    return found;
  }

  subscribersOf(topic: string): FunctionSpec[] {
    return [...this.specs.values()].filter((spec) => spec.topics.includes(topic)).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Every named queue with a consumer. */
  queues(): Map<string, FunctionSpec> {
    const out = new Map<string, FunctionSpec>();
    for (const spec of this.specs.values()) for (const queue of spec.queues) if (this.consumerOf(queue) === spec) out.set(queue, spec);
    return out;
  }
}
