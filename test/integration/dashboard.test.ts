// The usage dashboard end to end in real headless Chromium (Debian's, driven by playwright-core): deploys
// functions, invokes them a known number of times, logs in, and checks that the numbers the page shows
// are the API's, for a tenant and for the admin. Saves a screenshot to test/artifacts/dashboard.png.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCents } from '../../metering/billing.js';
import { requireChromium } from '../support/services.js';
import { startTestPlatform, waitUntil, type TestPlatform } from '../support/platform.js';

/** The page's document: these functions are serialized and run in the browser. */
declare const document: any;

let platform: TestPlatform;
let browser: Browser;
let shopToken: string;

const money = (cents: number) => `$${formatCents(cents)}`;
const CALLS = { checkout: 7, search: 3 };
const FAILS = 2;

beforeAll(async () => {
  const executablePath = requireChromium();
  platform = await startTestPlatform({
    // Prices that make a few calls cost cents: 2¢ a request, 1¢ a GB-second, 2 requests free.
    FAAS_PRICE_PER_MILLION_REQUESTS: '20000',
    FAAS_PRICE_GB_SECOND: '0.01',
    FAAS_FREE_REQUESTS: '2',
    FAAS_FREE_GB_SECONDS: '0',
  });
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  expect((await platform.api('POST', '/api/v1/tenants', { id: 'shop' })).status).toBe(201);
  shopToken = (await platform.api('POST', '/api/v1/tenants/shop/tokens', { name: 'dashboard' })).body.token;
  const deploy = async (name: string, code: string, settings: Record<string, unknown> = {}) =>
    expect((await platform.apiAs(shopToken, 'PUT', `/api/v1/functions/${name}`, { code, ...settings })).status).toBe(201);
  await deploy(
    'checkout',
    `export default async (req) => { if (new URL(req.url).searchParams.has('fail')) throw new Error('card declined'); await new Promise((r) => setTimeout(r, 20)); return 'paid'; };`,
    { memoryMb: 256 },
  );
  await deploy('search', `export default () => Response.json({ hits: [] });`);
  expect((await platform.deploy('hello', `export default () => 'hi';`)).status).toBe(201);

  for (let i = 0; i < CALLS.checkout; i++) await fetch(`${platform.url}/fn/shop/checkout${i < FAILS ? '?fail' : ''}`);
  for (let i = 0; i < CALLS.search; i++) await fetch(`${platform.url}/fn/shop/search`);
  await fetch(`${platform.url}/fn/hello`);
  // Everything metered and shipped before the page opens.
  await waitUntil('the usage of 11 calls', async () => {
    const res = await platform.api('GET', '/api/v1/usage?groupBy=none');
    return res.body.total.invocations === 11 ? true : undefined;
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

async function logIn(token: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1050 } });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`${platform.url}/dashboard`);
  await page.getByLabel('token').fill(token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForFunction(() => document.body.dataset.loadedAt !== undefined);
  expect(errors).toEqual([]);
  return page;
}

const text = (page: Page, testId: string) => page.getByTestId(testId).innerText();

describe('dashboard', () => {
  it("shows a tenant exactly the API's numbers: totals, functions, containers and the current invoice", async () => {
    // Both functions' containers go idle, then paused, within about 300 ms of their last call.
    await waitUntil('the containers to be paused', async () => {
      const { containers } = (await platform.apiAs(shopToken, 'GET', '/api/v1/containers')).body;
      return containers.paused >= 2 || undefined;
    });
    const page = await logIn(shopToken);
    await page.getByRole('button', { name: 'last hour' }).click();
    await page.waitForFunction(() => Date.now() - Number(document.body.dataset.loadedAt) < 1000);

    const now = Date.now();
    const api = async (route: string) => (await platform.apiAs(shopToken, 'GET', `/api/v1${route}`)).body;
    const usage = await api(`/usage?from=${now - 3_600_000}&to=${now + 60_000}&groupBy=tenant,function`);
    expect(usage.total.invocations).toBe(CALLS.checkout + CALLS.search);

    expect(await text(page, 'who')).toBe('tenant shop');
    expect(await text(page, 'invocations')).toBe(String(usage.total.invocations));
    expect(await text(page, 'errors')).toBe(String(FAILS));
    expect(await text(page, 'errors')).toBe(String(usage.total.errors));
    expect(await text(page, 'cold-starts')).toBe(String(usage.total.coldStarts));
    expect(await text(page, 'gb-seconds')).toBe((usage.total.gbSeconds + usage.total.initGbSeconds).toFixed(4));
    expect(await text(page, 'cost')).toBe(money(usage.total.cost.totalCents));

    const rows = await page
      .locator('[data-testid=functions] tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent as string)));
    expect(rows.map((r) => r[0])).toEqual(['checkout', 'search']);
    for (const [i, row] of usage.rows.entries()) {
      expect(rows[i]![1]).toBe(String(row.invocations));
      expect(rows[i]![2]).toBe(String(row.errors));
      expect(rows[i]![7]).toBe((row.gbSeconds + row.initGbSeconds).toFixed(4));
      expect(rows[i]![8]).toBe(money(row.cost.totalCents));
    }

    const invoice = (await api('/invoices/current')).invoice;
    // 10 requests, 2 free, 2¢ each: at least 16¢; the GB-seconds add to it.
    expect(invoice.totalCents).toBeGreaterThanOrEqual(16);
    expect(await text(page, 'invoice-total')).toBe(money(invoice.totalCents));
    const containers = (await api('/containers')).containers;
    for (const state of ['starting', 'busy', 'idle', 'paused']) {
      const shown = await page.locator(`[data-testid=containers] [data-state=${state}] dd`).innerText();
      expect(Number(shown), state).toBe(containers[state]);
    }
    expect(containers.paused).toBeGreaterThanOrEqual(2);

    mkdirSync(path.resolve('test/artifacts'), { recursive: true });
    await page.screenshot({ path: path.resolve('test/artifacts/dashboard.png'), fullPage: true });
    await page.close();
  });

  it('shows the admin every tenant, and one tenant when picked, and refreshes as calls come in', async () => {
    const page = await logIn(platform.token);
    expect(await text(page, 'who')).toBe('admin');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=functions] tbody tr').length === 3);
    const names = await page.locator('[data-testid=functions] tbody tr td:first-child').allInnerTexts();
    expect(names).toEqual(['default / hello', 'shop / checkout', 'shop / search']);
    expect(await text(page, 'invocations')).toBe('11');

    await page.getByTestId('tenant').selectOption('shop');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=functions] tbody tr').length === 2);
    expect(await text(page, 'invocations')).toBe('10');

    // Live: a new call shows up without a reload.
    await fetch(`${platform.url}/fn/shop/search`);
    await page.waitForFunction(() => document.querySelector('[data-testid=invocations]')?.textContent === '11', undefined, { timeout: 20_000 });
    await page.close();
  });

  it("shows a canary's errors and latency beside its stable version's, under its function", async () => {
    // Version 2 of checkout fails every call; 10 % of the default alias's calls go to it.
    const v2 = await platform.apiAs(shopToken, 'PUT', '/api/v1/functions/checkout', { code: `export default () => { throw new Error('v2 is broken'); };` });
    expect(v2.body.function.version).toBe(2);
    expect(
      (await platform.apiAs(shopToken, 'PUT', '/api/v1/functions/checkout/aliases/latest', { version: 1, canary: { version: 2, percent: 10 } })).status,
    ).toBe(200);
    for (let i = 0; i < 4; i++) await fetch(`${platform.url}/fn/shop/checkout@2`);
    await waitUntil('the canary usage', async () => {
      const res = await platform.apiAs(shopToken, 'GET', '/api/v1/usage?groupBy=version');
      return res.body.rows.some((r: { version: number; errors: number }) => r.version === 2 && r.errors === 4) ? true : undefined;
    });
    const page = await logIn(shopToken);
    await page.waitForFunction(() => document.querySelector('[data-testid=functions] tr[data-version="2"]') !== null, undefined, { timeout: 20_000 });
    const rows = await page
      .locator('[data-testid=functions] tbody tr[data-function=checkout]')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent as string)));
    expect(rows.map((r) => [r[0]!.trim(), r[1], r[2]])).toEqual([
      ['checkout', String(CALLS.checkout + 4), String(FAILS + 4)],
      ['↳ v1', String(CALLS.checkout), `${FAILS} (${((100 * FAILS) / CALLS.checkout).toFixed(1)}%)`],
      ['↳ v2', '4', '4 (100.0%)'],
    ]);
    await page.close();
  });

  it('refuses a bad token on the login form', async () => {
    const page = await browser.newPage();
    await page.goto(`${platform.url}/dashboard`);
    await page.getByLabel('token').fill('not-a-token');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => page.locator('#login-error').innerText()).toBe('this token is not valid');
    await page.close();
  });
});
