// faas status, faas queue, faas publish, faas dlq: async invocations, queue messages, events, dead letters.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import pc from 'picocolors';
import { ApiClient, errorFrom } from '../api-client.js';
import { loadCliConfig } from '../cli-config.js';
import { CliError } from '../errors.js';
import { ok, printJson, printable, table } from '../output.js';
import type { DeadLetter, InvocationView } from '../../triggers/job-inspection.js';

const api = () => new ApiClient(loadCliConfig());

function readData(data: string | undefined): Buffer {
  if (data === undefined) return Buffer.alloc(0);
  if (!data.startsWith('@')) return Buffer.from(data);
  try {
    return readFileSync(data.slice(1));
  } catch (err) {
    throw new CliError(`${data}: ${(err as Error).message}`, 'give @path-to-an-existing-file, or the data itself');
  }
}

/** Polls an invocation until it has succeeded or is dead. */
export async function waitForInvocation(client: ApiClient, id: string, timeoutMs = 15 * 60_000): Promise<InvocationView> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
    const view = await client.request<InvocationView>('GET', `/invocations/${encodeURIComponent(id)}`);
    if (view.status === 'succeeded' || view.status === 'dead') return view;
    if (Date.now() > deadline) throw new CliError(`invocation ${id} is still ${view.status}`, `check later with \`faas status ${id}\``);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/** The result body on stdout (exit 1 when dead), the error on stderr. */
export function printOutcome(view: InvocationView): void {
  if (view.status === 'succeeded' && view.result) {
    process.stdout.write(Buffer.from(view.result.body, view.result.bodyEncoding));
    if (process.stdout.isTTY) process.stdout.write('\n');
    if (view.result.status >= 400) process.exitCode = 1;
    return;
  }
  console.error(pc.red(`${view.status} after ${view.attempts} attempt(s): ${view.error?.code ?? ''} ${view.error?.message ?? ''}`));
  process.exitCode = 1;
}

const STATUS_COLOR: Record<string, (s: string) => string> = { succeeded: pc.green, dead: pc.red, failed: pc.yellow, running: pc.cyan, queued: pc.dim };

function printView(view: InvocationView): void {
  const source = view.queue ? ` queue ${view.queue}` : view.topic ? ` topic ${view.topic}` : '';
  console.log(`${pc.bold(view.id)}  ${(STATUS_COLOR[view.status] ?? String)(view.status)}  ${view.function} (${view.trigger}${source})`);
  console.log(`  attempts ${view.attempts}/${view.maxAttempts} · accepted ${view.acceptedAt}${view.finishedAt ? ` · finished ${view.finishedAt}` : ''}`);
  if (view.nextAttemptAt) console.log(`  next attempt ${view.nextAttemptAt}`);
  if (view.error) console.log(`  ${pc.red(`${view.error.code}: ${printable(view.error.message)}`)}`);
  if (view.result)
    console.log(`  result ${view.result.status}: ${printable(Buffer.from(view.result.body, view.result.bodyEncoding).toString('utf8').slice(0, 500))}`);
  for (const line of view.logs) console.log(pc.dim(`  ${printable(line).replace(/\n/g, '\n  ')}`));
}

