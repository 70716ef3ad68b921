// Idempotency keys and job ids, pure: request fingerprints, whose key a key is, and which ids the
// platform hands out (only those reach BullMQ).
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deterministicId, idempotentJobId, isJobId, requestFingerprint } from '../../../triggers/job-ids.js';
import { callerScope } from '../../../gateway/routes/async.js';
import { IdempotencyKeyReusedError } from '../../../core/errors.js';

const request = { method: 'POST', path: '/pay', query: 'a=1', contentType: 'text/plain', body: Buffer.from('amount=10') };

describe('requestFingerprint', () => {
  it('is a sha256 hex digest, the same for the same request', () => {
    const fp = requestFingerprint(request);
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    expect(requestFingerprint({ ...request, body: Buffer.from('amount=10') })).toBe(fp);
  });

  it.each([
    ['method', { method: 'PUT' }],
    ['path', { path: '/refund' }],
    ['query', { query: 'a=2' }],
    ['content type', { contentType: 'application/json' }],
    ['no content type', { contentType: undefined }],
    ['body', { body: Buffer.from('amount=11') }],
    ['empty body', { body: Buffer.alloc(0) }],
    ['callback URL', { callbackUrl: 'https://example.com/cb' }],
    ['headers', { headers: { cookie: 'user=b' } }],
  ])('changes with the %s', (_label, change) => {
    expect(requestFingerprint({ ...request, ...change })).not.toBe(requestFingerprint(request));
  });

  it('cannot be fooled by moving bytes between fields', () => {
    expect(requestFingerprint({ ...request, path: '/pay', query: 'a=1' })).not.toBe(requestFingerprint({ ...request, path: '/paya=1', query: '' }));
  });

  it('does not depend on the order of headers', () => {
    expect(requestFingerprint({ ...request, headers: { a: '1', b: ['2', '3'] } })).toBe(requestFingerprint({ ...request, headers: { b: ['2', '3'], a: '1' } }));
  });
});

describe('callerScope', () => {
  it('is a hash of the credential sent, never the credential itself', () => {
    const scope = callerScope('Bearer secret-token', () => 'unused');
    expect(scope).toMatch(/^credential:[0-9a-f]{64}$/);
    expect(scope).not.toContain('secret-token');
    expect(callerScope('Bearer secret-token', () => 'unused')).toBe(scope);
    expect(callerScope('Bearer other-token', () => 'unused')).not.toBe(scope);
  });

  it('is the whole request when no credential is sent, so two different anonymous requests never share a key', () => {
    expect(callerScope(undefined, () => 'fp-1')).toBe('anonymous:fp-1');
    expect(callerScope('', () => 'fp-1')).toBe('anonymous:fp-1');
    expect(callerScope(undefined, () => 'fp-2')).not.toBe(callerScope(undefined, () => 'fp-1'));
    expect(callerScope('Bearer x', () => 'fp-1')).not.toBe(callerScope(undefined, () => 'fp-1'));
  });
});

describe('idempotentJobId', () => {
  it('is the same for the same kind, target, scope and key, and differs when any of them does', () => {
    const id = idempotentJobId('async', 'f', { scope: 'tenant:a', key: 'k' });
    expect(isJobId(id)).toBe(true);
    expect(idempotentJobId('async', 'f', { scope: 'tenant:a', key: 'k' })).toBe(id);
    expect(idempotentJobId('async', 'f', { scope: 'tenant:b', key: 'k' })).not.toBe(id);
    expect(idempotentJobId('async', 'g', { scope: 'tenant:a', key: 'k' })).not.toBe(id);
    expect(idempotentJobId('queue', 'f', { scope: 'tenant:a', key: 'k' })).not.toBe(id);
    expect(idempotentJobId('async', 'f', { scope: 'tenant:a', key: 'k2' })).not.toBe(id);
  });
});

describe('isJobId', () => {
  it('accepts the ids the platform hands out: random UUIDs, deterministic ids and cron ticks', () => {
    for (let i = 0; i < 20; i++) expect(isJobId(randomUUID())).toBe(true);
    expect(isJobId(deterministicId('event', 'f', 'src', 'id'))).toBe(true);
    expect(isJobId(`repeat:cron-${deterministicId('* * * * *', 'UTC').slice(0, 13)}:1767225600000`)).toBe(true);
  });

  it.each([
    'meta',
    'id',
    'events',
    'stalled-check',
    'limiter',
    'repeat',
    'de',
    'marker',
    'pc',
    'wait',
    'completed',
    'failed',
    '',
    'repeat:',
    'repeat:cron-x:1',
    `${randomUUID()}:logs`,
    randomUUID().toUpperCase(),
    `${randomUUID()} `,
    '../x',
  ])('refuses %j', (id) => {
    expect(isJobId(id)).toBe(false);
  });
});

describe('IdempotencyKeyReusedError', () => {
  it('is 422 IDEMPOTENCY_KEY_REUSED', () => {
    const err = new IdempotencyKeyReusedError();
    expect(err.status).toBe(422);
    expect(err.toJSON()).toEqual({
      error: { code: 'IDEMPOTENCY_KEY_REUSED', message: expect.stringContaining('Idempotency-Key was used with a different request') },
    });
  });
});
