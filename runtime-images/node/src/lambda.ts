// Lambda style: builds the API Gateway events (HTTP API payload 2.0, REST API payload 1.0) and maps a handler's
// result to a response.
import { HEADER_NAMES_CONTEXT } from '../protocol.js';
import { ContractError, describeValue } from './peer-contracts.js';

export interface IncomingInvocation {
  method: string;
  /** Path below the function root, starting with '/'. */
  path: string;
  /** Without '?'. */
  rawQuery: string;
  headers: Record<string, string | string[] | undefined>;
  /** The whole body; empty when `bodyStream` is set. */
  body: Buffer;
  /** A large upload, read as the function reads it (web-standard handlers only). */
  bodyStream?: import('node:stream').Readable;
  invocationId: string;
  /** Epoch ms. */
  receivedAt: number;
  /** http, async, queue, event or cron. */
  trigger: string;
  /** What the platform said about the trigger (attempt, queue, topic, schedule, ...), from x-faas-* headers. */
  context: Record<string, string>;
}

export interface HttpApiEventV2 {
  version: '2.0';
  routeKey: '$default';
  rawPath: string;
  rawQueryString: string;
  cookies?: string[];
  headers: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  requestContext: {
    accountId: string;
    apiId: string;
    domainName: string;
    domainPrefix: string;
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
    requestId: string;
    routeKey: '$default';
    stage: '$default';
    time: string;
    timeEpoch: number;
  };
  body?: string;
  isBase64Encoded: boolean;
}

export interface PlainResponse {
  status: number;
  headers: Array<[string, string]>;
  body: Buffer;
  /** Set instead of a whole body when the answer is still being written: sent chunk by chunk. */
  stream?: AsyncIterable<Uint8Array>;
}

const TEXTUAL = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded|graphql)|[^;]*\+(json|xml))/i;

/** True when a body of this content type with these bytes can travel as utf-8 text. */
export function isTextBody(contentType: string | undefined, body: Buffer): boolean {
  if (contentType && !TEXTUAL.test(contentType)) return false;
  return Buffer.from(body.toString('utf8'), 'utf8').equals(body);
}

const join = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value.join(',') : value);

export function buildHttpApiEvent(inv: IncomingInvocation): HttpApiEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(inv.headers)) {
    const joined = join(value);
    if (joined !== undefined && name !== 'cookie') headers[name] = joined;
  }
  const cookieHeader = join(inv.headers.cookie);
  const cookies = cookieHeader ? cookieHeader.split(/;\s*/).filter(Boolean) : undefined;

  let queryStringParameters: Record<string, string> | undefined;
  if (inv.rawQuery) {
    queryStringParameters = {};
    for (const [key, value] of new URLSearchParams(inv.rawQuery)) {
      queryStringParameters[key] = key in queryStringParameters ? `${queryStringParameters[key]},${value}` : value;
    }
  }

  const text = inv.body.length > 0 && isTextBody(headers['content-type'], inv.body);
  const time = new Date(inv.receivedAt);
  const domainName = headers.host ?? 'localhost';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: inv.path,
    rawQueryString: inv.rawQuery,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(queryStringParameters ? { queryStringParameters } : {}),
    requestContext: {
      accountId: 'faas',
      apiId: 'faas',
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: {
        method: inv.method,
        path: inv.path,
        protocol: 'HTTP/1.1',
        sourceIp: headers['x-forwarded-for']?.split(',')[0]?.trim() ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: inv.invocationId,
      routeKey: '$default',
      stage: '$default',
      time: time.toISOString(),
      timeEpoch: inv.receivedAt,
    },
    ...(inv.body.length > 0 ? { body: text ? inv.body.toString('utf8') : inv.body.toString('base64') } : {}),
    isBase64Encoded: inv.body.length > 0 && !text,
  };
}

/** API Gateway REST API (payload 1.0) event, as code written for it reads: httpMethod, path, multiValue fields. */
export interface RestApiEventV1 {
  version: '1.0';
  resource: string;
  path: string;
  httpMethod: string;
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
  queryStringParameters: Record<string, string> | null;
  multiValueQueryStringParameters: Record<string, string[]> | null;
  pathParameters: Record<string, string> | null;
  stageVariables: null;
  requestContext: {
    accountId: string;
    apiId: string;
    domainName: string;
    domainPrefix: string;
    httpMethod: string;
    path: string;
    protocol: string;
    requestId: string;
    requestTime: string;
    requestTimeEpoch: number;
    resourcePath: string;
    stage: string;
    identity: { sourceIp: string; userAgent: string };
  };
  body: string | null;
  isBase64Encoded: boolean;
}

/** Header names as clients send them (Content-Type, X-Hub-Signature-256): REST events keep the case, Node lower-cases it. */
const canonical = (name: string) => name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());