export function registerAsync(program: Command): void {
  program
    .command('status')
    .description('show an async invocation, queue message or event delivery: status, attempts, result, logs')
    .argument('<id>', 'the id `faas invoke --async`, `faas queue send` or `faas publish` printed')
    .option('--wait', 'wait until it has succeeded or is dead, then print its result')
    .option('--json', 'print JSON')
    .action(async (id: string, flags: { wait?: boolean; json?: boolean }) => {
      const client = api();
      const view = flags.wait ? await waitForInvocation(client, id) : await client.request<InvocationView>('GET', `/invocations/${encodeURIComponent(id)}`);
      if (flags.json) return printJson(view);
      if (flags.wait) return printOutcome(view);
      printView(view);
    });

  const queue = program.command('queue').description('named queues: send messages to their consumer function');
  queue
    .command('send')
    .description('send a message to a queue (its consumer was deployed with --queue NAME)')
    .argument('<queue>', 'queue name')
    .argument('[data]', 'message body, or @file')
    .option('--content-type <type>', 'content type of the message', 'text/plain')
    .option('--idempotency-key <key>', 'the same key sends the message once')
    .option(
      '--attr <KEY=VALUE>',
      'a message attribute (repeatable; Lambda handlers see them as messageAttributes)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .action(async (name: string, data: string | undefined, flags: { contentType: string; idempotencyKey?: string; attr?: string[] }) => {
      const client = api();
      const config = loadCliConfig();
      const attributes: Record<string, string> = {};
      for (const pair of flags.attr ?? []) {
        const at = pair.indexOf('=');
        if (at <= 0) throw new CliError(`--attr ${pair} is not KEY=VALUE`, 'e.g. --attr priority=high');
        attributes[pair.slice(0, at)] = pair.slice(at + 1);
      }
      const res = await client.fetch(`/api/v1/queues/${encodeURIComponent(name)}/messages`, {
        method: 'POST',
        headers: {
          ...(config.token ? { authorization: `Bearer ${config.token}` } : {}),
          'content-type': flags.contentType,
          ...(flags.idempotencyKey ? { 'idempotency-key': flags.idempotencyKey } : {}),
          // JSON with non-ASCII escaped: a header value is bytes, and the API parses \u escapes back.
          ...(flags.attr?.length
            ? { 'message-attributes': JSON.stringify(attributes).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) }
            : {}),
        },
        body: readData(data),
      });
      const text = await res.text();
      if (res.status !== 202) throw errorFrom(res.status, text, config);
      console.log((JSON.parse(text) as { messageId: string }).messageId);
    });
  queue
    .command('purge')
    .description("remove a queue's messages that are not running now (waiting, retrying, dead), consumed or not")
    .argument('<queue>', 'queue name')
    .action(async (name: string) => {
      const { purged } = await api().request<{ purged: number }>('DELETE', `/queues/${encodeURIComponent(name)}/messages`);
      ok(`purged ${purged} message${purged === 1 ? '' : 's'} of queue ${name}`);
    });
  queue
    .command('ls')
    .description('list queues and their consumers')
    .action(async () => {
      const { queues } = await api().request<{ queues: Array<{ queue: string; consumer: string; batchSize: number }> }>('GET', '/queues');
      if (queues.length === 0) return void console.log('no queues: deploy a function with --queue NAME');
      console.log(
        table(
          ['queue', 'consumer', 'batch size'],
          queues.map((q) => [q.queue, q.consumer, q.batchSize]),
        ),
      );
    });

  program
    .command('publish')
    .description('publish a CloudEvent to a topic; every function deployed with --on TOPIC gets it')
    .argument('<topic>', 'topic name')
    .argument('[data]', 'event data, or @file')
    .requiredOption('--type <type>', 'CloudEvent type, e.g. order.created')
    .option('--source <source>', 'CloudEvent source', '/faas/cli')
    .option('--id <id>', 'CloudEvent id (default: a new UUID; the same source and id are delivered once)')
    .option('--content-type <type>', 'content type of the data', 'application/json')
    .action(async (topic: string, data: string | undefined, flags: { type: string; source: string; id?: string; contentType: string }) => {
      const config = loadCliConfig();
      const res = await api().fetch(`/api/v1/events/${encodeURIComponent(topic)}`, {
        method: 'POST',
        headers: {
          ...(config.token ? { authorization: `Bearer ${config.token}` } : {}),
          'content-type': flags.contentType,
          'ce-specversion': '1.0',
          'ce-id': flags.id ?? randomUUID(),
          'ce-source': flags.source,
          'ce-type': flags.type,
        },
        body: readData(data),
      });
      const text = await res.text();
      if (res.status !== 202) throw errorFrom(res.status, text, config);
      const { deliveries } = JSON.parse(text) as { deliveries: Array<{ function: string; invocationId: string }> };
      for (const d of deliveries) console.log(`${d.invocationId}  ${d.function}`);
    });

  const dlq = program.command('dlq').description('the dead-letter list: async work that used up its attempts');
  dlq
    .command('ls')
    .description('list dead letters, newest first')
    .option('--function <name>', 'only this function')
    .option('--json', 'print JSON')
    .action(async (flags: { function?: string; json?: boolean }) => {
      const query = flags.function ? `?function=${encodeURIComponent(flags.function)}` : '';
      const { deadLetters } = await api().request<{ deadLetters: DeadLetter[] }>('GET', `/dlq${query}`);
      if (flags.json) return printJson(deadLetters);
      if (deadLetters.length === 0) return void console.log('the dead-letter list is empty');
      console.log(
        table(
          ['id', 'function', 'trigger', 'attempts', 'failed at', 'error'],
          deadLetters.map((d) => [
            d.id,
            d.function,
            d.queue ? `queue ${d.queue}` : d.topic ? `topic ${d.topic}` : d.trigger,
            d.attempts,
            d.failedAt ?? '',
            `${d.error?.code ?? ''} ${(d.error?.message ?? '').slice(0, 60)}`,
          ]),
        ),
      );
    });
  dlq
    .command('show')
    .description('show one dead letter with its logs')
    .argument('<id>', 'dead letter id')
    .action(async (id: string) => printView(await api().request<InvocationView>('GET', `/dlq/${encodeURIComponent(id)}`)));
  dlq
    .command('redrive')
    .description('run dead letters again, with all their attempts')
    .argument('[id]', 'one dead letter (or --all)')
    .option('--all', 'every dead letter (of --function, if given)')
    .option('--function <name>', 'with --all: only this function')
    .action(async (id: string | undefined, flags: { all?: boolean; function?: string }) => {
      if (!id && !flags.all) throw new CliError('say which dead letter to redrive', 'give its id, or --all');
      if (id) {
        await api().request('POST', `/dlq/${encodeURIComponent(id)}/redrive`);
        return void ok(`redriven ${id}`);
      }
      const query = flags.function ? `?function=${encodeURIComponent(flags.function)}` : '';
      const { redriven } = await api().request<{ redriven: number }>('POST', `/dlq/redrive${query}`);
      ok(`redriven ${redriven} dead letter(s)`);
    });
  dlq
    .command('purge')
    .description('delete dead letters for good')
    .argument('[id]', 'one dead letter (or --all)')
    .option('--all', 'every dead letter (of --function, if given)')
    .option('--function <name>', 'with --all: only this function')
    .action(async (id: string | undefined, flags: { all?: boolean; function?: string }) => {
      if (!id && !flags.all) throw new CliError('say which dead letter to purge', 'give its id, or --all');
      if (id) {
        await api().request('DELETE', `/dlq/${encodeURIComponent(id)}`);
        return void ok(`purged ${id}`);
      }
      const query = flags.function ? `?function=${encodeURIComponent(flags.function)}` : '';
      const { purged } = await api().request<{ purged: number }>('DELETE', `/dlq${query}`);
      ok(`purged ${purged} dead letter(s)`);
    });
}
