// faas invoke <name>: call a function over HTTP and print its body.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ApiClient, errorFrom } from '../api-client.js';
import { loadCliConfig } from '../cli-config.js';
import { CliError } from '../errors.js';
import { info } from '../output.js';
import { printOutcome, waitForInvocation } from './async.js';

interface InvokeFlags {
  data?: string;
  method?: string;
  header?: string[];
  path?: string;
  verbose?: boolean;
  async?: boolean;
  wait?: boolean;
  idempotencyKey?: string;
  callbackUrl?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function readData(data: string): Buffer {
  if (!data.startsWith('@')) return Buffer.from(data);
  try {
    return readFileSync(data.slice(1));
  } catch (err) {
    throw new CliError(`--data ${data}: ${(err as Error).message}`, 'give @path-to-an-existing-file, or the data itself');
  }
}

export function registerInvoke(program: Command): void {
  program
    .command('invoke')
    .description('call a function and print what it answers')
    .argument('<name>', 'function name; name@N calls version N, name@alias an alias')
    .option('-d, --data <data>', 'request body, or @file to send a file')
    .option('-X, --method <method>', 'HTTP method (default GET, or POST with --data)')
    .option('-H, --header <K:V>', 'request header (repeatable)', collect)
    .option('--path <path>', 'path below the function, e.g. /items/7?x=1', '')
    .option('-v, --verbose', 'print status, cold start, duration and invocation id to stderr')
    .option('--async', 'queue the call and print its invocation id (202); see it with `faas status <id>`')
    .option('--wait', 'with --async: wait for the result and print it')
    .option('--idempotency-key <key>', 'with --async: the same key gives the same invocation, run once')
    .option('--callback-url <url>', 'with --async: POST the result here when done')
    .action(async (name: string, flags: InvokeFlags) => {
      const api = new ApiClient(loadCliConfig());
      const headers: Record<string, string> = {};
      for (const h of flags.header ?? []) {
        const at = h.indexOf(':');
        if (at <= 0) throw new CliError(`--header ${h} is not K:V`, 'e.g. --header content-type:application/json');
        headers[h.slice(0, at).trim()] = h.slice(at + 1).trim();
      }
      const body = flags.data === undefined ? undefined : readData(flags.data);
      const method = (flags.method ?? (body ? 'POST' : 'GET')).toUpperCase();
      const sub = flags.path && !flags.path.startsWith('/') && !flags.path.startsWith('?') ? `/${flags.path}` : (flags.path ?? '');
      if (!flags.async && (flags.wait || flags.idempotencyKey || flags.callbackUrl)) {
        throw new CliError('--wait, --idempotency-key and --callback-url go with --async', 'add --async');
      }
      if (flags.async) {
        if (flags.idempotencyKey) headers['idempotency-key'] = flags.idempotencyKey;
        if (flags.callbackUrl) headers['x-callback-url'] = flags.callbackUrl;
        const accepted = await api.fetch(`/async/fn/${encodeURIComponent(name)}${sub}`, { method, headers, ...(body ? { body } : {}) });
        const text = await accepted.text();
        if (accepted.status !== 202) throw errorFrom(accepted.status, text);
        const { invocationId } = JSON.parse(text) as { invocationId: string };
        if (!flags.wait) return void console.log(invocationId);
        info(`queued ${invocationId}; waiting for the result`);
        return printOutcome(await waitForInvocation(api, invocationId));
      }
      const response = await api.fetch(`/fn/${encodeURIComponent(name)}${sub}`, { method, headers, ...(body ? { body } : {}) });
      const bytes = Buffer.from(await response.arrayBuffer());
      if (flags.verbose) {
        info(
          `${response.status} · v${response.headers.get('x-faas-version') ?? '?'} · ${response.headers.get('x-faas-cold-start') === 'true' ? 'cold' : 'warm'} · ` +
            `${response.headers.get('x-faas-duration-ms') ?? '?'} ms · ${response.headers.get('x-faas-invocation-id') ?? ''}`,
        );
      }
      // Every answer names its invocation; only the function's own answers say whether it started cold.
      const platformError = !response.ok && !response.headers.get('x-faas-cold-start');
      if (platformError) throw errorFrom(response.status, bytes.toString('utf8'));
      process.stdout.write(bytes);
      if (bytes.length && bytes[bytes.length - 1] !== 0x0a && process.stdout.isTTY) process.stdout.write('\n');
      if (!response.ok) process.exitCode = 1;
    });
}
