// Where the journal's shipper resumes: pure decisions over the saved position and the segments on disk.
import { describe, expect, it } from 'vitest';
import { formatPosition, parsePosition, resumeAt } from '../../../metering/journal-segments.js';

const sizes = (map: Record<number, number>) => (seq: number) => map[seq] ?? 0;

describe('journal positions', () => {
  it('reads what it writes, and the bare offset earlier versions saved as segment 0', () => {
    expect(parsePosition(formatPosition({ seq: 7, offset: 123 }))).toEqual({ seq: 7, offset: 123 });
    expect(parsePosition('4096')).toEqual({ seq: 0, offset: 4096 });
    expect(parsePosition(null)).toEqual({ seq: 0, offset: 0 });
    expect(parsePosition('x:y')).toEqual({ seq: 0, offset: 0 });
  });
});

describe('resumeAt', () => {
  it('resumes at the saved position when its segment is there and long enough', () => {
    expect(resumeAt({ seq: 2, offset: 50 }, [2, 3], sizes({ 2: 80, 3: 10 }))).toEqual({ seq: 2, offset: 50 });
  });

  it('ships a segment from its start when it is shorter than the saved offset (an earlier version truncated it)', () => {
    expect(resumeAt({ seq: 0, offset: 500 }, [0], sizes({ 0: 20 }))).toEqual({ seq: 0, offset: 0 });
  });

  it('ships everything on disk when the saved position is past it (a wiped data directory), never skipping it', () => {
    expect(resumeAt({ seq: 9, offset: 40 }, [0, 1], sizes({ 0: 10, 1: 10 }))).toEqual({ seq: 0, offset: 0 });
  });

  it('moves to the next segment when the saved one is gone', () => {
    expect(resumeAt({ seq: 3, offset: 40 }, [1, 4, 5], sizes({}))).toEqual({ seq: 4, offset: 0 });
  });

  it('keeps the saved position when there are no segments yet', () => {
    expect(resumeAt({ seq: 3, offset: 40 }, [], sizes({}))).toEqual({ seq: 3, offset: 40 });
  });
});
