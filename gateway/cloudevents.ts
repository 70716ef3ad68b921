// CloudEvents 1.0 over HTTP: reads an event sent in structured mode (the whole event as JSON) or binary
// mode (attributes in ce-* headers, data as the body) and checks it (pure; errors name the problem).
import { FaasError } from '../core/errors.js';
import type { CloudEventAttributes } from '../triggers/job.js';

export interface ParsedEvent {
  attributes: CloudEventAttributes;
  data: Buffer;
}

export class CloudEventError extends FaasError {
  readonly code = 'BAD_CLOUDEVENT';
  readonly status = 400;
}

const NAME = /^[a-z0-9]{1,20}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
const JSON_TYPE = /^application\/(.+\+)?json(;|$)|^text\/json(;|$)/i;
const MAX_ATTRIBUTE_CHARS = 4096;

function check(attributes: Record<string, string>): CloudEventAttributes {
  if (attributes.specversion === undefined) throw new CloudEventError('specversion is missing; this gateway accepts CloudEvents "1.0"');
  if (attributes.specversion !== '1.0') throw new CloudEventError(`specversion "${attributes.specversion}" is not supported; use "1.0"`);
  for (const required of ['id', 'source', 'type'] as const) {
    if (!attributes[required]) throw new CloudEventError(`the required attribute "${required}" is missing or empty`);
  }
  for (const [name, value] of Object.entries(attributes)) {
    if (!NAME.test(name)) throw new CloudEventError(`attribute name "${name}" must be 1-20 lower-case letters or digits`);
    if (value.length > MAX_ATTRIBUTE_CHARS) throw new CloudEventError(`attribute "${name}" is longer than ${MAX_ATTRIBUTE_CHARS} characters`);
  }
  if (attributes.time !== undefined && (!RFC3339.test(attributes.time) || Number.isNaN(Date.parse(attributes.time)))) {
    throw new CloudEventError(`time "${attributes.time}" is not an RFC 3339 timestamp such as 2026-11-24T10:00:00Z`);
  }
  return attributes as CloudEventAttributes;
}

/** Structured mode: `Content-Type: application/cloudevents+json`, data in `data` or `data_base64`. */
export function parseStructured(body: Buffer): ParsedEvent {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new CloudEventError(`the body is not JSON: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new CloudEventError('a structured-mode event is one JSON object (batches are not accepted)');
  }
  const attributes: Record<string, string> = {};
  let data = Buffer.alloc(0);
  const event = json as Record<string, unknown>;
  if ('data' in event && 'data_base64' in event) throw new CloudEventError('an event has "data" or "data_base64", not both');
  for (const [name, value] of Object.entries(event)) {
    if (name === 'data' || name === 'data_base64') continue;
    if (typeof value === 'string') attributes[name] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') attributes[name] = String(value);
    else if (value !== null) throw new CloudEventError(`attribute "${name}" must be a string, number or boolean`);
  }
  if (typeof event.data_base64 === 'string') {
    data = Buffer.from(event.data_base64, 'base64');
  } else if (event.data !== undefined) {
    const contentType = attributes.datacontenttype;
    if (typeof event.data === 'string' && contentType && !JSON_TYPE.test(contentType)) data = Buffer.from(event.data, 'utf8');
    else {
      data = Buffer.from(JSON.stringify(event.data));
      attributes.datacontenttype ??= 'application/json';
    }
  }
  return { attributes: check(attributes), data };
}

/** Binary mode: attributes in `ce-*` headers, the body is the data and its Content-Type the datacontenttype. */
export function parseBinary(headers: Record<string, string | string[] | undefined>, body: Buffer): ParsedEvent {
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('ce-') || value === undefined) continue;
    const attribute = name.slice(3);
    const text = Array.isArray(value) ? value.join(',') : value;
    try {
      attributes[attribute] = decodeURIComponent(text);
    } catch {
      attributes[attribute] = text;
    }
  }
  if (Object.keys(attributes).length === 0) {
    throw new CloudEventError(
      'no CloudEvent: send ce-specversion, ce-id, ce-source and ce-type headers (binary mode) or Content-Type: application/cloudevents+json (structured mode)',
    );
  }
  const contentType = headers['content-type'];
  if (typeof contentType === 'string' && contentType) attributes.datacontenttype = contentType;
  return { attributes: check(attributes), data: body };
}

/** Picks the mode from the Content-Type, as the CloudEvents HTTP binding says. */
export function parseCloudEvent(headers: Record<string, string | string[] | undefined>, body: Buffer): ParsedEvent {
  const contentType = String(headers['content-type'] ?? '');
  if (/^application\/cloudevents-batch\+json/i.test(contentType)) throw new CloudEventError('batched mode is not accepted: send one event per request');
  if (/^application\/cloudevents(\+json)?(;|$)/i.test(contentType)) return parseStructured(body);
  return parseBinary(headers, body);
}
