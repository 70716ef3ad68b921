// Pure: which invoker runs a function — rendezvous hashing, so a function keeps its warm containers on one invoker
// and only the functions of an invoker that leaves or joins move. The rest of the ranking is where a call goes
// when its first choice cannot take it: the same next invoker for every gateway, so a function's calls regroup.
import { createHash } from 'node:crypto';

function score(fn: string, id: string): bigint {
  return createHash('sha256').update(`${fn}\u0000${id}`).digest().readBigUInt64BE(0);
}

/** Every id, best first for fn. */
export function rankInvokers(fn: string, invokerIds: readonly string[]): string[] {
  return invokerIds
    .map((id) => ({ id, score: score(fn, id) }))
    .sort((a, b) => (a.score > b.score ? -1 : a.score < b.score ? 1 : a.id.localeCompare(b.id)))
    .map((s) => s.id);
}

/** The id with the highest score for fn; undefined when there is none. */
export function placeFunction(fn: string, invokerIds: readonly string[]): string | undefined {
  return rankInvokers(fn, invokerIds)[0];
}
