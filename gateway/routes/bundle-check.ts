// A deploy's code is checked before it is accepted: the bundle's exports must hold a handler the runtime
// can call, so a module without one is refused now (400 naming what it exports) instead of failing at its
// first call. Static: the exports are read with es-module-lexer, the code never runs in the gateway.
import { parse as parseProgram, type Node } from 'acorn';
import { init, parse } from 'es-module-lexer';

const ACCEPTED =
  "export default a function (request) => Response, a Workers module ({ fetch, scheduled, queue }) or a Lambda handler, or export const handler = async (event, context) => …, OpenWhisk's main(params) or Knative's handle(context, body); or name the export with --handler (and the contract with --style)";

/** The HTTP methods a route handler module exports handlers by (runtime's METHOD_EXPORTS). */
const HTTP_METHOD_EXPORTS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** What the @azure/functions module `faas deploy` bundles (cli/platform-modules.ts) registers handlers under. */
const AZURE_REGISTRATION = 'Symbol.for("faas.azure.app")';

/** The triggers a deploy attaches: what a Workers module must handle besides HTTP. */
export interface DeployedTriggers {
  schedules: readonly unknown[];
  queues: readonly unknown[];
}

type Literal = Node & { type: 'Identifier' | 'Literal'; name?: string; value?: unknown };
type Property = Node & { type: 'Property'; key: Literal; value: Node; computed: boolean };
type ObjectExpression = Node & { type: 'ObjectExpression'; properties: Array<Property | Node> };

/**
 * The handler names of a default export written as an object literal (`export default { fetch() {}, … }`,
 * which esbuild emits as a variable exported as default); undefined when the default export is anything else.
 */
