// The management API of async work (token-protected): invocation status, queue messages, events and
// the dead-letter list. Registered in a scope whose content parser keeps every body as a raw Buffer.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BadRequestError } from '../../core/errors.js';
import { FUNCTION_NAME_PATTERN, TRIGGER_NAME_PATTERN } from '../../core/function-spec.js';
import type { AsyncQueues } from '../../triggers/async-queues.js';
import { JOB_ID_PATTERN, requestFingerprint, type Idempotency } from '../../triggers/job-ids.js';
import type { FunctionFilter } from '../../triggers/job-inspection.js';
import { functionId, splitFunctionId, splitTriggerId, triggerId } from '../../tenancy/names.js';
import { parseCloudEvent } from '../cloudevents.js';
import { parseMessageAttributes } from '../../triggers/job.js';
import { idempotencyKeyOf } from './async.js';
import {
  deadInvocationView,
  deadLetterListReply,
  eventAccepted,
  invocationView,
  messageAccepted,
  purgedReply,
  queueListReply,
  redrivenReply,
} from '../schemas/job.js';

/** The caller's functions, or one of them by name. */
function filterOf(request: FastifyRequest, fn?: string): FunctionFilter {
  const tenant = request.principal.tenant;
  if (fn) {
    const id = functionId(tenant, fn);
    return Object.assign((candidate: string) => candidate === id, { tenant });
  }
  return Object.assign((candidate: string) => splitFunctionId(candidate).tenant === tenant, { tenant });
}

/** Function, queue and topic names as the tenant named them. */
function present<T extends { function: string; queue?: string; topic?: string }>(view: T): T {
  return {
    ...view,
    function: splitFunctionId(view.function).name,
    ...(view.queue !== undefined ? { queue: splitTriggerId(view.queue).name } : {}),
    ...(view.topic !== undefined ? { topic: splitTriggerId(view.topic).name } : {}),
  };
}

export interface JobRoutesDeps {
  queues: AsyncQueues;
}

// Only ids shaped as the platform makes them (see JOB_ID_PATTERN) reach BullMQ: anything else, such as
// BullMQ's own key names (`meta`, `events`, `id`, ...), is a 400.
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: JOB_ID_PATTERN } } } as const;
const queueParams = { type: 'object', required: ['queue'], properties: { queue: { type: 'string', pattern: TRIGGER_NAME_PATTERN } } } as const;
const topicParams = { type: 'object', required: ['topic'], properties: { topic: { type: 'string', pattern: TRIGGER_NAME_PATTERN } } } as const;
const dlqQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    function: { type: 'string', pattern: FUNCTION_NAME_PATTERN },
    limit: { type: 'string', pattern: '^(1000|[1-9][0-9]{0,2})$', default: '100' },
  },
} as const;

type DlqQuery = { function?: string; limit: string };

