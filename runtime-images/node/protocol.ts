// The wire protocol between the invoker and the runtime server inside a function container.
//
// Who connects to whom: the invoker listens on INVOKER_SOCKET_NAME in a directory it alone can write,
// mounted read-only into the container at /run/faas; the runtime connects out to it (as Lambda's
// runtimes call the Runtime API) and serves HTTP over the connections it opened, the invoker being the
// HTTP client. So the platform never opens a path the function could create or replace.

/**
 * The container's layout, shared by the driver (mounts, user, environment), the starter and code cache
 * (what they write on the host) and the runtime (what it reads): defined here only.
 */
export const CONTAINER = {
  /** The function's code, mounted read-only. */
  codeDir: '/fn',
  /** The bundle's file name in codeDir. */
  codeFile: 'index.mjs',
  /** The invoker's socket directory, mounted read-only. */
  socketDir: '/run/faas',
  /** The function's secrets, one file each (mode 0400), in a tmpfs: held in the container's memory, never on disk. */
  secretsDir: '/run/secrets',
  /** `nobody`: function code never runs as root. */
  uid: 65534,
  gid: 65534,
} as const;

/** The invoker's listening socket, in the directory mounted read-only at CONTAINER.socketDir. */
export const INVOKER_SOCKET_NAME = 'invoker.sock';

/** Path of the bundle inside the container. */
export const CONTAINER_CODE_FILE = `${CONTAINER.codeDir}/${CONTAINER.codeFile}`;

/** The runtime's environment, set by the driver (names only the platform may use: deploys refuse FAAS_*). */
export const RUNTIME_ENV = {
  functionName: 'FAAS_FUNCTION_NAME',
  functionVersion: 'FAAS_FUNCTION_VERSION',
  memoryMb: 'FAAS_MEMORY_MB',
  functionFile: 'FAAS_FUNCTION_FILE',
  invokerSocket: 'FAAS_INVOKER_SOCKET',
  /** '1': a prewarmed runtime, waiting for INIT_PATH. */
  prewarm: 'FAAS_PREWARM',
  /** The export that handles calls ('' or unset: found by shape). */
  handler: 'FAAS_HANDLER',
  /** '1.0' or '2.0': the HTTP event Lambda-style handlers get. */
  eventFormat: 'FAAS_EVENT_FORMAT',
  /** The handler contract (web, lambda, workers, fission; '' or unset: found by shape). */
  style: 'FAAS_STYLE',
  /** Comma-separated names of the function's own variables (Workers handlers get them as `env`). */
  envKeys: 'FAAS_ENV_KEYS',
  /** '1' when the function may connect out (--network); '0': failed connections say so. */
  network: 'FAAS_NETWORK',
  /** JSON of FunctionBindings: the function's KV namespaces and queue producers (absent: none). */
  bindings: 'FAAS_BINDINGS',
} as const;

/** The bindings a function is deployed with, as the runtime makes them into `env` entries. */
export interface FunctionBindings {
  /** KV namespace binding names. */
  kv: string[];
  /** Queue producer binding names. */
  queues: string[];
}

/**
 * The invoker's bindings socket, beside INVOKER_SOCKET_NAME in the channel directory, for a function with
 * bindings: the runtime asks it (HTTP) `GET|PUT|DELETE /kv/<binding>?key=` (value as the body; put takes
 * `expiration` or `expirationTtl`), `GET /kv/<binding>/keys?prefix=&limit=&cursor=` and `POST
 * /queues/<binding>` (BindingsWire['send']).
 */
export const BINDINGS_SOCKET_NAME = 'bindings.sock';

/** Headers of the bindings wire: a KV entry's metadata (base64url of its JSON) and expiration (epoch s). */
export const BINDING_HEADER = { metadata: 'x-kv-metadata', expiration: 'x-kv-expiration' } as const;

export interface BindingsWire {
  /** Messages for a queue producer binding: each body base64, with the content type its consumer reads it by. */
  send: { messages: Array<{ body: string; contentType: string }> };
}

/** Connections the runtime keeps open and unused, ready for the invoker's next concurrent request. */
export const SPARE_CONNECTIONS = 2;

/** Answers 200 with ReadyBody once the function module is loaded (or failed to load). */
export const READY_PATH = '/_faas/ready';

/**
 * A prewarmed runtime (started with FAAS_PREWARM=1, no function yet) loads its function when this is
 * POSTed an InitBody, once; it answers 200 with a ReadyBody.
 */
export const INIT_PATH = '/_faas/init';

export interface InitBody {
  /** Path of the bundle inside the container. */
  file: string;
  name: string;
  version: string;
  memoryMb: number;
  /** The function's environment variables, set before its module loads. */
  env: Record<string, string>;
  /** The function's secrets by name: set as environment variables and written to CONTAINER.secretsDir before its module loads. */
  secrets?: Record<string, string>;
  /** The export that handles calls ('' : found by shape). */
  handler?: string;
  /** The HTTP event Lambda-style handlers get. */
  eventFormat?: '1.0' | '2.0';
  /** The handler contract ('' : found by shape). */
  style?: string;
  /** The function's bindings (KV, queue producers), when it has any. */
  bindings?: FunctionBindings;
}

export const HEADER = {
  /** Invocation id (UUID); Lambda handlers see it as context.awsRequestId. */
  invocationId: 'x-faas-invocation-id',
  /** Epoch ms after which the invoker stops waiting. */
  deadline: 'x-faas-deadline',
  /** What triggered the invocation (http, async, queue, event, cron). */
  trigger: 'x-faas-trigger',
  /**
   * On a failed invocation: 'init' (module failed to load), 'handler' (handler threw), 'contract' (it
   * returned what fits no contract of its style), or 'too-large' (a streamed upload to a handler that
   * takes its body whole: refused unread, the function never ran).
   */
  error: 'x-faas-error',
  /** Set by the invoker on READY_PATH and INIT_PATH requests: a caller's own path never reaches them (callers' x-faas-* are dropped). */
  control: 'x-faas-control',
  /** Set by the invoker when the request body is a streamed upload (over FAAS_MAX_BODY_BYTES). */
  streamedBody: 'x-faas-streamed-body',
  /** Base64 of the invocation's console output, last 4 KiB. */
  logResult: 'x-faas-log-result',
  /**
   * The request's header names as its client spelt them, comma-separated: sent (as the `header-names`
   * context) only to functions whose event keeps the spelling (Lambda's REST 1.0 event).
   */
  headerNames: 'x-faas-header-names',
} as const;

/** The context key of HEADER.headerNames (context keys travel as `x-faas-<key>`). */
export const HEADER_NAMES_CONTEXT = 'header-names';

/** Every protocol header starts with this; the runtime strips them before the function sees the request. */
export const PROTOCOL_HEADER_PREFIX = 'x-faas-';

/** Console output kept per invocation, as Lambda's LogResult tail. */
export const LOG_TAIL_BYTES = 4096;

export interface ReadyBody {
  ready: true;
  /** True while a prewarmed runtime waits for INIT_PATH. */
  prewarmed?: boolean;
  initMs: number;
  initError?: string;
}

/** Body of a failed invocation (with the x-faas-error header). */
export interface ErrorBody {
  message: string;
  stack?: string;
}

/** One queue message of a batch (x-faas-batch-size set): the invocation's JSON body is `{ messages: BatchedMessage[] }`. */
export interface BatchedMessage {
  id: string;
  body: string;
  bodyEncoding: 'utf8' | 'base64';
  contentType: string;
  sentAt: string;
  attempt: number;
  /** SQS-like message attributes. */
  attributes?: Record<string, string>;
}
