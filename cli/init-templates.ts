// The projects `faas init` writes, one per handler contract: the function, a test of it, package.json (with
// deploy, dev and test scripts), tsconfig.json. Pure: template and name in, files out.

export const TEMPLATES = ['web', 'lambda', 'workers', 'queue', 'cron'] as const;
export type Template = (typeof TEMPLATES)[number];

interface TemplateFiles {
  description: string;
  /** Extra `faas deploy` flags (the trigger). */
  deployFlags: (name: string) => string;
  fn: string;
  test: string;
}

const SOURCES: Record<Template, TemplateFiles> = {
  web: {
    description: 'a web function: a Request in, a Response out (as Cloudflare Workers, Deno, Bun)',
    deployFlags: () => '',
    fn: `// A web function: a Request in, a Response out.
export default async (request: Request): Promise<Response> => {
  const name = new URL(request.url).searchParams.get('name') ?? 'world';
  console.log(\`greeting \${name}\`);
  return new Response(\`Hello, \${name}!\\n\`, { headers: { 'content-type': 'text/plain; charset=utf-8' } });
};
`,
    test: `import { expect, it } from 'vitest';
import handler from './index.js';

it('greets by name', async () => {
  const response = await handler(new Request('http://localhost/?name=test'));
  expect(response.status).toBe(200);
  expect(await response.text()).toBe('Hello, test!\\n');
});
`,
  },
  lambda: {
    description: 'an AWS Lambda handler: an API Gateway event in, a { statusCode, body } result out',
    deployFlags: () => '',
    fn: `// An AWS Lambda handler (API Gateway HTTP API event, version 2.0).
interface Event {
  rawPath?: string;
  queryStringParameters?: Record<string, string | undefined>;
}

export const handler = async (event: Event) => {
  const name = event.queryStringParameters?.name ?? 'world';
  console.log(\`greeting \${name}\`);
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: \`Hello, \${name}!\` }) };
};
`,
    test: `import { expect, it } from 'vitest';
import { handler } from './index.js';

it('greets by name', async () => {
  const result = await handler({ rawPath: '/', queryStringParameters: { name: 'test' } });
  expect(result.statusCode).toBe(200);
  expect(JSON.parse(result.body)).toEqual({ message: 'Hello, test!' });
});
`,
  },
  workers: {
    description: 'a Cloudflare Workers module: export default { fetch(request, env, ctx) }',
    deployFlags: () => ' --env GREETING=Hello',
    fn: `// A Cloudflare Workers module. env holds the function's variables (--env) and secrets (--secret).
interface Env {
  GREETING?: string;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const name = new URL(request.url).searchParams.get('name') ?? 'world';
    console.log(\`greeting \${name}\`);
    return new Response(\`\${env.GREETING ?? 'Hello'}, \${name}!\\n\`);
  },
};
`,
    test: `import { expect, it } from 'vitest';
import worker from './index.js';

it('greets by name with the configured greeting', async () => {
  const response = await worker.fetch(new Request('http://localhost/?name=test'), { GREETING: 'Hi' });
  expect(await response.text()).toBe('Hi, test!\\n');
});
`,
  },
  queue: {
    description: 'a queue consumer: each message arrives as a POST with its body (faas queue send <queue> <body>)',
    deployFlags: (name) => ` --queue ${name}-jobs`,
    fn: `// A queue consumer: each message is a POST whose body is the message. Answer 2xx to acknowledge it;
// a failure (throw, or 5xx) retries it, then dead-letters it (faas dlq ls).
export default async (request: Request): Promise<Response> => {
  const job = await request.json() as { task?: string };
  if (!job.task) return new Response('a job needs a task', { status: 400 });
  console.log(\`doing \${job.task}\`);
  return new Response(null, { status: 204 });
};
`,
    test: `import { expect, it } from 'vitest';
import handler from './index.js';

it('acknowledges a job with a task', async () => {
  const response = await handler(new Request('http://localhost/', { method: 'POST', body: JSON.stringify({ task: 'resize' }) }));
  expect(response.status).toBe(204);
});
`,
  },
  cron: {
    description: 'a scheduled function: run every 5 minutes (--schedule)',
    deployFlags: () => ' --schedule "*/5 * * * *"',
    fn: `// A scheduled function: each tick is a POST with the schedule as JSON.
export default async (request: Request): Promise<Response> => {
  const tick = await request.json().catch(() => ({})) as { cron?: string };
  console.log(\`tick of \${tick.cron ?? 'a schedule'} at \${new Date().toISOString()}\`);
  return new Response(null, { status: 204 });
};
`,
    test: `import { expect, it } from 'vitest';
import handler from './index.js';

it('runs a tick', async () => {
  const response = await handler(new Request('http://localhost/', { method: 'POST', body: JSON.stringify({ cron: '*/5 * * * *' }) }));
  expect(response.status).toBe(204);
});
`,
  },
};

export function describeTemplate(template: Template): string {
  return SOURCES[template].description;
}

/** The project's files, by path relative to its directory. */
export function projectFiles(template: Template, name: string): Record<string, string> {
  const source = SOURCES[template];
  const pkg = {
    name,
    private: true,
    type: 'module',
    scripts: {
      deploy: `faas deploy src/index.ts --name ${name}${source.deployFlags(name)}`,
      dev: `faas dev src/index.ts --name ${name}${source.deployFlags(name)}`,
      test: 'vitest run',
    },
    devDependencies: { typescript: '^5.6.0', vitest: '^4.0.0' },
  };
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      lib: ['ES2022', 'DOM'],
      types: [],
      skipLibCheck: true,
      noEmit: true,
    },
    include: ['src'],
  };
  return {
    'package.json': `${JSON.stringify(pkg, null, 2)}\n`,
    'tsconfig.json': `${JSON.stringify(tsconfig, null, 2)}\n`,
    'src/index.ts': source.fn,
    'src/index.test.ts': source.test,
    '.gitignore': 'node_modules/\n',
  };
}