export function jobRoutes(api: FastifyInstance, deps: JobRoutesDeps): void {
  const { queues } = deps;

  api.get<{ Params: { id: string } }>('/invocations/:id', { schema: { params: idParams, response: { 200: invocationView } } }, async (request) =>
    present(await queues.jobs.get(request.params.id, filterOf(request))),
  );

  api.post<{ Params: { queue: string } }>(
    '/queues/:queue/messages',
    { schema: { params: queueParams, response: { 202: messageAccepted } } },
    async (request, reply) => {
      const body = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
      const contentType = request.headers['content-type'];
      const { queue } = request.params;
      const attributesHeader = request.headers['message-attributes'];
      const { attributes, problem } = parseMessageAttributes(Array.isArray(attributesHeader) ? attributesHeader.join(',') : attributesHeader);
      if (problem) throw new BadRequestError(problem);
      const key = idempotencyKeyOf(request);
      const url = request.url;
      const q = url.indexOf('?');
      // Keys are the tenant's: another tenant's (or an anonymous) caller can never find this message by it.
      const idempotency: Idempotency | undefined =
        key === undefined
          ? undefined
          : {
              key,
              scope: `tenant:${request.principal.tenant}`,
              fingerprint: requestFingerprint({
                method: request.method,
                path: q === -1 ? url : url.slice(0, q),
                query: q === -1 ? '' : url.slice(q + 1),
                contentType,
                body,
                ...(attributes ? { headers: { 'message-attributes': JSON.stringify(attributes) } } : {}),
              }),
            };
      const sent = await queues.send(
        triggerId(request.principal.tenant, queue),
        { body, ...(contentType ? { contentType } : {}), ...(attributes ? { attributes } : {}) },
        idempotency,
      );
      const location = `/api/v1/invocations/${sent.id}`;
      return reply
        .code(202)
        .header('location', location)
        .send({ messageId: sent.id, queue, consumer: splitFunctionId(sent.consumer).name, statusUrl: location });
    },
  );

  // Purge: the messages a queue keeps (also after its consumer was deleted: they wait for the next one).
  api.delete<{ Params: { queue: string } }>(
    '/queues/:queue/messages',
    { schema: { params: queueParams, response: { 200: purgedReply } } },
    async (request) => ({
      purged: await queues.jobs.purgeQueue(triggerId(request.principal.tenant, request.params.queue)),
    }),
  );

  api.get('/queues', { schema: { response: { 200: queueListReply } } }, async (request) => ({
    queues: [...queues.index.queues()]
      .filter(([queue]) => splitTriggerId(queue).tenant === request.principal.tenant)
      .map(([queue, spec]) => ({ queue: splitTriggerId(queue).name, consumer: splitFunctionId(spec.name).name, batchSize: spec.batchSize })),
  }));

  api.post<{ Params: { topic: string } }>('/events/:topic', { schema: { params: topicParams, response: { 202: eventAccepted } } }, async (request, reply) => {
    const event = parseCloudEvent(request.headers, (request.body as Buffer | undefined) ?? Buffer.alloc(0));
    const deliveries = await queues.publish(triggerId(request.principal.tenant, request.params.topic), event.attributes, event.data);
    return reply.code(202).send({
      eventId: event.attributes.id,
      topic: request.params.topic,
      deliveries: deliveries.map((d) => ({ function: splitFunctionId(d.function).name, invocationId: d.id, statusUrl: `/api/v1/invocations/${d.id}` })),
    });
  });

  api.get<{ Querystring: DlqQuery }>('/dlq', { schema: { querystring: dlqQuery, response: { 200: deadLetterListReply } } }, async (request) => ({
    deadLetters: (await queues.jobs.deadLetters(filterOf(request, request.query.function), Number(request.query.limit))).map(present),
  }));

  api.get<{ Params: { id: string } }>('/dlq/:id', { schema: { params: idParams, response: { 200: deadInvocationView } } }, async (request) => {
    const view = present(await queues.jobs.get(request.params.id, filterOf(request)));
    if (view.status !== 'dead') return { ...view, note: 'not in the dead-letter list' };
    return view;
  });

  api.post<{ Params: { id: string } }>('/dlq/:id/redrive', { schema: { params: idParams, response: { 202: redrivenReply } } }, async (request, reply) => {
    await queues.jobs.redrive(request.params.id, filterOf(request));
    return reply.code(202).send({ redriven: 1 });
  });

  api.post<{ Querystring: DlqQuery }>('/dlq/redrive', { schema: { querystring: dlqQuery, response: { 202: redrivenReply } } }, async (request, reply) =>
    reply.code(202).send({ redriven: await queues.jobs.redriveAll(filterOf(request, request.query.function)) }),
  );

  api.delete<{ Params: { id: string } }>('/dlq/:id', { schema: { params: idParams, response: { 200: purgedReply } } }, async (request) => {
    await queues.jobs.purge(request.params.id, filterOf(request));
    return { purged: 1 };
  });

  api.delete<{ Querystring: DlqQuery }>('/dlq', { schema: { querystring: dlqQuery, response: { 200: purgedReply } } }, async (request) => ({
    purged: await queues.jobs.purgeAll(filterOf(request, request.query.function)),
  }));
}
