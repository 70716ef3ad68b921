// The runtime server inside a function container: loads the bundle once (at start, or when a prewarmed
// runtime is assigned a function), serves invocations over connections it opens to the invoker's socket.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import {
  CONTAINER,
  CONTAINER_CODE_FILE,
  HEADER,
  HEADER_NAMES_CONTEXT,
  INIT_PATH,
  INVOKER_SOCKET_NAME,
  RUNTIME_ENV,
  LOG_TAIL_BYTES,
  PROTOCOL_HEADER_PREFIX,
  READY_PATH,
  SPARE_CONNECTIONS,
  type ErrorBody,
  type FunctionBindings,
  type InitBody,
  type ReadyBody,
} from '../protocol.js';
import { adapt, ContractError, type FunctionInfo, type Invoke } from './handler.js';
import { bindingEnv } from './bindings.js';
import { installWorkersGlobals } from './workers-globals.js';
import type { IncomingInvocation } from './lambda.js';
import { installConsoleCapture, LogTail, withLogCapture } from './log-capture.js';

const env = process.env;
const EMPTY = Buffer.alloc(0);
/** Request bodies larger than this reach web handlers as streams. */
const STREAM_BODY_BYTES = 1024 * 1024;
const invokerSocket = env[RUNTIME_ENV.invokerSocket] ?? `${CONTAINER.socketDir}/${INVOKER_SOCKET_NAME}`;

installConsoleCapture();
if (env[RUNTIME_ENV.network] === '0') explainNoNetwork();

let invoke: Invoke | undefined;
let initError: Error | undefined;
let ready: ReadyBody;

/**
 * Without --network a connection out fails (no route, no resolver): fetch then says why and what to change,
 * in the thrown error and in the invocation's logs, instead of a bare "fetch failed".
 */
function explainNoNetwork(): void {
  const original = globalThis.fetch;
  globalThis.fetch = async (...args: Parameters<typeof fetch>) => {
    try {
      return await original(...args);
    } catch (err) {
      if (!(err instanceof TypeError) || !/fetch failed/.test(err.message)) throw err;
      const explained = new TypeError('fetch failed: this function has no outbound network; deploy it with --network to let it connect out', { cause: err });
      console.error(explained.message);
      throw explained;
    }
  };
}

/** The function's own variables, by name (a Workers handler's `env`); frozen, as Workers' bindings are. */
function ownVariables(names: string[]): Record<string, string> {
  return Object.freeze(Object.fromEntries(names.filter((name) => env[name] !== undefined).map((name) => [name, env[name]!])));
}

/**
 * The variables Lambda's Node runtimes set, so code and SDKs written for Lambda find them (the AWS SDK's
 * region, Powertools' function name). Set before the module loads (such code reads them at its top level),
 * for functions that are Lambda's by what they say — `--style lambda`, `--handler`, or an export named
 * `handler` in the bundle — not for web or Workers functions, whose agents (tracers) would take them for
 * Lambda. The function's own variables win: `--env AWS_REGION=eu-west-1` (default us-east-1).
 */
function setLambdaEnvironment(file: string, info: FunctionInfo): void {
  if (!isLambdaLike(file, info)) return;
  const own = (name: string, value: string) => {
    if (process.env[name] === undefined) process.env[name] = value;
  };
  own('AWS_REGION', process.env.AWS_DEFAULT_REGION ?? 'us-east-1');
  own('AWS_DEFAULT_REGION', process.env.AWS_REGION!);
  own('AWS_LAMBDA_FUNCTION_NAME', info.name);
  own('AWS_LAMBDA_FUNCTION_VERSION', info.version);
  own('AWS_LAMBDA_FUNCTION_MEMORY_SIZE', String(info.memoryMb));
  own('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
  own('AWS_LAMBDA_LOG_GROUP_NAME', `/aws/lambda/${info.name}`);
  own('AWS_LAMBDA_LOG_STREAM_NAME', `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[${info.version}]${process.pid}`);
  own('AWS_EXECUTION_ENV', `AWS_Lambda_nodejs${process.versions.node.split('.')[0]}.x`);
  own('_HANDLER', `index.${info.handler || 'handler'}`);
  own('LAMBDA_TASK_ROOT', CONTAINER.codeDir);
}

/** A Lambda function by what it says (its style, a named handler, or a `handler` export in the bundle's export list). */
function isLambdaLike(file: string, info: FunctionInfo): boolean {
  if (info.style) return info.style === 'lambda';
  if (info.handler) return true;
  try {
    const code = readFileSync(file, 'utf8');
    return /export\s*\{[^}]*\b(?:as\s+)?handler\b[^}]*\}|export\s+(?:const|let|var|async\s+function|function)\s+handler\b|__commonJS\(/.test(code);
  } catch {
    return false;
  }
}

