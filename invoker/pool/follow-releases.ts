// Keeps the pool in step with the registry: every change to a function (a deploy, an alias moved, a version
// deleted or pruned, a restart, a delete) becomes what the pool must do about it. One job: the pool decides
// containers, the registry holds releases; this module is the wire between them.
import type { FunctionRecord, FunctionSpec } from '../../core/function-spec.js';
import { routedBy } from '../../core/releases.js';
import type { FunctionChange, FunctionRegistry } from '../../registry/function-registry.js';
import type { ContainerPool } from './container-pool.js';

type Pool = Pick<ContainerPool, 'setFunction' | 'removeFunction' | 'recycle' | 'liveCount' | 'warmUp'>;

/** The versions other than the newest that an alias routes calls to. */
const routedVersions = (record: FunctionRecord): number[] =>
  record.releases.versions.filter((v) => v !== record.version && routedBy(record.releases, v).length > 0);

/** Follows the registry's changes into the pool; returns the unsubscribe function. */
export function followReleases(registry: Pick<FunctionRegistry, 'onChange' | 'getVersion'>, pool: Pool): () => void {
  const versionOf = (record: FunctionRecord, version: number): Promise<FunctionSpec | undefined> =>
    version === record.version ? Promise.resolve(record) : registry.getVersion(record.name, version);

  /**
   * An alias moved from a version warm here (a deploy, a rollback, a promotion): its new target gets a
   * container ahead of its first call, as a Knative revision is ready before it takes traffic.
   */
  const warmMoved = (previous: FunctionRecord, record: FunctionRecord) => {
    const wanted = new Set<number>();
    for (const [name, alias] of Object.entries(record.releases.aliases)) {
      const before = previous.releases.aliases[name];
      if (before && before.version !== alias.version && pool.liveCount(record.name, before.version) > 0) wanted.add(alias.version);
    }
    for (const version of wanted) {
      if (pool.liveCount(record.name, version) > 0) continue;
      void versionOf(record, version).then(
        (spec) => spec && pool.warmUp(spec, 1),
        () => {},
      );
    }
  };

  return registry.onChange((change: FunctionChange) => {
    if (change.kind === 'deleted') return pool.removeFunction(change.name);
    const record = change.spec;
    pool.setFunction(record);
    // Versions deleted or pruned: their containers go.
    pool.removeFunction(record.name, record.releases.versions);
    if (change.previous && change.previous.restartedAt !== record.restartedAt) pool.recycle(record.name, 'function restarted');
    if (change.previous) warmMoved(change.previous, record);
    // Older versions an alias routes to keep their minScale warm here too, not only once called.
    for (const version of routedVersions(record)) {
      void versionOf(record, version).then(
        (spec) => spec && spec.minScale > 0 && pool.setFunction(spec),
        () => {},
      );
    }
  });
}
