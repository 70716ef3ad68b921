// CloudEvents over HTTP (the CloudEvents 1.0 HTTP binding), as Knative Functions receive and answer them:
// in binary mode (attributes as ce-* headers, the data as the body) or structured mode (one JSON document,
// application/cloudevents+json); an answer that is a CloudEvent goes out in binary mode, as Knative's
// runtime sends it. Duck-typed, so the `cloudevents` package's CloudEvent class and plain objects both work.
import { randomUUID } from 'node:crypto';
import type { IncomingInvocation, PlainResponse } from './lambda.js';

export interface CloudEventLike {
  specversion: string;
  id: string;
  source: string;
  type: string;
  datacontenttype?: string;
  data?: unknown;
  [attribute: string]: unknown;
}

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

function decodeData(body: Buffer, contentType: string | undefined): unknown {
  if (body.length === 0) return undefined;
  const text = body.toString('utf8');
  if (!contentType || /json/i.test(contentType)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return /^text\//i.test(contentType) ? text : new Uint8Array(body);
}

/** The CloudEvent a request carries (binary or structured mode), or undefined when it carries none. */
export function cloudEventOf(inv: IncomingInvocation): CloudEventLike | undefined {
  const contentType = first(inv.headers['content-type']);
  if (contentType && /^application\/cloudevents\+json/i.test(contentType)) {
    const event = JSON.parse(inv.body.toString('utf8')) as CloudEventLike & { data_base64?: string };
    if (typeof event.data_base64 === 'string') {
      const { data_base64, ...rest } = event;
      return { ...rest, data: new Uint8Array(Buffer.from(data_base64, 'base64')) };
    }
    return event;
  }
  if (!first(inv.headers['ce-specversion'])) return undefined;
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(inv.headers)) {
    if (name.startsWith('ce-') && value !== undefined) attributes[name.slice(3)] = first(value)!;
  }
  return {
    ...attributes,
    specversion: attributes.specversion!,
    id: attributes.id ?? '',
    source: attributes.source ?? '',
    type: attributes.type ?? '',
    ...(contentType ? { datacontenttype: contentType } : {}),
    data: decodeData(inv.body, contentType),
  };
}

/** Whether a handler's result is a CloudEvent to answer with (specversion, type and source at least). */
export function isCloudEvent(value: unknown): value is CloudEventLike {
  if (typeof value !== 'object' || value === null) return false;
  const event = value as Record<string, unknown>;
  return typeof event.specversion === 'string' && typeof event.type === 'string' && typeof event.source === 'string';
}

/** A CloudEvent as a binary-mode HTTP answer: its attributes as ce-* headers, its data as the body. */
export function binaryAnswer(event: CloudEventLike): PlainResponse {
  const headers: Array<[string, string]> = [];
  const attributes: Record<string, unknown> = { ...event, id: event.id || randomUUID() };
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'data' || name === 'data_base64' || name === 'datacontenttype' || value === undefined || value === null) continue;
    if (typeof value === 'object' && !(value instanceof Date)) continue;
    headers.push([`ce-${name.toLowerCase()}`, value instanceof Date ? value.toISOString() : String(value)]);
  }
  const data = event.data;
  let body: Buffer;
  let type = event.datacontenttype;
  if (data === undefined || data === null) body = Buffer.alloc(0);
  else if (data instanceof Uint8Array) body = Buffer.from(data);
  else if (typeof data === 'string' && type && !/json/i.test(type)) body = Buffer.from(data);
  else {
    body = Buffer.from(JSON.stringify(data));
    type ??= 'application/json';
  }
  if (type) headers.push(['content-type', type]);
  return { status: 200, headers, body };
}
