// A function's releases: the versions it keeps and the aliases that route calls to them. Pure: the shapes,
// every change an owner can make (each checked, each returning a new value or throwing a 4xx), and the
// per-call choice of a version. The registry stores what these return; the invoker asks pickVersion.
import { BadRequestError, ConflictError, FaasError } from './errors.js';

/** The alias every function has: every deploy moves it to the new version (unless `--no-promote`). */
export const LATEST_ALIAS = 'latest';

/** Alias names: lower-case, a letter first (so never a version number), safe in URLs and Redis keys. */
export const ALIAS_NAME_PATTERN = '^[a-z][a-z0-9-]{0,31}$';
const ALIAS_NAME = new RegExp(ALIAS_NAME_PATTERN);

/** A caller's routing key (as Cloudflare's Cloudflare-Workers-Version-Key): one key, one side of a split. */
export const VERSION_KEY_HEADER = 'faas-version-key';

/** Every answer of a function names the version that served it. */
export const VERSION_HEADER = 'x-faas-version';

/** Earlier targets an alias remembers, for rollbacks one step at a time. */
const HISTORY_KEPT = 10;

/** Versions kept per function by default (FAAS_VERSIONS_KEPT); those an alias points to are never pruned. */
export const DEFAULT_VERSIONS_KEPT = 20;

export interface Canary {
  version: number;
  /** Share of calls, 0 < percent < 100, in hundredths at most. */
  percent: number;
}

export interface Alias {
  version: number;
  /** A second version taking a share of the calls. */
  canary?: Canary;
  /** Where the alias pointed before its last move. */
  previous?: number;
  /** Where it pointed before, oldest first (at most HISTORY_KEPT): each rollback goes one step back. */
  history?: number[];
  updatedAt: string;
}

export interface Releases {
  /** The alias `/fn/<name>` (and triggers naming none) follow. */
  defaultAlias: string;
  aliases: Record<string, Alias>;
  /** Every version kept, ascending. */
  versions: number[];
}

export class VersionNotFoundError extends FaasError {
  readonly code = 'VERSION_NOT_FOUND';
  readonly status = 404;
}

export class AliasNotFoundError extends FaasError {
  readonly code = 'ALIAS_NOT_FOUND';
  readonly status = 404;
}

/** What a new function's releases are: one version, `latest` on it and the default. */
export function firstReleases(version: number, now: string): Releases {
  return { defaultAlias: LATEST_ALIAS, aliases: { [LATEST_ALIAS]: { version, updatedAt: now } }, versions: [version] };
}

export function aliasProblem(name: string): string | undefined {
  if (ALIAS_NAME.test(name)) return undefined;
  return `alias "${name}" is not a valid name: lower-case letters, digits and '-', starting with a letter, at most 32 characters`;
}

/** `name@qualifier` as a URL segment writes it: the qualifier is a version number or an alias. */
export function splitQualifier(segment: string): { name: string; qualifier?: string } {
  const at = segment.indexOf('@');
  return at === -1 ? { name: segment } : { name: segment.slice(0, at), qualifier: segment.slice(at + 1) };
}

/** A whole number ≥ 1 written in digits only, or undefined. */
export function versionNumber(text: string): number | undefined {
  return /^[1-9][0-9]{0,9}$/.test(text) ? Number(text) : undefined;
}

/** Where a deploy leaves the releases: the new version kept (and promoted); of the versions older than the newest `keep`, those no alias routes to pruned. */
export function afterDeploy(
  releases: Releases,
  version: number,
  options: { promote: boolean; keep: number; now: string },
): { releases: Releases; pruned: number[] } {
  const aliases = { ...releases.aliases };
  const latest = aliases[LATEST_ALIAS];
  if (options.promote && (!latest || latest.version !== version || latest.canary)) {
    aliases[LATEST_ALIAS] = { version, ...(latest ? { previous: latest.version } : {}), updatedAt: options.now };
  }
  const versions = releases.versions.includes(version) ? [...releases.versions] : [...releases.versions, version].sort((a, b) => a - b);
  const next: Releases = { ...releases, aliases, versions };
  // The newest `keep` versions stay, and older ones an alias routes to.
  const newest = versions.slice(-options.keep);
  const pruned = versions.filter((v) => !newest.includes(v) && v !== version && routedBy(next, v).length === 0);
  next.versions = versions.filter((v) => !pruned.includes(v));
  return { releases: next, pruned };
}

/** An alias by name (own properties only: a name from a URL is never `constructor`). */
export function aliasOf(releases: Releases, name: string): Alias | undefined {
  return Object.hasOwn(releases.aliases, name) ? releases.aliases[name] : undefined;
}

/** The aliases routing calls to a version (as stable or canary). */
export function routedBy(releases: Releases, version: number): string[] {
  return Object.entries(releases.aliases)
    .filter(([, alias]) => alias.version === version || alias.canary?.version === version)
    .map(([name]) => name);
}

function needVersion(releases: Releases, version: number, fn: string): void {
  if (!releases.versions.includes(version)) {
    throw new VersionNotFoundError(`function ${fn} has no version ${version}; it keeps ${describeVersions(releases)} (faas versions ${fn})`);
  }
}

const describeVersions = (releases: Releases) => (releases.versions.length ? `versions ${releases.versions.join(', ')}` : 'no version');