function workersHandlers(code: string, local: string | undefined): Set<string> | undefined {
  // Parsing a large bundle takes time: only when the default export can be an object literal at all.
  const literal =
    local && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(local) ? new RegExp(`\\b(?:var|let|const)\\s+${local.replace(/\$/g, '\\$')}\\s*=\\s*\\{`) : undefined;
  if (!/export\s+default\s*\{/.test(code) && !literal?.test(code)) return undefined;
  let program: Node & { body: Node[] };
  try {
    program = parseProgram(code, { ecmaVersion: 'latest', sourceType: 'module' }) as Node & { body: Node[] };
  } catch {
    return undefined;
  }
  let object: ObjectExpression | undefined;
  for (const statement of program.body) {
    const s = statement as Node & { declaration?: Node; declarations?: Array<{ id: Literal; init: Node | null }> };
    if (s.type === 'ExportDefaultDeclaration' && s.declaration?.type === 'ObjectExpression') object = s.declaration as ObjectExpression;
    if (local && s.type === 'VariableDeclaration') {
      for (const d of s.declarations ?? []) if (d.id.name === local && d.init?.type === 'ObjectExpression') object = d.init as ObjectExpression;
    }
  }
  if (!object) return undefined;
  const names = new Set<string>();
  for (const p of object.properties) {
    if (p.type !== 'Property' || (p as Property).computed) return undefined; // spreads or computed keys: not known statically
    const key = (p as Property).key;
    names.add(String(key.name ?? key.value));
  }
  return names;
}

/** What a Workers module lacks for the triggers it is deployed with, or undefined. */
function workersProblem(handlers: Set<string>, triggers: DeployedTriggers): string | undefined {
  const has = (name: string) => handlers.has(name);
  const list = [...handlers].join(', ') || 'nothing';
  if (!has('fetch') && !has('scheduled') && !has('queue')) return `the default export has no fetch, scheduled or queue handler (it has ${list}); ${ACCEPTED}`;
  if (triggers.schedules.length > 0 && !has('scheduled') && !has('fetch'))
    return `--schedule needs a scheduled() (or fetch()) handler; the default export has ${list}`;
  if (triggers.queues.length > 0 && !has('queue') && !has('fetch')) return `--queue needs a queue() (or fetch()) handler; the default export has ${list}`;
  if (!has('fetch') && triggers.schedules.length === 0 && triggers.queues.length === 0) {
    const wants = has('scheduled') ? 'a --schedule' : 'a --queue';
    return `the module handles only ${[...handlers].filter((h) => h === 'scheduled' || h === 'queue').join(' and ')}() and would never run: deploy it with ${wants}, or add fetch()`;
  }
  return undefined;
}

/**
 * A parameter list's length as Function.length counts it: the parameters before the first with a default
 * or the rest parameter (defaults and destructuring read at depth 0 only).
 */
function countParams(list: string): number {
  const params: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of list) {
    if ('([{'.includes(ch)) depth += 1;
    else if (')]}'.includes(ch)) depth -= 1;
    if (ch === ',' && depth === 0) {
      params.push(current);
      current = '';
    } else current += ch;
  }
  if (current.trim()) params.push(current);
  let length = 0;
  for (const param of params) {
    const text = param.trim();
    if (text.startsWith('...') || /^[^=]*=(?!>)/.test(text.replace(/[([{][\s\S]*$/, ''))) break;
    length += 1;
  }
  return length;
}

/**
 * How many parameters the default export takes, when it is a function written out in the bundle
 * (`function f(a, b)`, `var f = async (a, b) =>`, `export default function (a, b)`); undefined otherwise.
 */
export function defaultExportArity(code: string, local: string | undefined, depth = 0, at?: number): number | undefined {
  const params = String.raw`\(((?:[^()]|\([^()]*\))*)\)`;
  // `export default (a, b) => …` as written (code sent to the API unbundled): read at the export itself.
  if (at !== undefined) {
    const statement = code.slice(at, at + 2_000);
    for (const pattern of [
      String.raw`^default\s+(?:async\s+)?function\s*\*?\s*[A-Za-z0-9_$]*\s*${params}`,
      String.raw`^default\s+(?:async\s*)?${params}\s*=>`,
      String.raw`^default\s+(?:async\s+)?([A-Za-z_$][A-Za-z0-9_$]*)\s*=>`,
    ]) {
      const match = new RegExp(pattern).exec(statement);
      if (match) return countParams(match[1] ?? '');
    }
    // CommonJS bundled by esbuild: `export default require_x();` of `var require_x = __commonJS({ … module.exports = function (a, b) …`.
    const required = /^default\s+(require_[A-Za-z0-9_$]+)\(\)/.exec(statement);
    if (required) return commonJsExportArity(code, required[1]!, params);
  }
  const name = local && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(local) ? local.replace(/\$/g, '\\$') : undefined;
  // esbuild writes every default export as a named binding (`var stdin_default = …; export { … as default }`).
  const patterns = [
    ...(name
      ? [
          String.raw`(?:async\s+)?function\s*\*?\s*${name}\s*${params}`,
          String.raw`(?:var|let|const)\s+${name}\s*=\s*(?:async\s+)?function\s*\*?\s*[A-Za-z0-9_$]*\s*${params}`,
          String.raw`(?:var|let|const)\s+${name}\s*=\s*(?:async\s*)?${params}\s*=>`,
          String.raw`(?:var|let|const)\s+${name}\s*=\s*(?:async\s+)?([A-Za-z_$][A-Za-z0-9_$]*)\s*=>`,
        ]
      : []),
  ];
  for (const pattern of patterns) {
    const match = new RegExp(pattern).exec(code);
    if (match) return countParams(match[1] ?? '');
  }
  // `var stdin_default = h;` (esbuild's name for a default export of a variable): follow the name, twice at most.
  const alias = name ? new RegExp(String.raw`(?:var|let|const)\s+${name}\s*=\s*([A-Za-z_$][A-Za-z0-9_$]*)\s*;`).exec(code) : null;
  if (alias && depth < 2) return defaultExportArity(code, alias[1], depth + 1);
  return undefined;
}

/** Parameters of the function a CommonJS module (esbuild's `require_x` wrapper) assigns to module.exports, or undefined. */
function commonJsExportArity(code: string, wrapper: string, params: string): number | undefined {
  const start = code.indexOf(`var ${wrapper} = __commonJS(`);
  if (start === -1) return undefined;
  const body = code.slice(start, start + 200_000);
  for (const pattern of [
    String.raw`module\.exports\s*=\s*(?:async\s+)?function\s*\*?\s*[A-Za-z0-9_$]*\s*${params}`,
    String.raw`module\.exports\s*=\s*(?:async\s*)?${params}\s*=>`,
  ]) {
    const match = new RegExp(pattern).exec(body);
    if (match) return countParams(match[1] ?? '');
  }
  return undefined;
}

/**
 * A default-exported function of two parameters is a Lambda handler (event, context) or a web handler
 * (request, context) as Netlify and Vercel write it: which one is not in its shape. Recognised as web when
 * the module also exports Netlify's `config`; otherwise refused (a message naming --style) unless chosen.
 */
export async function ambiguousDefault(code: string): Promise<string | undefined> {
  await init;
  let exports: ReturnType<typeof parse>[1];
  try {
    exports = parse(code)[1];
  } catch {
    return undefined;
  }
  const names = exports.map((e) => e.n);
  // Beside `config`: Netlify's (web); beside `handler`: a Lambda module (the name says so).
  if (!names.includes('default') || names.includes('config') || names.includes('handler')) return undefined;
  const entry = exports.find((e) => e.n === 'default');
  if (defaultExportArity(code, entry?.ln, 0, entry?.s) !== 2) return undefined;
  return 'the default export takes two parameters: a Lambda handler (event, context) or a web handler (request, context) as Netlify and Vercel write it — which one is not in its shape. Deploy it with --style lambda or --style web (or --style vercel for a Vercel Node (req, res) function, --style openfaas for OpenFaaS, --style azure for Azure Functions v3 (context, req))';
}

/** Why this code cannot be deployed with this handler setting and these triggers, or undefined when it can. */
export async function handlerProblem(code: string, handler: string, triggers: DeployedTriggers = { schedules: [], queues: [] }): Promise<string | undefined> {
  await init;
  let names: string[];
  let defaultLocal: string | undefined;
  try {
    const exports = parse(code)[1];
    names = exports.map((e) => e.n);
    defaultLocal = exports.find((e) => e.n === 'default')?.ln;
  } catch (err) {
    return `the code is not an ES module (${(err as Error).message}); \`faas deploy\` bundles a function into one`;
  }
  const found = names.length ? names.join(', ') : 'nothing';
  if (handler) {
    // A CommonJS module bundled as ESM (esbuild's __commonJS wrapper) has only a default export, module.exports:
    // its named handler is checked when it loads. Any other default-only module has no export of that name.
    if (names.includes(handler) || (names.length === 1 && names[0] === 'default' && code.includes('__commonJS('))) return undefined;
    return `the code has no export "${handler}" (--handler); it exports ${found}`;
  }
  if (names.includes('default')) {
    // A Workers module (an object literal) is checked against the triggers it is deployed with.
    const handlers = workersHandlers(code, defaultLocal);
    return handlers ? workersProblem(handlers, triggers) : undefined;
  }
  if (names.includes('handler')) return undefined;
  // Route handlers named for HTTP methods (Vercel, Next.js): export function GET(request).
  if (names.some((n) => HTTP_METHOD_EXPORTS.has(n))) return undefined;
  // Azure Functions v4: handlers registered with app.http/timer/storageQueue (faas deploy's @azure/functions).
  if (code.includes(AZURE_REGISTRATION)) return undefined;
  // OpenWhisk's main(params) and Knative Functions' handle(context, body), by their names.
  if (names.includes('main') || names.includes('handle')) return undefined;
  return `the code exports no handler (it exports ${found}); ${ACCEPTED}`;
}

/**
 * Azure Functions v4 registrations whose trigger the deploy does not attach: `app.timer(name, { schedule })`
 * without --schedule, `app.storageQueue(name, { queueName })` without --queue — on Azure they run, here they
 * would be deployed and never called. Refused naming the flag (with the code's own schedule or queue).
 * Read from the bundle's text: the registrations' string literals as esbuild prints them.
 */
/** Five or six fields: a cron expression to suggest as it is (an Azure TimeSpan or %setting% is not). */
const CRON_LIKE = /^\S+(?: \S+){4,5}$/;

export function azureTriggerProblem(code: string, triggers: { schedules: readonly unknown[]; queues: readonly unknown[] }): string | undefined {
  if (!code.includes(AZURE_REGISTRATION)) return undefined;
  const literal = String.raw`["'\`]([^"'\`]+)["'\`]`;
  if (triggers.schedules.length === 0) {
    const timer = new RegExp(String.raw`\bapp\.timer\(\s*${literal}\s*,\s*\{[\s\S]{0,400}?\bschedule\s*:\s*${literal}`).exec(code);
    if (timer) {
      const flag = CRON_LIKE.test(timer[2]!) ? `--schedule '${timer[2]}'` : `--schedule <cron> (its schedule '${timer[2]}' is not a cron expression)`;
      return `the module registers app.timer('${timer[1]}') with schedule '${timer[2]}', and the deploy attaches no schedule: deploy it with ${flag}`;
    }
  }
  if (triggers.queues.length === 0) {
    const queue = new RegExp(String.raw`\bapp\.(?:storageQueue|serviceBusQueue)\(\s*${literal}\s*,\s*\{[\s\S]{0,400}?\bqueueName\s*:\s*${literal}`).exec(code);
    if (queue)
      return `the module registers a queue handler '${queue[1]}' for queue '${queue[2]}', and the deploy consumes no queue: deploy it with --queue ${queue[2]}`;
  }
  return undefined;
}
