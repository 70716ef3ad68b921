import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { lambdaEvent } from '../../../runtime-images/node/src/handler.js';
import type { IncomingInvocation } from '../../../runtime-images/node/src/lambda.js';
import { toBatchRequest, toInvocationRequest, type JobRun } from '../../../triggers/job.js';

/** What the runtime receives for a job: the invoker's request, its context as the runtime reads it back. */
function received(run: JobRun | JobRun[]): IncomingInvocation {
  const req = Array.isArray(run) ? toBatchRequest(run, 'f', 0) : toInvocationRequest(run, 'f', 0);
  return {
    method: req.method,
    path: req.path,
    rawQuery: req.rawQuery,
    headers: req.headers,
    body: req.body,
    invocationId: req.invocationId,
    receivedAt: Date.UTC(2026, 10, 24, 10, 1),
    trigger: req.trigger,
    context: req.context ?? {},
  };
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const acceptedAt = Date.UTC(2026, 10, 24, 10);

describe('Lambda events of async triggers', () => {
  it('gives a queue message as an SQS-like record', () => {
    const event = lambdaEvent(
      received({
        id: 'm1',
        attempt: 2,
        createdAt: 0,
        data: { trigger: 'queue', fn: 'f', acceptedAt, message: { queue: 'orders', body: b64('{"id":7}'), contentType: 'application/json' } },
      }),
    ) as any;
    expect(event.Records).toHaveLength(1);
    expect(event.Records[0]).toMatchObject({
      messageId: 'm1',
      body: '{"id":7}',
      // As SQS's: code keyed on aws:sqs (Middy, Powertools) takes these records.
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:orders',
      awsRegion: 'us-east-1',
      attributes: { ApproximateReceiveCount: '2', SentTimestamp: String(acceptedAt) },
      messageAttributes: { contentType: { stringValue: 'application/json', dataType: 'String' } },
    });
    expect(event.Records[0].md5OfBody).toBe(createHash('md5').update('{"id":7}').digest('hex'));
  });

  it('gives a batch as several records in order', () => {
    const runs: JobRun[] = ['a', 'b', 'c'].map((body, i) => ({
      id: `m${i}`,
      attempt: 1,
      createdAt: 0,
      data: { trigger: 'queue', fn: 'f', acceptedAt, message: { queue: 'q', body: b64(body) } },
    }));
    const event = lambdaEvent(received(runs)) as any;
    expect(event.Records.map((r: { messageId: string; body: string }) => [r.messageId, r.body])).toEqual([
      ['m0', 'a'],
      ['m1', 'b'],
      ['m2', 'c'],
    ]);
  });

  it('gives a CloudEvent as an EventBridge-like event with the attributes kept', () => {
    const event = lambdaEvent(
      received({
        id: 'd1',
        attempt: 1,
        createdAt: 0,
        data: {
          trigger: 'event',
          fn: 'f',
          acceptedAt,
          event: {
            topic: 'orders',
            attributes: { specversion: '1.0', id: 'e1', source: '/shop', type: 'order.created', subject: 'order/7', datacontenttype: 'application/json' },
            data: b64('{"n":1}'),
          },
        },
      }),
    ) as any;
    expect(event).toMatchObject({ id: 'e1', 'detail-type': 'order.created', source: '/shop', resources: ['order/7'], detail: { n: 1 }, topic: 'orders' });
    expect(event.cloudevent).toMatchObject({ specversion: '1.0', id: 'e1', datacontenttype: 'application/json' });
  });

  it('gives a cron tick as a Scheduled Event', () => {
    const event = lambdaEvent(
      received({
        id: 'c1',
        attempt: 1,
        createdAt: Date.UTC(2026, 10, 24, 3),
        data: { trigger: 'cron', fn: 'f', acceptedAt: 0, schedule: { cron: '0 3 * * *' } },
      }),
    ) as any;
    expect(event).toMatchObject({
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      time: '2026-11-24T03:00:00.000Z',
      resources: ['arn:aws:events:us-east-1:123456789012:rule/0 3 * * *'],
    });
  });

  it('gives an async HTTP call the API Gateway HTTP API event, as a synchronous one', () => {
    const event = lambdaEvent(
      received({
        id: 'a1',
        attempt: 1,
        createdAt: 0,
        data: { trigger: 'async', fn: 'f', acceptedAt, request: { method: 'POST', path: '/x', rawQuery: 'y=1', headers: {}, body: b64('hi') } },
      }),
    ) as any;
    expect(event).toMatchObject({ version: '2.0', rawPath: '/x', rawQueryString: 'y=1', body: 'hi' });
  });
});

describe('message attributes', () => {
  it('reach a Lambda handler as messageAttributes, for one message and in a batch', async () => {
    const { buildQueueEvent } = await import('../../../runtime-images/node/src/trigger-events.js');
    const base = { method: 'POST', path: '/', rawQuery: '', invocationId: 'i', receivedAt: 0, trigger: 'queue' };
    const one = buildQueueEvent(
      {
        ...base,
        headers: { 'content-type': 'text/plain' },
        body: Buffer.from('x'),
        context: { queue: 'q', attributes: encodeURIComponent('{"Author":"ada"}') },
      },
      { queue: 'q', attributes: encodeURIComponent('{"Author":"ada"}') },
    );
    expect(one.Records[0]!.messageAttributes.Author).toEqual({ stringValue: 'ada', dataType: 'String' });
    const messages = [
      { id: 'a', body: 'x', bodyEncoding: 'utf8', contentType: 'text/plain', sentAt: '2026-12-01T00:00:00Z', attempt: 1, attributes: { k: 'v' } },
      { id: 'b', body: 'y', bodyEncoding: 'utf8', contentType: 'text/plain', sentAt: '2026-12-01T00:00:00Z', attempt: 1 },
    ];
    const batch = buildQueueEvent(
      { ...base, headers: {}, body: Buffer.from(JSON.stringify({ messages })), context: { queue: 'q', 'batch-size': '2' } },
      { queue: 'q', 'batch-size': '2' },
    );
    expect(batch.Records.map((r) => r.messageAttributes.k?.stringValue)).toEqual(['v', undefined]);
  });
});
