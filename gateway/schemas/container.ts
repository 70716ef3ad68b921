// JSON schemas of the container API's answers (core/invoker.ts ContainerInfo, container counts).

/** Live containers by state; a remote invoker's newer states are kept too. */
export const containerCounts = {
  type: 'object',
  additionalProperties: true,
  properties: {
    prewarmed: { type: 'integer' },
    starting: { type: 'integer' },
    idle: { type: 'integer' },
    paused: { type: 'integer' },
    busy: { type: 'integer' },
    removing: { type: 'integer' },
  },
} as const;

/** One container (ContainerInfo with the function id split; tenant and name null for a prewarmed runtime); remote invokers' extra fields are kept. */
export const containerInfo = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string' },
    version: { type: 'integer' },
    state: { type: 'string' },
    memoryMb: { type: 'number' },
    active: { type: 'integer' },
    served: { type: 'integer' },
    createdAt: { type: 'number' },
    lastUsedAt: { type: 'number' },
    invoker: { type: 'string' },
    tenant: { type: ['string', 'null'] },
    name: { type: ['string', 'null'] },
  },
} as const;

/** GET /containers: counts by state, and the tenant they are of (absent: every tenant's). */
export const containerCountsReply = { type: 'object', properties: { tenant: { type: 'string' }, containers: containerCounts } } as const;

/** GET /containers/list. */
export const containerListReply = {
  type: 'object',
  properties: { tenant: { type: 'string' }, containers: { type: 'array', items: containerInfo } },
} as const;
