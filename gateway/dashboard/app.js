// The usage dashboard: plain ES module, no build step. Reads the management API with the token the user
// logs in with (kept in sessionStorage), draws charts with uPlot, refreshes every 5 seconds.
const REFRESH_MS = 5000;
const RANGES = { hour: 3600e3, day: 86400e3, week: 7 * 86400e3, month: 30 * 86400e3 };
const $ = (id) => document.getElementById(id);

const state = { token: sessionStorage.getItem('faas-token') || '', me: null, range: 'day', custom: null, tenant: '', timer: 0, charts: {} };

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(path) {
  const res = await fetch(`/api/v1${path}`, { headers: { authorization: `Bearer ${state.token}` } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, body.error?.code ?? `HTTP_${res.status}`, body.error?.message ?? res.statusText);
  return body;
}

// ---- formatting: money comes from the API in whole cents, never recomputed here ----
const money = (cents, currency) => {
  const text = `${cents < 0 ? '-' : ''}${Math.floor(Math.abs(cents) / 100)}.${String(Math.abs(cents) % 100).padStart(2, '0')}`;
  return currency === 'USD' ? `$${text}` : `${text} ${currency}`;
};
const int = (n) => n.toLocaleString('en-US');
const gbs = (n) => n.toFixed(4);
const ms = (n) => (n === undefined || n === null ? '–' : n < 10 ? n.toFixed(2) : n.toFixed(1));
const pct = (part, whole) => (whole ? `${((100 * part) / whole).toFixed(1)}%` : '–');

// ---- range → query ----
function timeRange() {
  if (state.range === 'custom' && state.custom) return state.custom;
  const to = Date.now();
  return { from: to - RANGES[state.range], to };
}
function intervalFor(span) {
  if (span <= 2 * 3600e3) return 'minute';
  if (span <= 8 * 86400e3) return 'hour';
  return 'day';
}
function scopeQuery() {
  return state.me?.admin && state.tenant ? `&tenant=${encodeURIComponent(state.tenant)}` : '';
}

// ---- charts ----
function chart(id, series, values) {
  const el = $(id);
  const width = Math.max(300, el.clientWidth || 500);
  if (!state.charts[id]) {
    const opts = {
      width,
      height: 180,
      legend: { show: true },
      scales: { x: { time: true } },
      axes: [{}, { size: 60 }],
      series: [
        {},
        ...series.map(([label, stroke]) => ({ label, stroke, width: 1, fill: `${stroke}55`, points: { show: false }, paths: uPlot.paths.bars({ size: [0.8, 24], gap: 1 }) })),
      ],
    };
    state.charts[id] = new uPlot(opts, values, el);
  } else {
    state.charts[id].setData(values);
    if (state.charts[id].width !== width) state.charts[id].setSize({ width, height: 180 });
  }
}

function drawCharts(usage) {
  const byBucket = new Map(usage.rows.map((r) => [r.bucket, r]));
  const xs = usage.buckets.map((b) => b / 1000);
  const pick = (f) => usage.buckets.map((b) => (byBucket.has(b) ? f(byBucket.get(b)) : 0));
  chart('ch-invocations', [['invocations', '#3b5bdb'], ['errors', '#d9480f']], [xs, pick((r) => r.invocations), pick((r) => r.errors)]);
  chart('ch-cold', [['cold starts', '#7048e8']], [xs, pick((r) => r.coldStarts)]);
  chart('ch-gbs', [['GB-s', '#0c8599']], [xs, pick((r) => r.gbSeconds + r.initGbSeconds)]);
  chart('ch-cost', [[`cost (${usage.currency})`, '#2b8a3e']], [xs, pick((r) => r.cost.totalCents / 100)]);
}

// ---- panels ----
function drawCards(total, currency) {
  $('c-invocations').textContent = int(total.invocations);
  $('c-errors').textContent = int(total.errors);
  $('c-cold').textContent = int(total.coldStarts);
  $('c-gbs').textContent = gbs(total.gbSeconds + total.initGbSeconds);
  $('c-cost').textContent = money(total.cost.totalCents, currency);
}

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

/** One row of the functions table: a function's, or (indented) one of its versions'. */
function usageRow(r, label, currency) {
  const tr = document.createElement('tr');
  tr.dataset.function = r.function;
  tr.dataset.tenant = r.tenant;
  if (r.version !== undefined) tr.dataset.version = String(r.version);
  tr.append(
    cell(label),
    cell(int(r.invocations)),
    cell(`${int(r.errors)}${r.version !== undefined ? ` (${pct(r.errors, r.invocations)})` : ''}`),
    cell(ms(r.durationMs?.p50)),
    cell(ms(r.durationMs?.p95)),
    cell(ms(r.durationMs?.p99)),
    cell(pct(r.coldStarts, r.invocations)),
    cell(gbs(r.gbSeconds + r.initGbSeconds)),
    cell(money(r.cost.totalCents, currency)),
  );
  return tr;
}

/**
 * A row per function; under a function that ran more than one version in the range (a canary beside its
 * stable version, a rollback), a row per version: errors, error rate and latency side by side.
 */
function drawFunctions(usage, byVersion) {
  const body = $('functions').tBodies[0];
  const showTenant = state.me.admin && !state.tenant;
  const versionsOf = (r) => byVersion.rows.filter((v) => v.tenant === r.tenant && v.function === r.function && v.version !== undefined && v.invocations > 0);
  body.replaceChildren(
    ...usage.rows.flatMap((r) => {
      const versions = versionsOf(r);
      const rows = [usageRow(r, showTenant ? `${r.tenant} / ${r.function}` : r.function, usage.currency)];
      if (versions.length > 1) for (const v of versions) rows.push(usageRow(v, `  ↳ v${v.version}`, usage.currency));
      return rows;
    }),
  );
  if (usage.rows.length === 0) {
    const tr = document.createElement('tr');
    const td = cell('no invocations in this range');
    td.colSpan = 9;
    tr.append(td);
    body.append(tr);
  }
}

function drawContainers(containers) {
  $('containers').replaceChildren(
    ...['starting', 'busy', 'idle', 'paused', 'prewarmed', 'removing'].map((s) => {
      const div = document.createElement('div');
      div.dataset.state = s;
      const dt = document.createElement('dt');
      dt.textContent = s;
      const dd = document.createElement('dd');
      dd.textContent = int(containers[s] ?? 0);
      div.append(dt, dd);
      return div;
    }),
  );
}

function drawInvoice(invoice) {
  $('invoice-period').textContent = `${invoice.period} · tenant ${invoice.tenant}${invoice.final ? '' : ' · period running'}`;
  $('invoice').tBodies[0].replaceChildren(
    ...invoice.lines.map((l) => {
      const tr = document.createElement('tr');
      tr.dataset.item = l.item;
      const q = l.unit === 'requests' ? int(l.quantity) : `${l.quantity.toFixed(4)} ${l.unit}`;
      const free = l.unit === 'requests' ? int(l.free) : l.free.toFixed(4);
      tr.append(cell(l.description), cell(q), cell(free), cell(money(l.amountCents, invoice.currency)));
      return tr;
    }),
  );
  $('invoice-total').textContent = money(invoice.totalCents, invoice.currency);
  $('invoice-note').textContent = `List price ${money(invoice.grossCents, invoice.currency)}, free tier −${money(invoice.freeTierCents, invoice.currency)}.`;
}

// ---- loading ----
async function load() {
  clearTimeout(state.timer);
  const { from, to } = timeRange();
  const interval = intervalFor(to - from);
  const range = `from=${from}&to=${to}${scopeQuery()}`;
  const invoiceTenant = state.me.admin ? state.tenant || state.me.tenant : state.me.tenant;
  try {
    const [series, functions, versions, containers, invoice] = await Promise.all([
      api(`/usage?${range}&groupBy=none&interval=${interval}`),
      api(`/usage?${range}&groupBy=tenant,function`),
      api(`/usage?${range}&groupBy=tenant,function,version`),
      api(`/containers?${scopeQuery().slice(1)}`),
      api(`/invoices/current?tenant=${encodeURIComponent(invoiceTenant)}`),
    ]);
    drawCards(functions.total, functions.currency);
    drawCharts(series);
    drawFunctions(functions, versions);
    drawContainers(containers.containers);
    drawInvoice(invoice.invoice);
    $('error').textContent = '';
    $('live').classList.remove('stale');
    document.body.dataset.loadedAt = String(Date.now());
  } catch (err) {
    if (err.status === 401) return logout('the token was refused (revoked?): log in again');
    $('error').textContent = `could not load: ${err.message}`;
    $('live').classList.add('stale');
  }
  state.timer = setTimeout(() => (document.hidden ? (state.timer = setTimeout(load, REFRESH_MS)) : load()), REFRESH_MS);
}

async function login(token) {
  state.token = token;
  try {
    state.me = await api('/whoami');
  } catch (err) {
    state.token = '';
    sessionStorage.removeItem('faas-token');
    $('login').hidden = false;
    $('login-error').textContent = err.status === 401 ? 'this token is not valid' : `login failed: ${err.message}`;
    return;
  }
  sessionStorage.setItem('faas-token', token);
  $('login').hidden = true;
  $('board').hidden = false;
  $('controls').hidden = false;
  $('who').textContent = state.me.admin ? 'admin' : `tenant ${state.me.tenant}`;
  if (state.me.admin) {
    const { tenants } = await api('/tenants');
    $('tenant').replaceChildren(new Option('all tenants', ''), ...tenants.map((t) => new Option(t.id, t.id)));
    $('tenant-picker').hidden = false;
  }
  await load();
}

function logout(message = '') {
  clearTimeout(state.timer);
  sessionStorage.removeItem('faas-token');
  state.token = '';
  state.me = null;
  for (const c of Object.values(state.charts)) c.destroy();
  state.charts = {};
  $('board').hidden = true;
  $('controls').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
}

// ---- wiring ----
$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  void login($('token').value.trim());
});
$('logout').addEventListener('click', () => logout());
$('tenant').addEventListener('change', (e) => {
  state.tenant = e.target.value;
  void load();
});
for (const button of document.querySelectorAll('[data-range]')) {
  button.addEventListener('click', () => {
    for (const b of document.querySelectorAll('[data-range]')) b.classList.toggle('active', b === button);
    state.range = button.dataset.range;
    $('custom').hidden = state.range !== 'custom';
    if (state.range !== 'custom') void load();
  });
}
$('apply').addEventListener('click', () => {
  const from = Date.parse($('from').value);
  const to = Date.parse($('to').value);
  if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to) {
    $('error').textContent = 'custom range: pick a start before the end';
    return;
  }
  state.custom = { from, to };
  void load();
});
addEventListener('resize', () => {
  for (const [id, c] of Object.entries(state.charts)) c.setSize({ width: Math.max(300, $(id).clientWidth), height: 180 });
});

if (state.token) void login(state.token);
else $('login').hidden = false;
