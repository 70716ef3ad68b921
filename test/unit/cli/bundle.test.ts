// The CLI's bundler: directory entries, files shipped beside the code, CommonJS globals, packages with native addons shipped whole.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleFunction, entryOf } from '../../../cli/bundle.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'faas-bundle-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const write = (file: string, text: string) => {
  mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  writeFileSync(path.join(dir, file), text);
};

describe('bundleFunction', () => {
  it('deploys a directory by its entry file and ships the included files with their relative paths', async () => {
    write('site/index.ts', `export default () => new Response('hi');`);
    write('site/templates/page.html', '<h1>page</h1>');
    write('site/templates/part.html', '<p>part</p>');
    write('site/secret.env', 'X=1');
    expect(entryOf(path.join(dir, 'site'))).toBe(path.join(dir, 'site', 'index.ts'));
    const bundle = await bundleFunction(path.join(dir, 'site'), ['templates/**']);
    expect([...bundle.files.keys()]).toEqual(['templates/page.html', 'templates/part.html']);
    expect(bundle.files.get('templates/page.html')!.toString()).toBe('<h1>page</h1>');
  });

  it('gives CommonJS code __dirname and __filename, and leaves the code’s own declarations alone', async () => {
    write(
      'cjs/handler.js',
      `const path = require('node:path'); exports.handler = async () => ({ statusCode: 200, body: path.join(__dirname, 'tpl.html') + ' ' + __filename });`,
    );
    write(
      'esm/index.mjs',
      `import path from 'node:path'; import { fileURLToPath } from 'node:url'; const __dirname = path.dirname(fileURLToPath(import.meta.url)); export default () => __dirname;`,
    );
    const cjs = await bundleFunction(path.join(dir, 'cjs', 'handler.js'));
    expect(cjs.code).toContain('__faas_dirname');
    const esm = await bundleFunction(path.join(dir, 'esm', 'index.mjs'));
    // The bundle parses: its own __dirname does not clash with the banner's.
    await expect(
      import(`data:text/javascript,${encodeURIComponent(esm.code.replace(/import\.meta\.url/g, JSON.stringify('file:///fn/index.mjs')))}`),
    ).resolves.toBeDefined();
  });

  it('ships a package with a native addon unbundled, with its own files, leaving out other systems’ prebuilds', async () => {
    write('native/node_modules/fastthing/index.js', `module.exports = require('node-gyp-build')(__dirname);`);
    write('native/node_modules/fastthing/prebuilds/linux-x64/fast.glibc.node', 'linux binary');
    write('native/node_modules/fastthing/prebuilds/darwin-arm64/fast.node', 'mac binary');
    write('native/node_modules/fastthing/prebuilds/win32-x64/fast.node', 'windows binary');
    write('native/node_modules/fastthing/package.json', '{"name":"fastthing","main":"index.js","dependencies":{"node-gyp-build":"4"}}');
    write('native/node_modules/node-gyp-build/index.js', `module.exports = () => 'loaded';`);
    write('native/node_modules/node-gyp-build/package.json', '{"name":"node-gyp-build","main":"index.js"}');
    write('native/node_modules/purething/index.js', `module.exports = 'pure';`);
    write('native/node_modules/purething/package.json', '{"name":"purething","main":"index.js"}');
    write('native/index.js', `import fast from 'fastthing'; import pure from 'purething'; export default () => String(fast) + pure;`);
    const bundle = await bundleFunction(path.join(dir, 'native'));
    expect(bundle.native).toEqual(['fastthing']);
    expect(bundle.code).toMatch(/from "fastthing"/);
    expect(bundle.code).not.toMatch(/from "purething"/);
    expect([...bundle.files.keys()].sort()).toEqual([
      'node_modules/fastthing/index.js',
      'node_modules/fastthing/package.json',
      'node_modules/fastthing/prebuilds/linux-x64/fast.glibc.node',
      'node_modules/node-gyp-build/index.js',
      'node_modules/node-gyp-build/package.json',
    ]);
  });

  it('ships a package that loads its addon from a platform package (sharp’s layout) with that package', async () => {
    write(
      'img/node_modules/imgthing/index.js',
      `const p = process.platform + '-' + process.arch; module.exports = require('@imgthing/' + p + '/imgthing.node');`,
    );
    write('img/node_modules/imgthing/package.json', '{"name":"imgthing","main":"index.js","optionalDependencies":{"@imgthing/linux-x64":"1"}}');
    write('img/node_modules/@imgthing/linux-x64/lib/imgthing.node', 'binary');
    write(
      'img/node_modules/@imgthing/linux-x64/package.json',
      '{"name":"@imgthing/linux-x64","os":["linux"],"cpu":["x64"],"exports":{"./imgthing.node":"./lib/imgthing.node"}}',
    );
    write('img/index.js', `import img from 'imgthing/index.js'; export default () => String(img);`);
    const bundle = await bundleFunction(path.join(dir, 'img'));
    expect(bundle.native).toEqual(['imgthing']);
    expect(bundle.code).toMatch(/from "imgthing\/index\.js"/);
    expect(bundle.files.has('node_modules/@imgthing/linux-x64/lib/imgthing.node')).toBe(true);
  });

  it('refuses a .node file of the function’s own, not of an installed package, naming it', async () => {
    write('loose/addon.node', 'not really a binary');
    write('loose/index.js', `import addon from './addon.node'; export default () => String(addon);`);
    await expect(bundleFunction(path.join(dir, 'loose'))).rejects.toThrow(/loads a native addon \(addon\.node\) that is not part of an installed package/);
  });

  it('gives each module its own __dirname, __filename and import.meta.url, and ships files a package reads beside its modules', async () => {
    write(
      'nested/index.js',
      `import { page } from './lib/render.mjs'; import part from './lib/part.cjs'; import cow from 'cowthing'; export default () => [page(), part(), cow()].join('|');`,
    );
    write(
      'nested/lib/render.mjs',
      `import fs from 'node:fs'; export const page = () => fs.readFileSync(new URL('./templates/page.html', import.meta.url), 'utf8');`,
    );
    write(
      'nested/lib/part.cjs',
      `module.exports = () => require('fs').readFileSync(require('path').join(__dirname, 'templates', 'part.html'), 'utf8') + __filename.endsWith('/lib/part.cjs');`,
    );
    write('nested/lib/templates/page.html', 'PAGE');
    write('nested/lib/templates/part.html', 'PART');
    write('nested/node_modules/cowthing/package.json', '{"name":"cowthing","main":"lib/index.js"}');
    write(
      'nested/node_modules/cowthing/lib/index.js',
      `module.exports = () => require('fs').readFileSync(require('path').join(__dirname, '..', 'cows', 'default.cow'), 'utf8');`,
    );
    write('nested/node_modules/cowthing/cows/default.cow', 'MOO');
    write('nested/node_modules/cowthing/README.md', 'docs');
    const bundle = await bundleFunction(path.join(dir, 'nested'), ['lib/templates/**']);
    expect([...bundle.files.keys()].sort()).toEqual([
      'lib/templates/page.html',
      'lib/templates/part.html',
      'node_modules/cowthing/cows/default.cow',
      'node_modules/cowthing/package.json',
    ]);
    // Laid out as the container's code directory, the bundle finds every file from every module.
    const codeDir = path.join(dir, 'nested-out');
    for (const [name, content] of bundle.files) {
      mkdirSync(path.dirname(path.join(codeDir, name)), { recursive: true });
      writeFileSync(path.join(codeDir, name), content);
    }
    writeFileSync(path.join(codeDir, 'index.mjs'), bundle.code);
    const mod = (await import(path.join(codeDir, 'index.mjs'))) as { default: () => string };
    expect(mod.default()).toBe('PAGE|PARTtrue|MOO');
  });

  it('leaves a module that binds __dirname itself (an import, destructuring, a list) its own', async () => {
    write(
      'own/paths.mjs',
      `import path from 'node:path'; import { fileURLToPath } from 'node:url'; export const __dirname = path.dirname(fileURLToPath(import.meta.url));`,
    );
    write('own/lib/uses.mjs', `import { __dirname } from '../paths.mjs'; export const where = () => __dirname;`);
    write('own/lib/listed.cjs', `let __filename, other; __filename = 'mine'; module.exports = () => __filename;`);
    write('own/index.js', `import { where } from './lib/uses.mjs'; import listed from './lib/listed.cjs'; export default () => where() + listed();`);
    const bundle = await bundleFunction(path.join(dir, 'own'));
    expect(bundle.code).toContain("'mine'".replace(/'/g, '"'));
  });

  it('leaves an @aws-sdk client that is not installed to the runtime image, and bundles one that is', async () => {
    write(
      'aws/index.js',
      `import { S3Client } from '@aws-sdk/client-s3'; import { own } from '@aws-sdk/own-thing'; export const handler = async () => String(S3Client) + own;`,
    );
    write('aws/node_modules/@aws-sdk/own-thing/package.json', '{"name":"@aws-sdk/own-thing","main":"index.js"}');
    write('aws/node_modules/@aws-sdk/own-thing/index.js', `exports.own = 'bundled';`);
    const bundle = await bundleFunction(path.join(dir, 'aws'));
    expect(bundle.code).toMatch(/from "@aws-sdk\/client-s3"/);
    expect(bundle.code).not.toMatch(/from "@aws-sdk\/own-thing"/);
    expect(bundle.code).toContain('"bundled"');
  });

  it('says when an --include glob matches nothing, or a path is not shippable', async () => {
    write('lone/index.js', `export default () => 'x';`);
    await expect(bundleFunction(path.join(dir, 'lone'), ['*.html'])).rejects.toThrow(/matches no file/);
    await expect(bundleFunction(path.join(dir, 'nowhere'))).rejects.toThrow(/no such file or directory/);
  });

  it('refuses an included link that leads out of the function’s directory, naming it, and follows one that stays inside', async () => {
    write('outside/secret.txt', 'key');
    write('outside/dir/also.txt', 'key');
    write('linked/index.js', `export default () => 'x';`);
    write('linked/templates/page.html', '<p>');
    symlinkSync(path.join(dir, 'outside/secret.txt'), path.join(dir, 'linked/templates/secret.txt'));
    await expect(bundleFunction(path.join(dir, 'linked'), ['templates/**'])).rejects.toThrow(
      /templates\/secret\.txt is a link to .*outside\/secret\.txt, outside/,
    );
    write('linked2/index.js', `export default () => 'x';`);
    symlinkSync(path.join(dir, 'outside/dir'), path.join(dir, 'linked2/assets'));
    await expect(bundleFunction(path.join(dir, 'linked2'), ['assets/**'])).rejects.toThrow(/assets\/also\.txt is a link to/);
    symlinkSync('/etc/hostname', path.join(dir, 'linked2/hostname'));
    await expect(bundleFunction(path.join(dir, 'linked2'), ['hostname'])).rejects.toThrow(/hostname is a link to \/etc\/hostname/);
    write('linked3/index.js', `export default () => 'x';`);
    write('linked3/real/page.html', '<p>');
    symlinkSync(path.join(dir, 'linked3/real/page.html'), path.join(dir, 'linked3/alias.html'));
    const bundle = await bundleFunction(path.join(dir, 'linked3'), ['*.html']);
    expect(bundle.files.get('alias.html')?.toString()).toBe('<p>');
  });
});

describe('cloudflare:workers', () => {
  it('bundles a Workers class importing cloudflare:workers, and the runtime runs it with the env the import reads', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'faas-cf-'));
    const file = path.join(dir, 'worker.ts');
    writeFileSync(
      file,
      `import { WorkerEntrypoint, env } from 'cloudflare:workers';
      const greeting = env.GREETING ?? 'none';
      export default class extends WorkerEntrypoint<{ NAME: string }> {
        async fetch(request: Request) { return new Response(greeting + ' ' + this.env.NAME + ' ' + new URL(request.url).pathname); }
      }`,
    );
    const { code } = await bundleFunction(file);
    expect(code).not.toContain("from 'cloudflare:workers'");
    // As the runtime loads it: its variables first, then the module.
    (globalThis as Record<symbol, unknown>)[Symbol.for('faas.workers.env')] = { GREETING: 'hello', NAME: 'you' };
    const module = path.join(dir, 'index.mjs');
    writeFileSync(module, code);
    const { adapt } = await import('../../../runtime-images/node/src/handler.js');
    const mod = (await import(module)) as Record<string, unknown>;
    const invoke = adapt(mod, { name: 'w', version: '1', memoryMb: 128, env: { GREETING: 'hello', NAME: 'you' } });
    const res = await invoke(
      {
        method: 'GET',
        path: '/x',
        rawQuery: '',
        headers: { host: 'h' },
        body: Buffer.alloc(0),
        invocationId: 'i',
        trigger: 'http',
        context: {},
        receivedAt: 0,
      },
      { deadline: Date.now() + 1000 },
    );
    expect(res.body.toString()).toBe('hello you /x');
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('--external', () => {
  it('ships a package and its dependencies unbundled, so files it reads beside its own modules are found', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'faas-ext-'));
    const put = (file: string, text: string) => {
      mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      writeFileSync(path.join(root, file), text);
    };
    put('node_modules/greeter/package.json', JSON.stringify({ name: 'greeter', main: 'index.js', dependencies: { words: '1' } }));
    put(
      'node_modules/greeter/index.js',
      "const fs = require('fs'); const path = require('path'); const words = require('words'); module.exports = () => fs.readFileSync(path.join(__dirname, 'templates', 'hello.txt'), 'utf8').trim() + ' ' + words.word;",
    );
    put('node_modules/greeter/templates/hello.txt', 'Hello\n');
    put('node_modules/words/package.json', JSON.stringify({ name: 'words', main: 'index.js' }));
    put('node_modules/words/index.js', "module.exports = { word: 'world' };");
    put('fn.ts', "import greet from 'greeter'; export default () => new Response(greet());");

    const bundle = await bundleFunction(path.join(root, 'fn.ts'), [], ['greeter']);
    expect([...bundle.files.keys()].sort()).toEqual([
      'node_modules/greeter/index.js',
      'node_modules/greeter/package.json',
      'node_modules/greeter/templates/hello.txt',
      'node_modules/words/index.js',
      'node_modules/words/package.json',
    ]);
    // As the container's code directory holds it: the bundle and the files beside it.
    const codeDir = mkdtempSync(path.join(os.tmpdir(), 'faas-ext-code-'));
    writeFileSync(path.join(codeDir, 'index.mjs'), bundle.code);
    for (const [file, content] of bundle.files) {
      mkdirSync(path.dirname(path.join(codeDir, file)), { recursive: true });
      writeFileSync(path.join(codeDir, file), content);
    }
    const mod = (await import(path.join(codeDir, 'index.mjs'))) as { default: () => Response };
    expect(await mod.default().text()).toBe('Hello world');
    await expect(bundleFunction(path.join(root, 'fn.ts'), [], ['not-installed'])).rejects.toThrow(/--external not-installed/);
    rmSync(root, { recursive: true, force: true });
    rmSync(codeDir, { recursive: true, force: true });
  });
});
