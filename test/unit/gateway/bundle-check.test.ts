// Deploy-time handler check from the bundle's exports (the code never runs in the gateway).
import { describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { ambiguousDefault, azureTriggerProblem, handlerProblem } from '../../../gateway/routes/bundle-check.js';

describe('handlerProblem', () => {
  it.each([
    ['a default export', 'export default () => 1;', ''],
    ['a Lambda handler', 'export const handler = async () => 1;', ''],
    ['the export --handler names', 'export const hello = async () => 1; export const other = 2;', 'hello'],
    [
      'a CommonJS bundle (default only, as esbuild wraps it) with --handler',
      'var require_m = __commonJS({ "m.js"(exports, module) { module.exports.hello = () => 1; } }); export default require_m();',
      'hello',
    ],
  ])('accepts %s', async (_label, code, handler) => {
    expect(await handlerProblem(code, handler)).toBeUndefined();
  });

  it('refuses a module without a handler, naming what it exports and the styles accepted', async () => {
    expect(await handlerProblem('export const scheduled = () => 1; export const helper = 2;', '')).toMatch(
      /exports no handler \(it exports scheduled, helper\); export default a function .*--handler/,
    );
    expect(await handlerProblem('module.exports = { handler() {} };', '')).toMatch(/it exports nothing/);
  });

  it('refuses a --handler the module does not export', async () => {
    expect(await handlerProblem('export const handler = () => 1;', 'hello')).toBe('the code has no export "hello" (--handler); it exports handler');
    // A default-only ES module is not CommonJS: --handler nope would fail every call.
    expect(await handlerProblem('var f_default = (req) => new Response("x"); export { f_default as default };', 'nope')).toBe(
      'the code has no export "nope" (--handler); it exports default',
    );
  });

  it('refuses code that is not an ES module', async () => {
    expect(await handlerProblem('export default (;', '')).toMatch(/not an ES module/);
  });
});

describe('Workers modules and their triggers', () => {
  // As esbuild emits `export default { … }`: a variable exported as default.
  const workers = (methods: string) => `var index_default = { ${methods} };\nexport { index_default as default };`;
  const none = { schedules: [], queues: [] };

  it('accepts a module whose handlers match the triggers it is deployed with', async () => {
    expect(await handlerProblem(workers('fetch() {}'), '', none)).toBeUndefined();
    expect(await handlerProblem(workers('scheduled() {}'), '', { schedules: [{ cron: '* * * * *' }], queues: [] })).toBeUndefined();
    expect(await handlerProblem(workers('queue() {}'), '', { schedules: [], queues: ['q'] })).toBeUndefined();
    expect(await handlerProblem(workers('fetch() {}'), '', { schedules: [], queues: ['q'] })).toBeUndefined();
    expect(await handlerProblem(`export default { async fetch() {}, scheduled: () => 1 };`, '', none)).toBeUndefined();
  });

  it('refuses a scheduled-only module without --schedule, and --queue without a queue or fetch handler', async () => {
    expect(await handlerProblem(workers('async scheduled(c, env) {}'), '', none)).toMatch(
      /handles only scheduled\(\) and would never run: deploy it with a --schedule/,
    );
    expect(await handlerProblem(workers('scheduled() {}'), '', { schedules: [], queues: ['q'] })).toMatch(
      /--queue needs a queue\(\) \(or fetch\(\)\) handler; the default export has scheduled/,
    );
    expect(await handlerProblem(workers('queue() {}'), '', { schedules: [{}], queues: [] })).toMatch(/--schedule needs a scheduled\(\)/);
    expect(await handlerProblem(workers('helper() {}, name: "x"'), '', none)).toMatch(/no fetch, scheduled or queue handler \(it has helper, name\)/);
  });

  it('leaves alone what it cannot know statically (spreads, a default that is not an object literal)', async () => {
    expect(await handlerProblem(`var base = {}; var index_default = { ...base };\nexport { index_default as default };`, '', none)).toBeUndefined();
    expect(
      await handlerProblem(`import app from './x.js'; export default app;`.replace("import app from './x.js'; ", 'var app = makeApp(); '), '', none),
    ).toBeUndefined();
  });
});

describe('ambiguousDefault', () => {
  /** The code as `faas deploy` sends it: bundled by esbuild. */
  const bundled = async (source: string) =>
    (await build({ stdin: { contents: source, loader: 'ts' }, bundle: true, format: 'esm', write: false, logLevel: 'silent' })).outputFiles[0]!.text;

  it.each([
    ['an arrow (event, context)', 'export default async (event: any, context: any) => ({ statusCode: 200 });'],
    ['a function declaration (req, ctx)', 'export default async function handler(req: Request, ctx: any) { return new Response(req.url + ctx); }'],
    ['a named variable exported as default', 'const h = (a: any, b: any) => a + b; export default h;'],
  ])('refuses %s without --style, naming both contracts', async (_label, source) => {
    expect(await ambiguousDefault(await bundled(source))).toMatch(/--style lambda or --style web/);
  });

  it('refuses a CommonJS module.exports of two parameters (Azure v3 (context, req) or Lambda), naming --style azure', async () => {
    const cjs = async (source: string) =>
      (
        await build({
          stdin: { contents: source, loader: 'js', sourcefile: 'index.cjs' },
          bundle: true,
          format: 'esm',
          platform: 'node',
          write: false,
          logLevel: 'silent',
        })
      ).outputFiles[0]!.text;
    expect(await ambiguousDefault(await cjs('module.exports = async function (context, req) { context.res = { body: 1 }; };'))).toMatch(/--style azure/);
    expect(await ambiguousDefault(await cjs('module.exports = async (event, context) => ({ statusCode: 200 });'))).toMatch(/--style lambda/);
    expect(await ambiguousDefault(await cjs('module.exports = async (context) => ({ status: 200 });'))).toBeUndefined();
  });

  it.each([
    ['one parameter (web)', 'export default (req: Request) => new Response(req.url);'],
    ['three (a callback: Lambda)', 'export default (e: any, c: any, cb: any) => cb(null, 1);'],
    ['Netlify v2 (with config)', 'export default async (req: Request, context: any) => new Response(context.ip); export const config = { path: "/x" };'],
    ['a Workers module', 'export default { fetch(req: Request, env: any) { return new Response(env); } };'],
    ['a named Lambda handler', 'export const handler = async (event: any, context: any) => ({ statusCode: 200 });'],
  ])('accepts %s', async (_label, source) => {
    expect(await ambiguousDefault(await bundled(source))).toBeUndefined();
  });
});

describe('ambiguousDefault, edge cases', () => {
  const bundled = async (source: string) =>
    (await build({ stdin: { contents: source, loader: 'ts' }, bundle: true, format: 'esm', write: false, logLevel: 'silent' })).outputFiles[0]!.text;

  it.each([
    [
      'a Lambda module exporting handler as default too',
      'export const handler = async (event: any, context: any) => ({ statusCode: 200 }); export default handler;',
    ],
    ['a second parameter with a default (length 1)', 'export default async (req: Request, opts: any = {}) => new Response(String(opts));'],
    [
      'the text of a two-parameter export in a string',
      'const doc = "export default function (request, context) {}"; export default (req: Request) => new Response(doc);',
    ],
  ])('accepts %s', async (_label, source) => {
    expect(await ambiguousDefault(await bundled(source))).toBeUndefined();
  });

  it('refuses a two-parameter default whose name holds a $', async () => {
    expect(await ambiguousDefault(await bundled('const $h = (e: any, c: any) => e + c; export default $h;'))).toMatch(/--style/);
  });
});

describe('ambiguousDefault, code sent unbundled', () => {
  it.each([
    ['an arrow', 'export default async (event, context) => ({ statusCode: 200 });'],
    ['a function', 'export default async function (req, ctx) { return 1; }'],
  ])('refuses %s of two parameters', async (_label, code) => {
    expect(await ambiguousDefault(code)).toMatch(/--style/);
  });

  it('accepts one parameter, and two parameters named in a string elsewhere', async () => {
    expect(await ambiguousDefault('export default (req) => new Response("x");')).toBeUndefined();
    expect(await ambiguousDefault('const s = "export default (a, b) => 1"; export default (req) => new Response(s);')).toBeUndefined();
  });
});

describe('azureTriggerProblem', () => {
  const module = (registrations: string) => `const registry = (globalThis[Symbol.for("faas.azure.app")] ??= {});\n${registrations}`;
  const none = { schedules: [], queues: [] };

  it("refuses an app.timer without --schedule, naming the code's own schedule", () => {
    const code = module(`app.timer("cleanup", {\n  schedule: "0 */5 * * * *",\n  handler: async (timer, context) => {}\n});`);
    expect(azureTriggerProblem(code, none)).toBe(
      "the module registers app.timer('cleanup') with schedule '0 */5 * * * *', and the deploy attaches no schedule: deploy it with --schedule '0 */5 * * * *'",
    );
    expect(azureTriggerProblem(code, { schedules: [{ cron: '0 */5 * * * *' }], queues: [] })).toBeUndefined();
  });

  it('refuses a queue handler without --queue, naming its queue', () => {
    const code = module(`app.storageQueue("orders", { queueName: "orders-in", connection: "X", handler: async () => {} });`);
    expect(azureTriggerProblem(code, none)).toMatch(/deploy it with --queue orders-in$/);
    expect(azureTriggerProblem(code, { schedules: [], queues: ['orders-in'] })).toBeUndefined();
  });

  it('leaves modules that register only HTTP handlers, and other modules, alone', () => {
    expect(azureTriggerProblem(module(`app.http("h", { handler: async () => ({}) });`), none)).toBeUndefined();
    expect(azureTriggerProblem(`app.timer("x", { schedule: "* * * * *" })`, none)).toBeUndefined();
  });
});
