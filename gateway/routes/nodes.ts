// The invokers behind this gateway (`faas nodes`, admin only): each one's state as this gateway sees it,
// when it last announced itself, its containers by state and how many functions are placed on it.
import type { FastifyInstance } from 'fastify';
import type { ContainerState } from '../../core/invoker.js';
import { requireAdmin } from '../plugins/auth.js';
import { containerCounts } from '../schemas/container.js';

export interface NodeView {
  id: string;
  /** Where gateways reach it ('in-process' when gateway and invoker are one process). */
  url: string;
  /** up: calls go to it; down: a call failed on it, skipped until a probe finds it back. */
  state: 'up' | 'down';
  /** ms since its last announcement in the directory (0 in-process). */
  lastSeenMs: number;
  /** Its containers by state; absent when it did not answer. */
  containers?: Record<ContainerState, number>;
  /** Functions whose rendezvous placement names it first. */
  functions: number;
}

const nodesReply = {
  type: 'object',
  properties: {
    nodes: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          url: { type: 'string' },
          state: { type: 'string' },
          lastSeenMs: { type: 'number' },
          containers: containerCounts,
          functions: { type: 'integer' },
        },
      },
    },
  },
} as const;

export function nodeRoutes(api: FastifyInstance, deps: { nodes: () => Promise<NodeView[]> }): void {
  api.get('/nodes', { schema: { response: { 200: nodesReply } } }, async (request) => {
    requireAdmin(request);
    return { nodes: await deps.nodes() };
  });
}
