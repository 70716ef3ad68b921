// Pure: which invoker runs a function — rendezvous hashing, so a function keeps its warm containers on one invoker
// and only the functions of an invoker that leaves or joins move.
import { createHash } from 'node:crypto';

function score(fn: string, id: string): bigint {
  return createHash('sha256').update(`${fn}\u0000${id}`).digest().readBigUInt64BE(0);
}

/** The id with the highest score for fn; undefined when there is none. */
export function placeFunction(fn: string, invokerIds: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = -1n;
  for (const id of invokerIds) {
    const s = score(fn, id);
    if (s > bestScore) {
      best = id;
      bestScore = s;
    }
  }
  return best;
}
