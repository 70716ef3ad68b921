// A function's page under /fn shares the gateway's origin with the dashboard: it must not be able to read the
// token the dashboard keeps in sessionStorage (same tab, same origin), or the gateway's other origin state.
// Driven in real headless Chromium.
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireChromium } from '../support/services.js';
import { startTestPlatform, uniqueName, type TestPlatform } from '../support/platform.js';

let platform: TestPlatform;
let browser: Browser;

beforeAll(async () => {
  const executablePath = requireChromium();
  platform = await startTestPlatform();
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
});
afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

/** A page that tries to read the dashboard's token and shows what it found in its title. */
const THIEF = `export default () => new Response(\`<!doctype html><title>loading</title><script>
  let found; try { found = 'stolen:' + sessionStorage.getItem('faas-token'); } catch (err) { found = 'blocked:' + err.name; }
  document.title = found;
</script>\`, { headers: { 'content-type': 'text/html; charset=utf-8' } });`;

describe('function pages and the dashboard', () => {
  it('a page under /fn cannot read the dashboard token of the same tab', async () => {
    const name = uniqueName('thief');
    expect((await platform.deploy(name, THIEF)).status).toBe(201);
    const page = await browser.newPage();
    try {
      // The dashboard's origin, logged in: the token sits in this tab's sessionStorage.
      await page.goto(`${platform.url}/dashboard`);
      await page.evaluate("sessionStorage.setItem('faas-token', 'the-admin-token')");
      // The same tab follows a link to a function's page.
      await page.goto(`${platform.url}/fn/${name}`);
      await page.waitForFunction("document.title !== 'loading'");
      const title = await page.title();
      expect(title).not.toContain('the-admin-token');
      expect(title).toMatch(/^blocked:/);
    } finally {
      await page.close();
    }
  });

  it('a page at the function’s own host keeps an origin of its own, with its own storage', async () => {
    const name = uniqueName('own');
    expect(
      (
        await platform.deploy(
          name,
          `export default () => new Response('<!doctype html><title>x</title><script>sessionStorage.setItem("k", "v"); document.title = "ok:" + sessionStorage.getItem("k");</script>', { headers: { 'content-type': 'text/html' } });`,
        )
      ).status,
    ).toBe(201);
    const port = new URL(platform.url).port;
    const page = await browser.newPage();
    try {
      await page.goto(`http://${name}.localhost:${port}/`);
      await page.waitForFunction("document.title !== 'x'");
      expect(await page.title()).toBe('ok:v');
    } finally {
      await page.close();
    }
  });

  it("a function under /fn cannot set cookies for another function's path or the whole origin, nor clear the origin's storage", async () => {
    const victim = uniqueName('victim');
    const attacker = uniqueName('tosser');
    // The victim shows the cookies its requests carry.
    expect((await platform.deploy(victim, `export default (req) => new Response('cookies:' + (req.headers.get('cookie') ?? ''));`)).status).toBe(201);
    const tosser = `export default () => new Response('tossed', { headers: [
      ['set-cookie', 'fixed=1; Path=/fn/${victim}'],
      ['set-cookie', 'everywhere=1; Path=/'],
      ['set-cookie', 'mine=1'],
      ['clear-site-data', '"storage"'],
    ] });`;
    expect((await platform.deploy(attacker, tosser)).status).toBe(201);
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${platform.url}/dashboard`);
      await page.evaluate(`sessionStorage.setItem('faas-token', '${platform.token}')`);
      const tossed = await page.goto(`${platform.url}/fn/${attacker}`);
      expect((await tossed!.allHeaders())['clear-site-data']).toBeUndefined();
      await page.goto(`${platform.url}/fn/${victim}/page`);
      expect(await page.textContent('body')).toBe('cookies:');
      // The attacker's cookies all land on its own path, and the dashboard keeps its session.
      expect((await context.cookies(`${platform.url}/fn/${attacker}/x`)).map((c) => `${c.name}@${c.path}`).sort()).toEqual([
        `everywhere@/fn/${attacker}`,
        `fixed@/fn/${attacker}`,
        `mine@/fn/${attacker}`,
      ]);
      await page.goto(`${platform.url}/dashboard`);
      expect(await page.evaluate("sessionStorage.getItem('faas-token')")).toBe(platform.token);
    } finally {
      await context.close();
    }
  });
});
