// Fake-timer helpers for the in-memory tests.
import { vi } from 'vitest';

/** Runs fake time in 10 ms steps until the promise settles; fails when it is still pending after `ms`. */
export async function settle<T>(promise: Promise<T>, ms = 5_000): Promise<T> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  for (let waited = 0; !done && waited < ms; waited += 10) await vi.advanceTimersByTimeAsync(10);
  if (!done) throw new Error(`still pending after ${ms} ms of fake time`);
  return promise;
}
