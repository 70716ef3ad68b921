// Lambda style, non-HTTP triggers: the event a handler gets for a queue message batch (SQS-like), a
// CloudEvent (EventBridge-like, with the CloudEvent's attributes kept) and a cron tick (a Scheduled Event).
import { createHash } from 'node:crypto';
import type { BatchedMessage } from '../protocol.js';
import type { IncomingInvocation } from './lambda.js';

export interface SqsLikeRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: { ApproximateReceiveCount: string; SentTimestamp: string; ApproximateFirstReceiveTimestamp: string };
  messageAttributes: Record<string, { stringValue: string; dataType: 'String' }>;
  md5OfBody: string;
  /** As SQS's own: code keyed on it (Middy's event-normalizer, Powertools' batch processor) handles these records. */
  eventSource: 'aws:sqs';
  eventSourceARN: string;
  awsRegion: string;
}

/** The region the function's AWS_REGION names (the runtime sets us-east-1 unless the function sets one). */
const region = () => process.env.AWS_REGION ?? 'us-east-1';
/** The account number in made-up ARNs: AWS's documentation placeholder. */
const ACCOUNT = '123456789012';

const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const header = (inv: IncomingInvocation, name: string): string | undefined => {
  const value = inv.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

function record(queue: string, m: BatchedMessage, receivedAt: number): SqsLikeRecord {
  return {
    messageId: m.id,
    receiptHandle: m.id,
    body: m.body,
    attributes: {
      ApproximateReceiveCount: String(m.attempt),
      SentTimestamp: String(Date.parse(m.sentAt)),
      ApproximateFirstReceiveTimestamp: String(receivedAt),
    },
    messageAttributes: {
      ...Object.fromEntries(Object.entries(m.attributes ?? {}).map(([name, value]) => [name, { stringValue: value, dataType: 'String' as const }])),
      contentType: { stringValue: m.contentType, dataType: 'String' },
      ...(m.bodyEncoding === 'base64' ? { bodyEncoding: { stringValue: 'base64', dataType: 'String' } } : {}),
    },
    md5OfBody: md5(m.body),
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${region()}:${ACCOUNT}:${queue}`,
    awsRegion: region(),
  };
}

export function buildQueueEvent(inv: IncomingInvocation, context: Record<string, string>): { Records: SqsLikeRecord[] } {
  const queue = context.queue ?? '';
  if (context['batch-size']) {
    const { messages } = JSON.parse(inv.body.toString('utf8')) as { messages: BatchedMessage[] };
    return { Records: messages.map((m) => record(queue, m, inv.receivedAt)) };
  }
  const text = inv.body.toString('utf8');
  const utf8 = Buffer.from(text, 'utf8').equals(inv.body);
  const message: BatchedMessage = {
    id: context['message-id'] ?? inv.invocationId,
    body: utf8 ? text : inv.body.toString('base64'),
    bodyEncoding: utf8 ? 'utf8' : 'base64',
    contentType: header(inv, 'content-type') ?? 'application/octet-stream',
    sentAt: context['sent-at'] ?? new Date(inv.receivedAt).toISOString(),
    attempt: Number(context.attempt ?? 1),
    ...(context.attributes ? { attributes: JSON.parse(decodeURIComponent(context.attributes)) as Record<string, string> } : {}),
  };
  return { Records: [record(queue, message, inv.receivedAt)] };
}

/** EventBridge's shape (detail-type, source, detail) with the CloudEvent's own attributes under `cloudevent`. */
export function buildCloudEventEvent(inv: IncomingInvocation, context: Record<string, string>) {
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(inv.headers)) {
    if (name.startsWith('ce-') && typeof value === 'string') attributes[name.slice(3)] = value;
  }
  const contentType = header(inv, 'content-type');
  if (contentType) attributes.datacontenttype = contentType;
  const text = inv.body.toString('utf8');
  let detail: unknown = text;
  if (contentType && /json/i.test(contentType)) {
    try {
      detail = JSON.parse(text);
    } catch {
      // Not JSON after all: the text as is.
    }
  }
  return {
    version: '0',
    id: attributes.id ?? inv.invocationId,
    'detail-type': attributes.type ?? '',
    source: attributes.source ?? '',
    account: ACCOUNT,
    time: attributes.time ?? new Date(inv.receivedAt).toISOString(),
    region: region(),
    resources: attributes.subject ? [attributes.subject] : [],
    detail,
    topic: context.topic,
    cloudevent: attributes,
  };
}

export function buildScheduledEvent(inv: IncomingInvocation, context: Record<string, string>) {
  const body = JSON.parse(inv.body.toString('utf8') || '{}') as { cron?: string; timezone?: string; scheduledAt?: string };
  return {
    version: '0',
    id: inv.invocationId,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: ACCOUNT,
    time: body.scheduledAt ?? context['scheduled-at'] ?? new Date(inv.receivedAt).toISOString(),
    region: region(),
    resources: [`arn:aws:events:${region()}:${ACCOUNT}:rule/${body.cron ?? context.schedule ?? ''}`],
    detail: { cron: body.cron, timezone: body.timezone },
  };
}
