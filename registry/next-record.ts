// Pure: what a deploy writes. The new record (the newest version's spec plus the function's releases), whether
// it is a new version at all (the same code and settings make none), and the versions it prunes.
import { createHash } from 'node:crypto';
import type { FunctionConfig, FunctionRecord, FunctionSpec } from '../core/function-spec.js';
import { SETTING_KEYS } from '../core/function-settings.js';
import { afterDeploy, firstReleases } from '../core/releases.js';

export interface DeployDraft {
  name: string;
  config: FunctionConfig;
  codeSha256: string;
  codeBytes: number;
}

/** sha256 of the code's hash and every setting in the settings table's order. */
export function contentSha256(config: FunctionConfig, codeSha256: string): string {
  const settings = SETTING_KEYS.map((key) => [key, config[key]]);
  return createHash('sha256')
    .update(JSON.stringify([codeSha256, settings]))
    .digest('hex');
}

/** The spec of one version as kept: the record less what belongs to the function. */
export function versionSpecOf(record: FunctionRecord | FunctionSpec): FunctionSpec {
  const { releases: _r, revision: _v, contentSha256: _c, ...spec } = record as FunctionRecord;
  return spec;
}

export interface NextRecord {
  record: FunctionRecord;
  /** False when the content equals the newest version's: no version was made (latest may still move to it). */
  created: boolean;
  pruned: number[];
}

export function nextRecord(previous: FunctionRecord | undefined, draft: DeployDraft, options: { promote: boolean; keep: number; now: string }): NextRecord {
  const content = contentSha256(draft.config, draft.codeSha256);
  if (previous && previous.contentSha256 === content) {
    const { releases, pruned } = afterDeploy(previous.releases, previous.version, options);
    return { record: { ...previous, releases, revision: previous.revision + 1 }, created: false, pruned };
  }
  const version = (previous?.version ?? 0) + 1;
  const base = previous?.releases ?? firstReleases(version, options.now);
  // A function's first deploy is promoted whatever was asked: `/fn/<name>` has to answer something.
  const { releases, pruned } = afterDeploy(base, version, previous ? options : { ...options, promote: true });
  const record: FunctionRecord = {
    ...structuredClone(draft.config),
    name: draft.name,
    version,
    codeSha256: draft.codeSha256,
    codeBytes: draft.codeBytes,
    createdAt: previous?.createdAt ?? options.now,
    updatedAt: options.now,
    releases,
    revision: (previous?.revision ?? 0) + 1,
    contentSha256: content,
    ...(previous?.restartedAt ? { restartedAt: previous.restartedAt } : {}),
  };
  return { record, created: true, pruned };
}
