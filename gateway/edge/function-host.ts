// Pure: a host per function. With a domain configured (FAAS_DOMAIN, `localhost` by default), every function
// also answers at the root of its own host — `<name>.<domain>` in the default tenant, `<name>.<tenant>.<domain>`
// in any other — so its absolute links and redirects work, and its pages get an origin of their own (not the
// dashboard's). Requests to such a host are routed to the function's /fn path before the router runs.
import { DEFAULT_TENANT, FUNCTION_NAME_PATTERN, TENANT_ID_PATTERN } from '../../core/function-spec.js';
import { functionPath } from '../../tenancy/names.js';

const NAME = new RegExp(FUNCTION_NAME_PATTERN);
const TENANT = new RegExp(TENANT_ID_PATTERN);

export interface FunctionHost {
  tenant: string;
  name: string;
}

/** A raw request that arrived at a function's own host (marked before routing). */
export type FunctionHostRequest = import('node:http').IncomingMessage & { functionHost?: FunctionHost };

/** The function a Host header names under `domain`, or undefined (the gateway's own host, or another). */
export function functionOfHost(hostHeader: string | undefined, domain: string): FunctionHost | undefined {
  if (!hostHeader || !domain) return undefined;
  const host = hostHeader.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  const suffix = `.${domain.toLowerCase()}`;
  if (!host.endsWith(suffix)) return undefined;
  const labels = host.slice(0, -suffix.length).split('.');
  if (labels.length === 1 && NAME.test(labels[0]!)) return { tenant: DEFAULT_TENANT, name: labels[0]! };
  if (labels.length === 2 && NAME.test(labels[0]!) && TENANT.test(labels[1]!) && labels[1] !== DEFAULT_TENANT) return { tenant: labels[1]!, name: labels[0]! };
  return undefined;
}

/** The gateway-relative URL a function-host request is routed as: the function's /fn path plus the request's own. */
export function routedUrl(fn: FunctionHost, url: string): string {
  return `${functionPath(fn.tenant, fn.name)}${url.startsWith('/') ? url : `/${url}`}`;
}

/** The function's own root URL under `domain`, with the public URL's scheme and port. */
export function functionHostUrl(publicUrl: string, domain: string, fn: FunctionHost): string {
  const url = new URL(publicUrl);
  const label = fn.tenant === DEFAULT_TENANT ? fn.name : `${fn.name}.${fn.tenant}`;
  return `${url.protocol}//${label}.${domain}${url.port ? `:${url.port}` : ''}/`;
}
