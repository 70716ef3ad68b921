// JSON schemas of the async work API's answers (triggers/async-queues.ts, triggers/job.ts): the documented shapes and serialization.

/** Why a run failed: "CODE: message" read back apart. */
const jobError = { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } as const;

/** A succeeded job's kept answer (StoredResult without its log line); read back from Redis, so any other field is kept as stored. */
export const storedResult = {
  type: 'object',
  additionalProperties: true,
  properties: {
    status: { type: 'integer' },
    headers: { type: 'object', additionalProperties: true },
    body: { type: 'string' },
    bodyEncoding: { type: 'string' },
    truncated: { type: 'boolean' },
    durationMs: { type: 'number' },
    coldStart: { type: 'boolean' },
  },
} as const;

const invocationProperties = {
  id: { type: 'string' },
  function: { type: 'string' },
  trigger: { type: 'string' },
  queue: { type: 'string' },
  topic: { type: 'string' },
  status: { type: 'string' },
  attempts: { type: 'integer' },
  maxAttempts: { type: 'integer' },
  acceptedAt: { type: 'string' },
  startedAt: { type: 'string' },
  finishedAt: { type: 'string' },
  nextAttemptAt: { type: 'string' },
  result: storedResult,
  error: jobError,
  logs: { type: 'array', items: { type: 'string' } },
} as const;

/** GET /invocations/:id: one async invocation's status, result or error, and logs (InvocationView). */
export const invocationView = { type: 'object', properties: invocationProperties } as const;

/** GET /dlq/:id: the invocation, with a note when it is not dead. */
export const deadInvocationView = { type: 'object', properties: { ...invocationProperties, note: { type: 'string' } } } as const;

/** One dead-lettered job (DeadLetter). */
export const deadLetter = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    function: { type: 'string' },
    trigger: { type: 'string' },
    queue: { type: 'string' },
    topic: { type: 'string' },
    attempts: { type: 'integer' },
    failedAt: { type: 'string' },
    error: jobError,
  },
} as const;

/** GET /dlq. */
export const deadLetterListReply = { type: 'object', properties: { deadLetters: { type: 'array', items: deadLetter } } } as const;

/** POST /queues/:queue/messages (202): the message's id, its consumer and where its status is read. */
export const messageAccepted = {
  type: 'object',
  properties: { messageId: { type: 'string' }, queue: { type: 'string' }, consumer: { type: 'string' }, statusUrl: { type: 'string' } },
} as const;

/** GET /queues: the caller's queues and their consumers. */
export const queueListReply = {
  type: 'object',
  properties: {
    queues: {
      type: 'array',
      items: { type: 'object', properties: { queue: { type: 'string' }, consumer: { type: 'string' }, batchSize: { type: 'integer' } } },
    },
  },
} as const;

/** POST /events/:topic (202): the event's id and one invocation per subscriber. */
export const eventAccepted = {
  type: 'object',
  properties: {
    eventId: { type: 'string' },
    topic: { type: 'string' },
    deliveries: {
      type: 'array',
      items: { type: 'object', properties: { function: { type: 'string' }, invocationId: { type: 'string' }, statusUrl: { type: 'string' } } },
    },
  },
} as const;

/** POST /dlq/:id/redrive and /dlq/redrive (202): how many dead jobs run again. */
export const redrivenReply = { type: 'object', properties: { redriven: { type: 'integer' } } } as const;

/** DELETE /dlq/:id and /dlq: how many dead jobs were removed. */
export const purgedReply = { type: 'object', properties: { purged: { type: 'integer' } } } as const;

/** /async/fn/:name (202): the invocation queued and where its status is read. */
export const asyncAccepted = {
  type: 'object',
  properties: { invocationId: { type: 'string' }, status: { type: 'string' }, statusUrl: { type: 'string' } },
} as const;