/** Imports the function's module and adapts its handler; a failure is kept and reported on every invocation. */
async function load(file: string, info: FunctionInfo): Promise<ReadyBody> {
  const started = performance.now();
  setLambdaEnvironment(file, info);
  // What `import { env } from 'cloudflare:workers'` reads (the key is cli/platform-modules.ts's WORKERS_ENV_KEY).
  (globalThis as Record<symbol, unknown>)[Symbol.for('faas.workers.env')] = info.env ?? {};
  try {
    const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    invoke = adapt(mod, info);
  } catch (err) {
    initError = err instanceof Error ? err : new Error(String(err));
    console.error('function failed to load:', initError);
  }
  return {
    ready: true,
    initMs: Math.round((performance.now() - started) * 100) / 100,
    ...(initError ? { initError: initError.message } : {}),
  };
}

// Workers' globals (caches, crypto.subtle.timingSafeEqual) before any function loads.
installWorkersGlobals();

if (env[RUNTIME_ENV.prewarm] === '1') {
  // Node loads the fetch classes lazily: load them now, before any function is assigned.
  void new Response(new Request('http://localhost/', { method: 'POST', body: 'x' }).body).arrayBuffer();
  // Until a function is assigned, a built-in no-op answers: the invoker calls it once (warmUp), so this
  // runtime's invocation path is compiled before the function's first call. Init drops it.
  invoke = adapt({ default: () => new Response('') }, { name: 'prewarm', version: '0', memoryMb: 0, handler: '', eventFormat: '2.0', style: '', env: {} });
  ready = { ready: true, prewarmed: true, initMs: 0 };
} else {
  ready = await load(env[RUNTIME_ENV.functionFile] ?? CONTAINER_CODE_FILE, {
    name: env[RUNTIME_ENV.functionName] ?? 'function',
    version: env[RUNTIME_ENV.functionVersion] ?? '1',
    memoryMb: Number(env[RUNTIME_ENV.memoryMb] ?? 128),
    handler: env[RUNTIME_ENV.handler] ?? '',
    eventFormat: env[RUNTIME_ENV.eventFormat] === '1.0' ? '1.0' : '2.0',
    style: env[RUNTIME_ENV.style] ?? '',
    env: {
      ...ownVariables((env[RUNTIME_ENV.envKeys] ?? '').split(',').filter(Boolean)),
      ...bindingEnv(env[RUNTIME_ENV.bindings] ? (JSON.parse(env[RUNTIME_ENV.bindings]!) as FunctionBindings) : undefined),
    },
  });
}

/** Loads the assigned function into a prewarmed runtime, once. */
async function init(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  if (!ready.prewarmed) {
    res.writeHead(409, { 'content-type': 'application/json' }).end('{"message":"a function is loaded already"}');
    return;
  }
  const body = JSON.parse((await readBody(req)).toString('utf8')) as InitBody;
  const secrets = body.secrets ?? {};
  writeSecrets(secrets);
  Object.assign(process.env, body.env, secrets, {
    FAAS_FUNCTION_NAME: body.name,
    FAAS_FUNCTION_VERSION: body.version,
    FAAS_MEMORY_MB: String(body.memoryMb),
  });
  delete process.env[RUNTIME_ENV.prewarm];
  invoke = undefined;
  ready = await load(body.file, {
    name: body.name,
    version: body.version,
    memoryMb: body.memoryMb,
    handler: body.handler ?? '',
    eventFormat: body.eventFormat === '1.0' ? '1.0' : '2.0',
    style: body.style ?? '',
    env: { ...ownVariables([...Object.keys(body.env), ...Object.keys(secrets)]), ...bindingEnv(body.bindings) },
  });
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(ready));
}

