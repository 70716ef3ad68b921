// The usage journal's files: one journal per invoker, cut into numbered segments so the writer never
// truncates a file the shipper reads. The writer appends to the highest segment and starts the next one
// when it grows past its size; a segment is complete once a later one exists, and is deleted once shipped.
// Segment 0 keeps the name of the single file earlier versions wrote, so what they left is still shipped.
import { readdirSync } from 'node:fs';
import path from 'node:path';

const safe = (journalId: string) => journalId.replace(/[^A-Za-z0-9_.-]/g, '_');

export function segmentPath(dir: string, journalId: string, seq: number): string {
  return path.join(dir, seq === 0 ? `${safe(journalId)}.journal` : `${safe(journalId)}.journal.${seq}`);
}

/** The journal's segment numbers present in `dir`, ascending. */
export function listSegments(dir: string, journalId: string): number[] {
  const base = `${safe(journalId)}.journal`;
  const seqs: number[] = [];
  for (const file of readdirSync(dir)) {
    if (file === base) seqs.push(0);
    else if (file.startsWith(`${base}.`) && /^\d+$/.test(file.slice(base.length + 1))) seqs.push(Number(file.slice(base.length + 1)));
  }
  return seqs.sort((a, b) => a - b);
}

/** Where shipping stands: everything before `offset` of segment `seq`, and all earlier segments, is in Redis. */
export interface ShippedPosition {
  seq: number;
  offset: number;
}

/** Parses the position saved in Redis: `seq:offset`, or a bare offset as earlier versions saved it (segment 0). */
export function parsePosition(saved: string | null): ShippedPosition {
  if (!saved) return { seq: 0, offset: 0 };
  const [a, b] = saved.split(':');
  const pos = b === undefined ? { seq: 0, offset: Number(a) } : { seq: Number(a), offset: Number(b) };
  return Number.isSafeInteger(pos.seq) && Number.isSafeInteger(pos.offset) && pos.seq >= 0 && pos.offset >= 0 ? pos : { seq: 0, offset: 0 };
}

export const formatPosition = (pos: ShippedPosition) => `${pos.seq}:${pos.offset}`;

/**
 * Where to resume shipping, given the saved position and the segments on disk. A position past everything
 * on disk means the files were removed or replaced (a wiped data directory): ship what is there from its
 * start rather than skip it. Segments before the position are shipped already (left by a crash between
 * moving the position and deleting them).
 */
export function resumeAt(saved: ShippedPosition, segments: readonly number[], sizeOf: (seq: number) => number): ShippedPosition {
  const last = segments[segments.length - 1];
  if (last === undefined) return saved;
  if (last < saved.seq) return { seq: segments[0]!, offset: 0 };
  if (!segments.includes(saved.seq)) return { seq: segments.find((s) => s > saved.seq)!, offset: 0 };
  return saved.offset <= sizeOf(saved.seq) ? saved : { seq: saved.seq, offset: 0 };
}