/** Points an alias at a version, with an optional canary; the old pointer is kept as `previous`. */
export function setAlias(releases: Releases, fn: string, name: string, target: { version: number; canary?: Canary }, now: string): Releases {
  const problem = aliasProblem(name);
  if (problem) throw new BadRequestError(problem);
  needVersion(releases, target.version, fn);
  if (target.canary) {
    const { version, percent } = target.canary;
    needVersion(releases, version, fn);
    if (version === target.version)
      throw new BadRequestError(`the canary of alias ${name} is version ${version}, the version the alias points to; name another version`);
    if (!(percent > 0 && percent < 100) || Math.abs(percent * 100 - Math.round(percent * 100)) > 1e-6) {
      throw new BadRequestError(`a canary takes more than 0 and less than 100 percent of the calls, in hundredths at most; got ${percent}`);
    }
  }
  const current = aliasOf(releases, name);
  const moved = current !== undefined && current.version !== target.version;
  const history = moved
    ? [...(current.history ?? (current.previous !== undefined ? [current.previous] : [])), current.version].slice(-HISTORY_KEPT)
    : (current?.history ?? []);
  const alias: Alias = {
    version: target.version,
    ...(target.canary ? { canary: target.canary } : {}),
    ...(history.length ? { previous: history[history.length - 1]!, history } : {}),
    updatedAt: now,
  };
  return { ...releases, aliases: { ...releases.aliases, [name]: alias } };
}

/**
 * Rolls an alias back in one step: to `to` when given; else, with a canary, to its stable version (the
 * canary dropped); else to where it pointed before its last move (each rollback one step further back);
 * else to the newest version below it.
 */
export function rollback(releases: Releases, fn: string, name: string, to: number | undefined, now: string): Releases {
  const alias = aliasOf(releases, name);
  if (!alias) throw new AliasNotFoundError(`function ${fn} has no alias "${name}"`);
  if (to !== undefined) return setAlias(releases, fn, name, { version: to }, now);
  // A canary dropped: the alias stays on its stable version, its history as it was.
  if (alias.canary) return { ...releases, aliases: { ...releases.aliases, [name]: { ...withoutCanary(alias), updatedAt: now } } };
  // One step back along where it pointed (skipping versions no longer kept), that step then forgotten, so a
  // second rollback goes further back rather than forward again.
  const history = [...(alias.history ?? (alias.previous !== undefined ? [alias.previous] : []))];
  let target: number | undefined;
  while (history.length > 0 && target === undefined) {
    const candidate = history.pop()!;
    if (candidate !== alias.version && releases.versions.includes(candidate)) target = candidate;
  }
  if (target === undefined) target = [...releases.versions].reverse().find((v) => v < alias.version);
  if (target === undefined) throw new ConflictError(`alias ${name} of ${fn} is on version ${alias.version} and no older version is kept to roll back to`);
  const back: Alias = { version: target, ...(history.length ? { previous: history[history.length - 1]!, history } : {}), updatedAt: now };
  return { ...releases, aliases: { ...releases.aliases, [name]: back } };
}

function withoutCanary(alias: Alias): Alias {
  const { canary: _dropped, ...rest } = alias;
  return rest;
}

export function removeAlias(releases: Releases, fn: string, name: string): Releases {
  if (!aliasOf(releases, name)) throw new AliasNotFoundError(`function ${fn} has no alias "${name}"`);
  if (name === LATEST_ALIAS) throw new ConflictError(`alias ${LATEST_ALIAS} is every function's; it cannot be removed`);
  if (name === releases.defaultAlias) {
    throw new ConflictError(
      `alias ${name} is the default of ${fn} (what /fn/${fn} calls); make another the default first (faas alias default ${fn} ${LATEST_ALIAS})`,
    );
  }
  const { [name]: _gone, ...aliases } = releases.aliases;
  return { ...releases, aliases };
}

export function setDefaultAlias(releases: Releases, fn: string, name: string): Releases {
  if (!aliasOf(releases, name)) throw new AliasNotFoundError(`function ${fn} has no alias "${name}"; create it first (faas alias set ${fn} ${name} <version>)`);
  return { ...releases, defaultAlias: name };
}

/** A kept version deleted: never the newest (the function's own settings), never one an alias routes to. */
export function removeVersion(releases: Releases, fn: string, version: number, newest: number): Releases {
  if (!releases.versions.includes(version)) throw new VersionNotFoundError(`function ${fn} has no version ${version}`);
  if (version === newest) throw new ConflictError(`version ${version} is the newest of ${fn}; deploy another or delete the function`);
  const aliases = routedBy(releases, version);
  if (aliases.length > 0) throw new ConflictError(`version ${version} of ${fn} is routed to by alias ${aliases.join(', ')}; move the alias first`);
  return { ...releases, versions: releases.versions.filter((v) => v !== version) };
}

/**
 * The version one call runs: the qualifier's (a version number or an alias; none: the default alias), and for
 * an alias with a canary, the side of the split the caller's routing key falls on (a random one without a key).
 */
export function pickVersion(
  releases: Releases,
  fn: string,
  qualifier: string | undefined,
  routingKey: string | undefined,
  random: () => number = Math.random,
): number {
  const name = qualifier === undefined || qualifier === '' ? releases.defaultAlias : qualifier;
  const version = versionNumber(name);
  if (version !== undefined) {
    if (!releases.versions.includes(version))
      throw new VersionNotFoundError(`function ${fn} has no version ${version}; it keeps ${describeVersions(releases)}`);
    return version;
  }
  const alias = aliasOf(releases, name);
  if (!alias) throw new AliasNotFoundError(`function ${fn} has no alias "${name}"`);
  if (!alias.canary) return alias.version;
  const bucket = routingKey === undefined ? random() * 100 : bucketOf(`${fn}\n${routingKey}`);
  return bucket < alias.canary.percent ? alias.canary.version : alias.version;
}

/** A key's place in [0, 100), in hundredths: FNV-1a, the same on every gateway and invoker. */
export function bucketOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return (hash % 10_000) / 100;
}
