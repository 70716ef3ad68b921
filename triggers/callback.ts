// Tells an async caller's callback URL how its invocation ended (as OpenFaaS's X-Callback-Url does).
import { type Agent, request } from 'undici';
import { createGuardedAgent, localHostProblem } from './callback-guard.js';

let agent: Agent | undefined;
/** Connections whose DNS answers and connected address are checked at connect time (see callback-guard.ts). */
const guardedAgent = () => (agent ??= createGuardedAgent());
import type { StoredResult } from './job.js';

export type CallbackOutcome = { status: 'succeeded'; result: StoredResult } | { status: 'dead'; error: { code: string; message: string } };

export interface CallbackOptions {
  /** Allow loopback, link-local and private targets (FAAS_CALLBACK_ALLOW_LOCAL). Default false. */
  allowLocal?: boolean;
  timeoutMs?: number;
  /** Tries before giving up (a callback that never answers does not hold the job forever). */
  tries?: number;
  onGiveUp?: (url: string, err: Error) => void;
}

/**
 * POSTs the function's response (its status in X-Function-Status, its content type and body), or for a
 * dead invocation the error as JSON; X-Faas-Invocation-Id and X-Faas-Status say which and how it ended.
 */
export async function deliverCallback(url: string, invocationId: string, outcome: CallbackOutcome, options: CallbackOptions = {}): Promise<boolean> {
  const headers: Record<string, string> = { 'x-faas-invocation-id': invocationId, 'x-faas-status': outcome.status };
  let body: Buffer;
  if (outcome.status === 'succeeded') {
    const { result } = outcome;
    headers['x-function-status'] = String(result.status);
    const contentType = result.headers['content-type'];
    if (typeof contentType === 'string') headers['content-type'] = contentType;
    body = Buffer.from(result.body, result.bodyEncoding);
  } else {
    headers['content-type'] = 'application/json';
    body = Buffer.from(JSON.stringify({ error: outcome.error }));
  }
  const tries = options.tries ?? 3;
  let last: Error = new Error('not tried');
  if (!options.allowLocal) {
    const problem = localHostProblem(new URL(url));
    if (problem) {
      options.onGiveUp?.(url, new Error(problem));
      return false;
    }
  }
  for (let attempt = 1; attempt <= tries; attempt++) {
    try {
      const res = await request(url, {
        ...(options.allowLocal ? {} : { dispatcher: guardedAgent() }),
        method: 'POST',
        headers,
        body,
        headersTimeout: options.timeoutMs ?? 10_000,
        bodyTimeout: options.timeoutMs ?? 10_000,
      });
      await res.body.dump();
      if (res.statusCode < 500) return true;
      last = new Error(`callback answered ${res.statusCode}`);
    } catch (err) {
      last = err as Error;
    }
    if (attempt < tries) await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** (attempt - 1)));
  }
  options.onGiveUp?.(url, last);
  return false;
}
