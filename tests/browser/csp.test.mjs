// What a shop's Content-Security-Policy needs (README "Content-Security-Policy"), in headless
// Chromium, with the policy sent as a header on every response (the page, the package files,
// worker.js: a worker follows its own script's policy): exactly
// `script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'` over
// `default-src 'none'` loads client.js in worker mode and in the page and recommends; taking
// away 'wasm-unsafe-eval' or connect-src breaks loading with a clear Error; worker-src 'none'
// sends 'auto' to the page; no worker-src at all falls back to script-src 'self'. The widget
// styles its cards with a constructed stylesheet (CSSOM, which no style-src governs), so it
// needs no style-src 'unsafe-inline': under `style-src 'self'` or no style-src at all (over
// default-src 'none') the cards are styled and nothing is reported; only a browser without
// adoptedStyleSheets falls back to an inline <style>, which then needs 'unsafe-inline'.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT, serve, launch, openPage } from './harness.mjs';

const NEEDED = "script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'";
const POLICIES = {
  strict: `default-src 'none'; ${NEEDED}`,
  nowasm: "default-src 'none'; script-src 'self'; worker-src 'self'; connect-src 'self'",
  noconnect: "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'",
  noworker: "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'none'; connect-src 'self'",
  fallback: "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'",
  widget: `default-src 'none'; ${NEEDED}; style-src 'self'`,
  widgetnostyle: `default-src 'none'; ${NEEDED}`,
  widgetinline: `default-src 'none'; ${NEEDED}; style-src 'self' 'unsafe-inline'`,
};
/** No inline script: the page's code is csp.js, which records its outcome on window. */
const PAGE = '<!doctype html><meta charset="utf-8"><title>csp</title><script type="module" src="csp.js"></script>';
const SCRIPT = `window.violations = [];
document.addEventListener('securitypolicyviolation', (e) => violations.push(e.effectiveDirective));
const mode = new URLSearchParams(location.search).get('worker');
const worker = mode === 'true' ? true : mode === 'false' ? false : 'auto';
try {
  const { load } = await import('./pkg/client.js');
  const rec = await load('./www/model.awrsr', { backend: 'cpu', worker });
  const out = await rec.recommend(['1', '50', '260'], { k: 10 });
  window.outcome = { items: out.items.length, inWorker: rec.inWorker };
} catch (e) {
  window.outcome = { error: String(e && e.message) };
}`;
const WIDGET_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>csp widget</title>
<script type="module" src="pkg/awrsr-widget.js"></script><script src="queue.js"></script></head>
<body><awrsr-recommendations model="www/model.awrsr" k="4"></awrsr-recommendations></body></html>`;
const QUEUE = `window.violations = []; document.addEventListener('securitypolicyviolation', (e) => violations.push(e.effectiveDirective));
(window.awrsr = window.awrsr || []).push(['view', '1']);
// The shop's own constructed sheet, adopted before the widget loads: the widget must keep it.
const own = new CSSStyleSheet();
own.replaceSync('body { margin: 3px }');
document.adoptedStyleSheets = [own];
// ?old: a browser without adoptedStyleSheets (the widget falls back to a <style> element).
if (new URLSearchParams(location.search).has('old')) delete Document.prototype.adoptedStyleSheets;`;

let server, browser;
before(async () => {
  const files = {};
  const mounts = {};
  for (const name of Object.keys(POLICIES)) {
    Object.assign(files, { [`/${name}/index.html`]: PAGE, [`/${name}/csp.js`]: SCRIPT, [`/${name}/widget.html`]: WIDGET_PAGE, [`/${name}/queue.js`]: QUEUE });
    mounts[`/${name}/`] = ROOT;
  }
  server = await serve({ files, mounts, headers: (path) => {
    const policy = POLICIES[path.split('/')[1]];
    return policy ? { 'content-security-policy': policy } : {};
  } });
  browser = await launch({ webgpu: false });
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/** Opens a policy's page with a worker mode; resolves to `{ outcome, violations, errors }`. */
async function run(policy, worker = 'auto') {
  const page = await openPage(browser, `${server.url}/${policy}/index.html?worker=${worker}`, { ready: () => window.outcome, timeout: 120_000 });
  assert.equal(page.response.headers()['content-security-policy'], POLICIES[policy]);
  const result = await page.evaluate(() => ({ outcome: window.outcome, violations: window.violations }));
  await page.close();
  return { ...result, errors: page.errors };
}

test(`exactly "${NEEDED}" (over default-src 'none'): worker mode and the page both recommend, nothing is blocked`, async () => {
  for (const [worker, inWorker] of [['auto', true], ['true', true], ['false', false]]) {
    const { outcome, violations, errors } = await run('strict', worker);
    assert.deepEqual(outcome, { items: 10, inWorker }, `worker ${worker}: ${JSON.stringify(outcome)}`);
    assert.deepEqual(violations, [], `worker ${worker}`);
    assert.deepEqual(errors, []);
  }
});

test("without 'wasm-unsafe-eval' the wasm module cannot compile, in a worker or in the page", async () => {
  for (const worker of ['auto', 'true', 'false']) {
    const { outcome, violations } = await run('nowasm', worker);
    assert.match(outcome.error ?? '', /WebAssembly|wasm/i, `worker ${worker}: ${JSON.stringify(outcome)}`);
    if (worker === 'false') assert.ok(violations.includes('script-src'), `in the page, a script-src violation: ${violations}`);
  }
});

test('without connect-src the wasm and model downloads are refused', async () => {
  for (const worker of ['auto', 'false']) {
    const { outcome } = await run('noconnect', worker);
    assert.match(outcome.error ?? '', /cannot load/, `worker ${worker}: ${JSON.stringify(outcome)}`);
  }
});

test("worker-src 'none': 'auto' runs in the page, true rejects; no worker-src at all falls back to script-src 'self'", async () => {
  const auto = await run('noworker', 'auto');
  assert.deepEqual(auto.outcome, { items: 10, inWorker: false }, JSON.stringify(auto.outcome));
  assert.ok(auto.violations.includes('worker-src'), `${auto.violations}`);
  const forced = await run('noworker', 'true');
  assert.match(forced.outcome.error ?? '', /worker/i, JSON.stringify(forced.outcome));
  const fallback = await run('fallback', 'auto');
  assert.deepEqual(fallback.outcome, { items: 10, inWorker: true }, JSON.stringify(fallback.outcome));
});

/** Opens a policy's widget page (`?old`: without adoptedStyleSheets); resolves to how the first card looks. */
async function widgetLook(policy, query = '') {
  const page = await openPage(browser, `${server.url}/${policy}/widget.html${query}`,
    { ready: () => document.querySelectorAll('.awrsr-card').length === 4, timeout: 120_000 });
  assert.equal(page.response.headers()['content-security-policy'], POLICIES[policy]);
  const look = await page.evaluate(() => {
    const card = document.querySelector('.awrsr-card');
    const button = card.querySelector('.awrsr-card-button');
    const marked = Symbol.for('awrsr.stylesheet');
    return {
      rail: getComputedStyle(document.querySelector('.awrsr-rail')).display,
      card: getComputedStyle(card).display,
      width: card.getBoundingClientRect().width,
      button: button.getBoundingClientRect().height,
      cover: getComputedStyle(card.querySelector('.awrsr-cover')).backgroundImage.startsWith('linear-gradient'),
      adopted: document.adoptedStyleSheets?.filter((sheet) => sheet[marked]).length ?? null,
      pageSheetKept: getComputedStyle(document.body).marginTop === '3px',
      elements: document.querySelectorAll('style[data-awrsr]').length,
      violations: window.violations,
    };
  });
  await page.close();
  return { ...look, errors: page.errors };
}

test("the widget without style-src 'unsafe-inline': under style-src 'self', or none at all, its cards are styled by a constructed stylesheet and nothing is reported", async () => {
  for (const policy of ['widget', 'widgetnostyle']) {
    const look = await widgetLook(policy);
    const shown = `${policy}: ${JSON.stringify(look)}`;
    assert.equal(look.rail, 'grid', shown);
    assert.ok(!look.card.startsWith('inline'), shown);
    assert.ok(look.width > 100 && look.width < 400, shown);
    assert.ok(look.button >= 44, shown);
    assert.ok(look.cover, `the cover's colours (set through CSSOM) apply: ${shown}`);
    assert.equal(look.adopted, 1, shown);
    assert.equal(look.elements, 0, `no <style> element: ${shown}`);
    assert.ok(look.pageSheetKept, `the page's own adopted sheet is kept: ${shown}`);
    assert.deepEqual(look.violations, [], shown);
    assert.deepEqual(look.errors, [], shown);
  }
});

test("a browser without adoptedStyleSheets: the widget falls back to one <style>, which needs style-src 'unsafe-inline'", async () => {
  const inline = await widgetLook('widgetinline', '?old');
  assert.equal(inline.elements, 1, JSON.stringify(inline));
  assert.equal(inline.rail, 'grid', JSON.stringify(inline));
  assert.deepEqual(inline.violations, []);
  const strict = await widgetLook('widget', '?old');
  assert.equal(strict.elements, 1, JSON.stringify(strict));
  assert.notEqual(strict.rail, 'grid', `blocked: the cards come unstyled (and still work): ${JSON.stringify(strict)}`);
  assert.ok(strict.violations.includes('style-src-elem'), JSON.stringify(strict));
  assert.deepEqual(strict.errors, []);
});
