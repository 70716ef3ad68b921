// The usage dashboard at /dashboard: static files (no build step) read once at start; the page itself
// holds no data, it reads the management API with the token the user logs in with.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';

/** gateway/dashboard from the source tree (tsx) or from dist/gateway/routes (built). */
function dashboardDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const candidate of [path.join(here, '../dashboard'), path.join(here, '../../../gateway/dashboard')]) {
    if (existsSync(path.join(candidate, 'index.html'))) return candidate;
  }
  throw new Error(`dashboard files not found next to ${here}`);
}

interface Asset {
  body: Buffer;
  type: string;
  cache: string;
}

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export function dashboardRoutes(app: FastifyInstance): void {
  const dir = dashboardDir();
  const require = createRequire(import.meta.url);
  const uplot = path.dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
  const own = (file: string, type: string): Asset => ({ body: readFileSync(path.join(dir, file)), type, cache: 'no-cache' });
  const vendor = (file: string, type: string): Asset => ({ body: readFileSync(path.join(uplot, file)), type, cache: 'public, max-age=86400' });
  const assets: Record<string, Asset> = {
    'app.js': own('app.js', 'text/javascript; charset=utf-8'),
    'style.css': own('style.css', 'text/css; charset=utf-8'),
    'uPlot.iife.min.js': vendor('uPlot.iife.min.js', 'text/javascript; charset=utf-8'),
    'uPlot.min.css': vendor('uPlot.min.css', 'text/css; charset=utf-8'),
  };
  const index = own('index.html', 'text/html; charset=utf-8');
  const send = (asset: Asset) => (_request: unknown, reply: import('fastify').FastifyReply) =>
    reply.headers({ ...SECURITY_HEADERS, 'content-type': asset.type, 'cache-control': asset.cache }).send(asset.body);

  app.get('/dashboard', send(index));
  app.get('/dashboard/', send(index));
  for (const [file, asset] of Object.entries(assets)) app.get(`/dashboard/${file}`, send(asset));
}
