// Bearer-token check for the management API, in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { UnauthorizedError } from '../../invoker/core/errors.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Adds an onRequest hook to this (encapsulated) scope that requires `Authorization: Bearer <token>`. */
export function requireToken(scope: FastifyInstance, token: string): void {
  const expected = digest(token);
  scope.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    if (!header) throw new UnauthorizedError('missing Authorization header: send `Authorization: Bearer <FAAS_TOKEN>`');
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match || !timingSafeEqual(digest(match[1]!.trim()), expected)) {
      throw new UnauthorizedError('invalid token');
    }
  });
}
