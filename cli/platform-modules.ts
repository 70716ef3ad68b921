// Modules other platforms' code imports from its host, resolved by `faas deploy` to the platform's own:
// `cloudflare:workers` (env, WorkerEntrypoint), `cloudflare:node` (httpServerHandler: a Node http server in
// the function answering its fetch calls) and `@azure/functions` (app.http/timer/storageQueue, registered
// for the runtime to call; HttpResponse); and the `@aws-sdk/*` packages the runtime image carries. Each is small source text bundled into the function, reading what
// the runtime puts on globalThis under a Symbol.for key shared with it.
import type { Plugin } from 'esbuild';
import { providedAwsPackages } from '../runtime-images/node/build-image.js';

/**
 * The key under which the runtime puts the function's variables before its module loads; `import { env }
 * from 'cloudflare:workers'` reads it. Shared with runtime-images/node/src/main.ts.
 */
export const WORKERS_ENV_KEY = 'faas.workers.env';

/** Where `app.*` registrations go. Shared with runtime-images/node/src/azure-functions.ts (AZURE_REGISTRY_KEY). */
const AZURE_REGISTRY_KEY = 'faas.azure.app';

/** `cloudflare:workers` as a Workers script imports it: `env`, WorkerEntrypoint and RpcTarget; what needs Cloudflare's network says so. */
const CLOUDFLARE_WORKERS = `
export const env = globalThis[Symbol.for(${JSON.stringify(WORKERS_ENV_KEY)})] ?? {};
export class WorkerEntrypoint { constructor(ctx, env) { this.ctx = ctx; this.env = env; } }
export class RpcTarget {}
const unsupported = (what) => class { constructor() { throw new Error(what + ' are not available on this platform (Cloudflare only)'); } };
export const DurableObject = unsupported('Durable Objects');
export const WorkflowEntrypoint = unsupported('Workflows');
`;

/**
 * \`cloudflare:node\`'s httpServerHandler({ port }): the Workers fetch handler of a Node http server the
 * function starts itself (\`http.createServer(app).listen(port)\`), reached on the container's loopback.
 */
const CLOUDFLARE_NODE = `
export function httpServerHandler(options) {
  const port = typeof options === 'number' ? options : options?.port;
  if (typeof port !== 'number') throw new Error('httpServerHandler({ port }): the port the function\\'s http server listens on');
  return {
    async fetch(request) {
      const url = new URL(request.url);
      const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : request.body;
      const headers = new Headers(request.headers);
      headers.set('host', url.host);
      const answer = await fetch('http://127.0.0.1:' + port + url.pathname + url.search, { method: request.method, headers, body, duplex: 'half', redirect: 'manual' });
      return new Response(answer.body, answer);
    },
  };
}
`;

/** `@azure/functions` (v4 programming model): registrations kept for the runtime, and HttpResponse. */
const AZURE_FUNCTIONS = `
const registry = (globalThis[Symbol.for(${JSON.stringify(AZURE_REGISTRY_KEY)})] ??= { http: [], timer: [], queue: [] });
const options = (o) => (typeof o === 'function' ? { handler: o } : { ...o });
const register = (kind, fixed = {}) => (name, o) => { registry[kind].push({ name, ...options(o), ...fixed }); };
const unsupported = (what) => () => { throw new Error('app.' + what + '() triggers are not available on this platform: use app.http, app.timer or app.storageQueue'); };
export const app = {
  http: register('http'),
  get: register('http', { methods: ['GET'] }),
  post: register('http', { methods: ['POST'] }),
  put: register('http', { methods: ['PUT'] }),
  patch: register('http', { methods: ['PATCH'] }),
  deleteRequest: register('http', { methods: ['DELETE'] }),
  timer: register('timer'),
  storageQueue: register('queue'),
  serviceBusQueue: register('queue'),
  serviceBusTopic: unsupported('serviceBusTopic'),
  storageBlob: unsupported('storageBlob'),
  eventHub: unsupported('eventHub'),
  eventGrid: unsupported('eventGrid'),
  cosmosDB: unsupported('cosmosDB'),
  generic: unsupported('generic'),
  setup() {},
  hook: { appStart() {}, appTerminate() {}, preInvocation() {}, postInvocation() {} },
};
export class HttpResponse extends Response {
  constructor(init = {}) {
    const headers = new Headers(init.headers);
    let body = init.body ?? null;
    if (init.jsonBody !== undefined) {
      body = JSON.stringify(init.jsonBody);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    }
    for (const c of init.cookies ?? []) headers.append('set-cookie', c.name + '=' + c.value + (c.path ? '; Path=' + c.path : '') + (c.maxAge !== undefined ? '; Max-Age=' + c.maxAge : '') + (c.httpOnly ? '; HttpOnly' : '') + (c.secure ? '; Secure' : '') + (c.sameSite ? '; SameSite=' + c.sameSite : ''));
    super(body, { status: init.status ?? 200, headers });
    this.cookies = init.cookies ?? [];
  }
}
export class HttpRequest {}
export class InvocationContext {}
export const input = new Proxy({}, { get: (_, what) => unsupported('input.' + String(what)) });
export const output = new Proxy({}, { get: (_, what) => unsupported('output.' + String(what)) });
export const trigger = new Proxy({}, { get: (_, what) => unsupported('trigger.' + String(what)) });
`;

/** Marks the plugin's own nested resolve. */
const RESOLVING = Symbol('faas-resolving');

const MODULES: Record<string, string> = {
  'cloudflare:workers': CLOUDFLARE_WORKERS,
  'cloudflare:node': CLOUDFLARE_NODE,
  '@azure/functions': AZURE_FUNCTIONS,
};

/** Resolves the modules above to their source, whatever is installed under those names. */
export const platformModules: Plugin = {
  name: 'faas-platform-modules',
  setup(b) {
    // The AWS SDK v3 clients the runtime image carries (as Lambda's Node runtimes do): bundled when installed
    // beside the function (its own version), else left to the image's /node_modules.
    const provided = providedAwsPackages();
    b.onResolve({ filter: /^@aws-sdk\// }, async (args) => {
      if (args.pluginData === RESOLVING) return undefined;
      const name = args.path.split('/').slice(0, 2).join('/');
      if (!provided.has(name)) return undefined;
      const found = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: RESOLVING });
      return found.errors.length > 0 ? { path: args.path, external: true } : undefined;
    });
    b.onResolve({ filter: /^(cloudflare:workers|cloudflare:node|@azure\/functions)$/ }, (args) => ({ path: args.path, namespace: 'faas-platform' }));
    b.onLoad({ filter: /.*/, namespace: 'faas-platform' }, (args) => ({ contents: MODULES[args.path]!, loader: 'js' }));
  },
};