/** The client's spelling of each header name (the `header-names` context, comma-separated), by its lower case. */
function spellings(context: Record<string, string>): Map<string, string> {
  const spelt = new Map<string, string>();
  for (const name of (context[HEADER_NAMES_CONTEXT] ?? '').split(',')) if (name) spelt.set(name.toLowerCase(), name);
  return spelt;
}

export function buildRestApiEvent(inv: IncomingInvocation): RestApiEventV1 {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  // As API Gateway passes them: in the client's spelling; the platform's own (X-Forwarded-For, …) capitalised.
  const spelt = spellings(inv.context);
  for (const [name, value] of Object.entries(inv.headers)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    const key = spelt.get(name) ?? canonical(name);
    multiValueHeaders[key] = values;
    // API Gateway puts the last value of a repeated header in `headers`.
    headers[key] = values[values.length - 1]!;
  }
  let queryStringParameters: Record<string, string> | null = null;
  let multiValueQueryStringParameters: Record<string, string[]> | null = null;
  if (inv.rawQuery) {
    queryStringParameters = {};
    multiValueQueryStringParameters = {};
    for (const [key, value] of new URLSearchParams(inv.rawQuery)) {
      queryStringParameters[key] = value;
      (multiValueQueryStringParameters[key] ??= []).push(value);
    }
  }
  const text = inv.body.length > 0 && isTextBody(join(inv.headers['content-type']), inv.body);
  const domainName = join(inv.headers.host) ?? 'localhost';
  return {
    version: '1.0',
    resource: '/{proxy+}',
    path: inv.path,
    httpMethod: inv.method,
    headers,
    multiValueHeaders,
    queryStringParameters,
    multiValueQueryStringParameters,
    pathParameters: inv.path === '/' ? null : { proxy: inv.path.slice(1) },
    stageVariables: null,
    requestContext: {
      accountId: 'faas',
      apiId: 'faas',
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      httpMethod: inv.method,
      path: inv.path,
      protocol: 'HTTP/1.1',
      requestId: inv.invocationId,
      requestTime: new Date(inv.receivedAt).toISOString(),
      requestTimeEpoch: inv.receivedAt,
      resourcePath: '/{proxy+}',
      stage: '$default',
      identity: { sourceIp: join(inv.headers['x-forwarded-for'])?.split(',')[0]?.trim() ?? '127.0.0.1', userAgent: join(inv.headers['user-agent']) ?? '' },
    },
    body: inv.body.length > 0 ? (text ? inv.body.toString('utf8') : inv.body.toString('base64')) : null,
    isBase64Encoded: inv.body.length > 0 && !text,
  };
}

interface LambdaHttpResult {
  statusCode: number;
  headers?: Record<string, string | number | boolean>;
  multiValueHeaders?: Record<string, Array<string | number | boolean>>;
  cookies?: string[];
  body?: string;
  isBase64Encoded?: boolean;
}

const isHttpResult = (value: unknown): value is LambdaHttpResult =>
  typeof value === 'object' && value !== null && typeof (value as { statusCode?: unknown }).statusCode === 'number';

/** Maps a Lambda handler's return value to a response, as API Gateway's HTTP API (payload 2.0) does. */
export function lambdaResultToResponse(result: unknown): PlainResponse {
  if (!isHttpResult(result)) {
    if (result === undefined || result === null) return { status: 200, headers: [], body: Buffer.alloc(0) };
    if (typeof result === 'string') {
      return { status: 200, headers: [['content-type', 'text/plain; charset=utf-8']], body: Buffer.from(result) };
    }
    return { status: 200, headers: [['content-type', 'application/json']], body: Buffer.from(JSON.stringify(result)) };
  }
  const headers: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(result.headers ?? {})) headers.push([name.toLowerCase(), String(value)]);
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    for (const value of values) headers.push([name.toLowerCase(), String(value)]);
  }
  for (const cookie of result.cookies ?? []) headers.push(['set-cookie', cookie]);
  const raw: unknown = result.body ?? '';
  // API Gateway fails an answer whose body is not a string (502): said here, naming the fix.
  if (typeof raw !== 'string') {
    throw new ContractError(
      `the function returned { statusCode, body } with a body that is ${describeValue(raw)}; API Gateway's body is a string: JSON.stringify it (or base64 with isBase64Encoded)`,
    );
  }
  if (!Number.isInteger(result.statusCode) || result.statusCode < 100 || result.statusCode > 599)
    throw new ContractError(`the function returned statusCode ${result.statusCode}; a number from 100 to 599 was expected`);
  const body = result.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  // As API Gateway and function URLs answer a body without a content type.
  if (body.length > 0 && !headers.some(([name]) => name === 'content-type')) headers.push(['content-type', 'application/json']);
  return { status: result.statusCode, headers, body };
}
