// The container state machine, event by event: what a container may do in each phase.
import { describe, expect, it } from 'vitest';
import { IllegalTransitionError, transition, type ContainerEvent, type ContainerState } from '../../../invoker/pool/container-state.js';

const run = (events: ContainerEvent[], from: ContainerState = { phase: 'starting', active: 0 }) => events.reduce(transition, from);

describe('container state machine', () => {
  it('serves calls: ready, then busy while calls run, idle when the last one ends', () => {
    expect(run(['ready'])).toEqual({ phase: 'idle', active: 0 });
    expect(run(['ready', 'acquire', 'acquire'])).toEqual({ phase: 'busy', active: 2 });
    expect(run(['ready', 'acquire', 'acquire', 'release'])).toEqual({ phase: 'busy', active: 1 });
    expect(run(['ready', 'acquire', 'acquire', 'release', 'release'])).toEqual({ phase: 'idle', active: 0 });
  });

  it('freezes only an idle container, and resumes it for the next call', () => {
    expect(run(['ready', 'pause', 'paused'])).toEqual({ phase: 'paused', active: 0 });
    expect(run(['ready', 'pause', 'paused', 'acquire'])).toEqual({ phase: 'resuming', active: 1 });
    expect(run(['ready', 'pause', 'paused', 'acquire', 'resumed'])).toEqual({ phase: 'busy', active: 1 });
    expect(() => run(['ready', 'acquire', 'pause'])).toThrow(IllegalTransitionError);
    expect(() => run(['pause'])).toThrow(IllegalTransitionError);
  });

  it('a call arriving while the pause runs waits for the resume that follows it', () => {
    const s = run(['ready', 'pause', 'acquire']);
    expect(s).toEqual({ phase: 'resuming', active: 1 });
    // The pause finishing does not freeze it under the waiting call; the resume does the rest.
    expect(transition(s, 'paused')).toEqual(s);
    expect(run(['paused', 'acquire', 'resumed'], s)).toEqual({ phase: 'busy', active: 2 });
  });

  it('a failed pause leaves the container idle and running', () => {
    expect(run(['ready', 'pause', 'pauseFailed'])).toEqual({ phase: 'idle', active: 0 });
  });

  it('removal absorbs every later event, counting down the calls still in flight, and takes no new call', () => {
    const removing = run(['ready', 'acquire', 'acquire', 'remove']);
    expect(removing).toEqual({ phase: 'removing', active: 2 });
    expect(run(['release', 'paused', 'resumed', 'ready', 'remove'], removing)).toEqual({ phase: 'removing', active: 1 });
    expect(() => transition(removing, 'acquire')).toThrow(IllegalTransitionError);
  });

  it('refuses what cannot happen: a release with nothing in flight, a second ready, a call to a starting container', () => {
    expect(() => run(['ready', 'release'])).toThrow(/idle \(0 in flight\) cannot take "release"/);
    expect(() => run(['ready', 'ready'])).toThrow(IllegalTransitionError);
    expect(() => run(['acquire'])).toThrow(IllegalTransitionError);
  });
});
