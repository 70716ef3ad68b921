// JSON schemas of the tenant API's answers (tenancy/tenant-store.ts): the documented shapes and serialization.

/** A tenant's quotas: absent = no limit. */
export const tenantQuotas = {
  type: 'object',
  properties: {
    maxContainers: { type: 'integer' },
    maxGbSecondsPerPeriod: { type: 'number' },
    maxQueuedBytes: { type: 'integer' },
  },
} as const;

/** A tenant (Tenant). */
export const tenant = {
  type: 'object',
  properties: { id: { type: 'string' }, createdAt: { type: 'string' }, quotas: tenantQuotas },
} as const;

const tokenInfoProperties = {
  id: { type: 'string' },
  tenant: { type: 'string' },
  name: { type: 'string' },
  createdAt: { type: 'string' },
} as const;

/** A token as listed: its public id, never the secret (TokenInfo). */
export const tokenInfo = { type: 'object', properties: tokenInfoProperties } as const;

/** GET /whoami: the caller's tenant, whether it is the admin, its quotas and token id (absent for the admin token). */
export const whoamiReply = {
  type: 'object',
  properties: { tenant: { type: 'string' }, admin: { type: 'boolean' }, quotas: tenantQuotas, tokenId: { type: 'string' } },
} as const;

/** GET /tenants. */
export const tenantListReply = { type: 'object', properties: { tenants: { type: 'array', items: tenant } } } as const;

/** POST /tenants and PATCH /tenants/:id: the tenant as stored. */
export const tenantReply = { type: 'object', properties: { tenant } } as const;

/** POST /tenants/:id/tokens: the secret (shown once) beside the token's info. */
export const createdTokenReply = {
  type: 'object',
  properties: { token: { type: 'string' }, ...tokenInfoProperties, note: { type: 'string' } },
} as const;

/** GET /tokens. */
export const tokenListReply = { type: 'object', properties: { tokens: { type: 'array', items: tokenInfo } } } as const;