/** One file per secret (mode 0400) in the secrets tmpfs, then the directory closed to new files. */
function writeSecrets(secrets: Record<string, string>): void {
  const names = Object.keys(secrets);
  if (names.length === 0) return;
  for (const name of names) writeFileSync(`${CONTAINER.secretsDir}/${name}`, secrets[name]!, { mode: 0o400 });
  chmodSync(CONTAINER.secretsDir, 0o500);
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Reads the rest of a request body into nothing, whatever (a web stream, say) was reading it before. */
function drain(req: http.IncomingMessage): void {
  req.removeAllListeners('data');
  req.removeAllListeners('readable');
  req.on('data', () => {});
  req.resume();
}

/** What a function threw (or rejected with) that is not an Error, in words: an object as its JSON. */
function thrownValue(err: unknown): string {
  if (typeof err !== 'object' || err === null) return `the function threw ${typeof err === 'string' ? err : String(err)}`;
  let text: string;
  try {
    text = JSON.stringify(err) ?? Object.prototype.toString.call(err);
  } catch {
    text = Object.prototype.toString.call(err);
  }
  return `the function threw (or rejected with) ${text.length > 1000 ? `${text.slice(0, 1000)}…` : text}`;
}

function sendError(res: http.ServerResponse, kind: 'init' | 'handler' | 'contract', err: unknown, logs: string): void {
  const error = err instanceof Error ? err : new Error(thrownValue(err));
  const body: ErrorBody = { message: error.message, ...(error.stack ? { stack: error.stack } : {}) };
  res.writeHead(500, {
    'content-type': 'application/json',
    [HEADER.error]: kind,
    [HEADER.logResult]: Buffer.from(logs).toString('base64'),
  });
  res.end(JSON.stringify(body));
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const control = req.headers[HEADER.control] === '1';
  if (control && url === READY_PATH) {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(ready));
    return;
  }
  if (control && url === INIT_PATH && req.method === 'POST') return init(req, res);
  const headers: IncomingInvocation['headers'] = {};
  const context: Record<string, string> = {};
  const trigger = String(req.headers[HEADER.trigger] ?? 'http');
  for (const [name, value] of Object.entries(req.headers)) {
    if (!name.startsWith(PROTOCOL_HEADER_PREFIX)) headers[name] = value;
    else if (name === HEADER.headerNames && typeof value === 'string') context[HEADER_NAMES_CONTEXT] = value;
    else if (trigger !== 'http' && name !== HEADER.deadline && typeof value === 'string') {
      // Async triggers: the function sees what started it (x-faas-trigger, -attempt, -queue, -topic, ...).
      // Callers' own x-faas-* headers never get this far: the invoker drops them.
      headers[name] = value;
      context[name.slice(PROTOCOL_HEADER_PREFIX.length)] = value;
    }
  }
  const q = url.indexOf('?');
  const invocationId = String(req.headers[HEADER.invocationId] ?? '');
  // A large upload reaches a web handler as a stream (read as it reads it); smaller ones, and every body a
  // Lambda handler gets (its event holds it whole), are read first.
  const streamBody = invoke?.streamsRequestBody === true && Number(req.headers['content-length'] ?? 0) > STREAM_BODY_BYTES;
  if (req.headers[HEADER.streamedBody] === '1' && invoke?.streamsRequestBody !== true) {
    // A handler that takes its body whole (Lambda's event holds it) gets no upload past the platform's body limit.
    // Read and dropped (not kept): the invoker is still sending it, and an answer cut short would look like a crash.
    req.resume();
    req.once('end', () => {
      res.writeHead(413, { 'content-type': 'application/json', [HEADER.error]: 'too-large' });
      res.end('{"message":"this function takes its request body whole: at most FAAS_MAX_BODY_BYTES"}');
    });
    return;
  }
  // What the function left unread is read and dropped once its answer is out: left on this keep-alive
  // connection, it would stall the next call's request behind it (the invoker waits to finish writing it).
  if (streamBody) res.once('finish', () => (req.complete ? undefined : drain(req)));
  const inv: IncomingInvocation = {
    method: req.method ?? 'GET',
    path: q === -1 ? url : url.slice(0, q),
    rawQuery: q === -1 ? '' : url.slice(q + 1),
    headers,
    ...(streamBody ? { body: EMPTY, bodyStream: req } : { body: await readBody(req) }),
    invocationId,
    receivedAt: Date.now(),
    trigger,
    context,
  };
  const deadline = Number(req.headers[HEADER.deadline] ?? Date.now() + 30_000);
  const tail = new LogTail(LOG_TAIL_BYTES);
  if (!invoke) return sendError(res, 'init', initError, '');
  const run = invoke;
  // The invoker drops the connection when the caller goes away (or the call times out): request.signal aborts.
  const caller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) caller.abort(new Error('the caller went away'));
  });
  try {
    const out = await withLogCapture(tail, invocationId, () => run(inv, { deadline, signal: caller.signal }));
    // The function may not speak the protocol: its own x-faas-* and trailer headers are dropped.
    const own = out.headers.filter(([name]) => !name.startsWith(PROTOCOL_HEADER_PREFIX) && name !== 'trailer');
    if (!out.stream) {
      const head: Array<[string, string]> = [...own, [HEADER.logResult, Buffer.from(tail.text()).toString('base64')]];
      // Explicit, so a HEAD answers the length a GET would.
      if (!own.some(([name]) => name === 'content-length')) head.push(['content-length', String(out.body.length)]);
      res.writeHead(out.status, head.flat());
      res.end(out.body);
      return;
    }
    // Streamed: chunked, the log tail (and a failure after the first byte) in trailers at the end.
    const head = own.filter(([name]) => name !== 'content-length' && name !== 'transfer-encoding');
    if (req.method === 'HEAD') {
      // No body, so no chunks and no trailers: the headers, the log tail among them, and the stream let go.
      res.writeHead(out.status, [...head.flat(), HEADER.logResult, Buffer.from(tail.text()).toString('base64')]);
      res.end();
      await (out.stream as AsyncIterable<Uint8Array> & { return?: () => Promise<unknown> })[Symbol.asyncIterator]().return?.();
      return;
    }
    res.writeHead(out.status, [...head.flat(), 'trailer', `${HEADER.logResult}, ${HEADER.error}`]);
    // Headers now, not with the first chunk: a caller of an event stream sees it open at once.
    res.flushHeaders();
    const stream = out.stream;
    try {
      await withLogCapture(tail, invocationId, () => pump(stream, res));
      res.addTrailers({ [HEADER.logResult]: Buffer.from(tail.text()).toString('base64') });
    } catch (err) {
      console.error('function stream failed:', err);
      res.addTrailers({ [HEADER.error]: 'handler', [HEADER.logResult]: Buffer.from(tail.text()).toString('base64') });
    }
    res.end();
  } catch (err) {
    // Its stack in the invocation's logs, as Lambda's log shows an unhandled error.
    if (err instanceof ContractError) {
      // In the call's log too, so `faas logs` shows why it was answered 502.
      tail.append(`ContractError: ${err.message}`);
      return sendError(res, 'contract', err, tail.text());
    }
    tail.append(err instanceof Error && err.stack ? err.stack : `Error: ${String(err)}`);
    sendError(res, 'handler', err, tail.text());
  }
}

