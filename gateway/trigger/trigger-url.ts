// Pure: what a request to the function trigger names, from its URL as sent (or as a function's own host routes
// it, edge/function-host.ts). The rules the router used to apply, in one place: the first segment below /fn/
// names the function (percent-decoded, at most 100 characters), the path must decode, the rest is the function's.
import type { EdgeRejection } from '../edge/request-checks.js';
import { resolveFunctionPath, type ResolvedPath } from './function-path.js';

/** Root of the synchronous trigger. */
export const FN_ROOT = '/fn/';
/** Longest first segment (the function's name, maybe with a qualifier or a tenant), as sent. */
export const MAX_NAME_SEGMENT = 100;

export interface TriggerTarget {
  /** The first segment as decoded (the default tenant's name, or the tenant's). */
  first: string;
  /** The function's id and the rest, as resolveFunctionPath reads them. */
  resolved: ResolvedPath;
}

/** The function a /fn/ URL names, or the edge's answer when it names none it could. */
export function parseTriggerUrl(url: string, method: string, known: (id: string) => boolean): TriggerTarget | EdgeRejection {
  const q = url.indexOf('?');
  const pathPart = q === -1 ? url : url.slice(0, q);
  let end = pathPart.indexOf('/', FN_ROOT.length);
  if (end === -1) end = pathPart.length;
  const raw = pathPart.slice(FN_ROOT.length, end);
  if (raw === '') return { status: 404, code: 'NOT_FOUND', message: `no route ${method} ${pathPart}` };
  if (raw.length > MAX_NAME_SEGMENT) return { status: 414, code: 'URI_TOO_LONG', message: `a path segment is longer than ${MAX_NAME_SEGMENT} characters` };
  let first = raw;
  if (pathPart.includes('%')) {
    try {
      decodeURI(pathPart);
      first = decodeURIComponent(raw);
    } catch {
      return { status: 400, code: 'BAD_REQUEST', message: 'the request URL is not valid (its percent-encoding cannot be decoded)' };
    }
  }
  return { first, resolved: resolveFunctionPath(url, FN_ROOT, first, known) };
}

export function isRejection(value: TriggerTarget | EdgeRejection): value is EdgeRejection {
  return (value as EdgeRejection).status !== undefined;
}

/** The prefix a function is mounted at under /fn (`/fn/<name>`, `/fn/<tenant>/<name>`): the URL's path less the function's own. */
export function functionPrefix(url: string, path: string): string {
  const q = url.indexOf('?');
  const urlPath = q === -1 ? url : url.slice(0, q);
  return urlPath.endsWith(path) ? urlPath.slice(0, urlPath.length - path.length) || '/' : urlPath;
}

/** The header names of a request as its client spelt them (Node's rawHeaders: name, value, name, …). */
export function spelledNames(rawHeaders: readonly string[]): string[] {
  const names: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) names.push(rawHeaders[i]!);
  return names;
}
