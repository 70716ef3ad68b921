// Bearer tokens of the management API: the admin token (FAAS_TOKEN, compared in constant time) or a
// tenant's token (looked up by digest). Sets request.principal for the routes.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ForbiddenError, UnauthorizedError } from '../../core/errors.js';
import { DEFAULT_TENANT } from '../../core/function-spec.js';
import type { Principal } from '../../tenancy/tenant-store.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Finds the tenant of a token that is not the admin token; undefined when unknown or revoked. */
export type TokenLookup = (token: string) => Promise<Principal | undefined>;

const ADMIN: Principal = Object.freeze({ tenant: DEFAULT_TENANT, admin: true });

/** Adds an onRequest hook to this (encapsulated) scope that requires `Authorization: Bearer <token>`. */
export function requireToken(scope: FastifyInstance, adminToken: string, lookup?: TokenLookup): void {
  const expected = digest(adminToken);
  if (!scope.hasRequestDecorator('principal')) scope.decorateRequest('principal', null as unknown as Principal);
  scope.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    if (!header) throw new UnauthorizedError('missing Authorization header: send `Authorization: Bearer <token>` (FAAS_TOKEN or a tenant token)');
    const match = /^Bearer\s+(.+)$/i.exec(header);
    const token = match?.[1]?.trim();
    if (!token) throw new UnauthorizedError('invalid token');
    if (timingSafeEqual(digest(token), expected)) {
      request.principal = ADMIN;
      return;
    }
    const principal = lookup ? await lookup(token) : undefined;
    if (!principal) throw new UnauthorizedError('invalid or revoked token');
    request.principal = principal;
  });
}

/** Throws 403 unless the request carries the admin token. */
export function requireAdmin(request: FastifyRequest): void {
  if (!request.principal.admin) throw new ForbiddenError('only the admin token (FAAS_TOKEN) may do this');
}

/**
 * The tenant a request acts on: its own; the admin may name another with `?tenant=`. A tenant naming
 * another tenant gets 403.
 */
export function actingTenant(request: FastifyRequest, requested?: string): string {
  if (!requested || requested === request.principal.tenant) return request.principal.tenant;
  if (!request.principal.admin) throw new ForbiddenError(`this token belongs to tenant "${request.principal.tenant}"; it cannot act on tenant "${requested}"`);
  return requested;
}