/** Writes a streamed body with backpressure; stops (and so cancels the function's stream) once the connection is gone. */
async function pump(stream: AsyncIterable<Uint8Array>, res: http.ServerResponse): Promise<void> {
  for await (const chunk of stream) {
    if (res.destroyed) return;
    if (!res.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
  }
}

const server = http.createServer({ keepAliveTimeout: 600_000 }, (req, res) => {
  handle(req, res).catch((err) => {
    if (!res.headersSent) sendError(res, 'handler', err, '');
    else res.destroy(err as Error);
  });
});
server.headersTimeout = 0;
server.requestTimeout = 0;

// The runtime dials the invoker and serves HTTP on what it dialled. It keeps SPARE_CONNECTIONS unused
// connections open; one taking its first request is replaced at once, so the invoker rarely waits.
const unused = new Set<net.Socket>();
let dialling = 0;
let failures = 0;

function topUp(): void {
  while (unused.size + dialling < SPARE_CONNECTIONS) dial();
}

function dial(): void {
  dialling++;
  const socket = net.connect(invokerSocket);
  let connected = false;
  socket.on('error', () => {});
  socket.once('connect', () => {
    connected = true;
    dialling--;
    unused.add(socket);
    server.emit('connection', socket);
  });
  socket.once('close', () => {
    if (!connected) dialling--;
    // Closed before it served anything: the invoker refused it or is going. Back off, up to 1 s.
    if (!connected || unused.delete(socket)) {
      failures++;
      setTimeout(topUp, Math.min(1_000, 5 * 2 ** failures));
    }
  });
}

server.on('request', (req: http.IncomingMessage) => {
  if (unused.delete(req.socket as net.Socket)) {
    failures = 0;
    topUp();
  }
});
topUp();

// Benchmarks only (never set by the platform): also listen on a socket, as baselines call a container directly.
if (env.FAAS_BENCH_LISTEN) server.listen(env.FAAS_BENCH_LISTEN);

// A stray rejection or throw in a function's background work is logged; the runtime keeps serving.
process.on('unhandledRejection', (reason) => console.error('unhandled rejection:', reason));
process.on('uncaughtException', (err) => console.error('uncaught exception:', err));
process.on('SIGTERM', () => process.exit(0));
