// The management API over fetch, turning the platform's error JSON and connection failures into CliErrors.
import type { CliConfig } from './cli-config.js';
import { CliError } from './errors.js';

interface ErrorBody {
  error?: { code?: string; message?: string };
}

const HINTS: Record<string, string> = {
  UNAUTHORIZED: 'set FAAS_TOKEN to the token `faas up` printed (it is saved in .faas/token), or to a tenant token from `faas token create`',
  FUNCTION_NOT_FOUND: 'see what is deployed with `faas ls`',
  BAD_REQUEST: 'check the flags; `faas <command> --help` lists them',
  FORBIDDEN: 'this needs the admin token (FAAS_TOKEN of the platform), or a token of the tenant concerned',
  TENANT_NOT_FOUND: 'see the tenants with `faas tenant ls`',
  QUOTA_EXCEEDED: "raise the tenant's quota with `faas tenant set <id> ...`, or wait for the next billing period",
};

export class ApiClient {
  constructor(private readonly config: CliConfig) {}

  get url(): string {
    return this.config.url;
  }

  /** Raw fetch to the gateway with a clear error when nothing answers. */
  async fetch(route: string, init: RequestInit = {}): Promise<Response> {
    try {
      return await fetch(`${this.config.url}${route}`, init);
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new CliError(`cannot reach the platform at ${this.config.url} (${cause})`, 'start it with `faas up`, or set FAAS_URL to where it runs');
    }
  }

  /** Management call with the bearer token; resolves the parsed JSON body (undefined for 204). */
  async request<T>(method: string, route: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.config.token) headers.authorization = `Bearer ${this.config.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await this.fetch(`/api/v1${route}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw errorFrom(response.status, text, this.config);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** GET with the bearer token, the body as text (CSV). */
  async text(route: string): Promise<string> {
    const headers: Record<string, string> = {};
    if (this.config.token) headers.authorization = `Bearer ${this.config.token}`;
    const response = await this.fetch(`/api/v1${route}`, { headers });
    const text = await response.text();
    if (!response.ok) throw errorFrom(response.status, text, this.config);
    return text;
  }
}

export function errorFrom(status: number, text: string, config?: CliConfig): CliError {
  let parsed: ErrorBody = {};
  try {
    parsed = JSON.parse(text) as ErrorBody;
  } catch {
    // Not our JSON: show the status and the start of the text.
  }
  const code = parsed.error?.code ?? `HTTP_${status}`;
  const message = parsed.error?.message ?? (text.slice(0, 200) || `HTTP ${status}`);
  let hint = HINTS[code];
  if (code === 'UNAUTHORIZED' && config) hint = `${hint} (token read from ${config.tokenSource})`;
  return new CliError(`${message} [${code}]`, hint);
}
