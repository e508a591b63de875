// The embeddable widget (pkg/awrsr-widget.js) on pages that have nothing else of awrsr's:
// its own scoped stylesheet on a bare page, the engine in a Worker with real download
// progress, the `awrsr` command queue filled by a classic script before the module loads,
// unknown ids, a shop catalogue for links and images (hostile titles and URLs stay inert),
// errors (hidden, or shown with show-errors; one console warning each; an HTML page where a
// file was expected), lazy loading, per-item explanations, keyboard focus and announcements, a
// configurable package folder, one engine shared with the page's own client, and no request
// after load whatever the visitor does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, serve, withBrowser, openPage } from './harness.mjs';

const MODULE = '<script type="module" src="/pkg/awrsr-widget.js"></script>';
/** The snippet a shop puts in a classic script: the queue, a `view` that queues, early events caught. */
const QUEUE = `<script>
  window.awrsr = window.awrsr || [];
  awrsr.view = awrsr.view || function (id) { awrsr.push(['view', id]); };
  document.addEventListener('awrsr:view', function (e) { if (Array.isArray(window.awrsr)) awrsr.push(['view', e.detail && e.detail.id]); });
</script>`;
const html = (body, head = '') => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>shop</title>${head}</head><body>${body}</body></html>`;

/** A catalogue of every movie with hostile titles and a mix of safe and unsafe URLs. */
async function hostileCatalogue() {
  const movies = JSON.parse(await readFile(join(ROOT, 'www/catalogue.json'), 'utf8'));
  const urls = (id) => ['javascript:window.pwned = 2', ' java\tscript:window.pwned = 3', `/products/${id}`, `https://shop.example/p/${id}`][id % 4];
  const images = (id) => ['javascript:window.pwned = 4', 'data:image/svg+xml,<svg onload="window.pwned=5"/>', `/img/${id}.png`][id % 3];
  return Object.fromEntries(movies.map((m) => [m.id, {
    title: `<img src="/evil-title.png" onerror="window.pwned = 1">${m.title}`, url: urls(Number(m.id)), image: images(Number(m.id)),
  }]));
}

const PAGES = {
  '/shop/bare.html': html(`
    <p id="before">Before <span class="awrsr-card-button" id="fake">a span with the widget's class</span></p>
    <div class="awrsr-rail" id="fake-rail"><button id="own">Own button</button></div>
    <awrsr-recommendations id="w1" model="/slow/model.awrsr" k="4"></awrsr-recommendations>
    <awrsr-recommendations id="w2" model="/slow/model.awrsr" k="6"></awrsr-recommendations>
    <script>
      window.progress = [];
      new MutationObserver((records) => records.forEach((r) => r.target.localName === 'progress' && r.target.hasAttribute('value') && progress.push(r.target.value)))
        .observe(document, { subtree: true, attributes: true, attributeFilter: ['value'] });
    </script>`, MODULE),
  '/shop/control.html': html(`
    <p id="before">Before <span class="awrsr-card-button" id="fake">a span with the widget's class</span></p>
    <div class="awrsr-rail" id="fake-rail"><button id="own">Own button</button></div>`),
  '/shop/queue.html': html(`
    <awrsr-recommendations model="/www/model.awrsr" k="5"></awrsr-recommendations>
    <script>
      window.unknown = [];
      document.addEventListener('awrsr:unknown', function (e) { unknown.push(e.detail.ids); });
      awrsr.push(['config', { pkg: 'http://[' }], ['nonsense']); // a failing and an unknown command: the rest still run
      awrsr.push(['view', '1']);
      awrsr.view('SKU-NOPE');
      document.dispatchEvent(new CustomEvent('awrsr:view', { detail: { id: '2' } }));
      window.queuedBeforeLoad = Array.isArray(window.awrsr) && awrsr.length;
    </script>${MODULE}`, QUEUE),
  '/shop/catalogue.html': html(`
    <awrsr-recommendations id="t" model="/www/model.awrsr" k="10" catalogue="/shop/products.json">
      <template><a class="shop-card" data-field="href" data-action="view"><img data-field="image" width="40" height="60"><span data-field="title"></span> <small data-field="because"></small></a></template>
    </awrsr-recommendations>
    <awrsr-recommendations id="d" model="/www/model.awrsr" k="10"></awrsr-recommendations>`, MODULE),
  '/shop/broken.html': html(`
    <awrsr-recommendations id="nomodel" model="/no/such/model.awrsr"></awrsr-recommendations>
    <awrsr-recommendations id="nopkg" model="/www/model.awrsr" pkg="/nowhere/"></awrsr-recommendations>
    <script>window.failures = []; document.addEventListener('awrsr:error', (e) => failures.push({ id: e.target.id, message: e.detail.message }));</script>`, MODULE),
  '/shop/show-errors.html': html(`
    <awrsr-recommendations id="missing" model="/no/such/model.awrsr" show-errors></awrsr-recommendations>
    <awrsr-recommendations id="page" model="/spa/model.awrsr" show-errors></awrsr-recommendations>
    <awrsr-recommendations id="quiet" model="/spa/model.awrsr"></awrsr-recommendations>
    <awrsr-recommendations id="sniffed" model="/spa/untyped.awrsr" show-errors></awrsr-recommendations>
    <awrsr-recommendations id="wasm" model="/www/model.awrsr" pkg="/spa-pkg/" show-errors></awrsr-recommendations>
    <script>window.failures = []; document.addEventListener('awrsr:error', (e) => failures.push(e.target.id));</script>`, MODULE),
  '/shop/lazy.html': html(`
    <h1>A long product page</h1><div style="height: 5000px"></div>
    <awrsr-recommendations model="/www/model.awrsr" loading="lazy"></awrsr-recommendations>`, MODULE),
  '/shop/keys.html': html(`<awrsr-recommendations model="/www/model.awrsr" k="8"></awrsr-recommendations>`, MODULE),
  '/shop/moved.html': html(`<awrsr-recommendations model="/www/model.awrsr" k="3"></awrsr-recommendations>`,
    `${QUEUE}<script>awrsr.push(['config', { pkg: '/pkg-cpu/' }]);</script>${MODULE}`),
  '/shop/moved-attr.html': html(`<awrsr-recommendations model="/www/model.awrsr" k="3" pkg="/pkg-cpu"></awrsr-recommendations>`, MODULE),
  // The page's own client and a widget, both on the same model: one engine for both.
  '/shop/shared.html': html(`<awrsr-recommendations model="/www/model.awrsr" k="4"></awrsr-recommendations>
    <script type="module">
      import { load } from '/pkg/client.js';
      load('/www/model.awrsr').then(async (rec) => { window.own = (await rec.recommend(['1'], { k: 3 })).items.length; });
    </script>`, MODULE),
  // As a bundler's output does it: the element is on the page before the module that imports
  // the widget runs, and `config` comes right after the import.
  '/shop/moved-import.html': html(`<awrsr-recommendations model="/www/model.awrsr" k="3"></awrsr-recommendations>
    <script type="module">import { config } from '/pkg/awrsr-widget.js'; config({ pkg: '/pkg-cpu/' });</script>`),
};

/** A single-page app's server (`vite preview`, a shop's catch-all route) answers a missing
 *  file with its index page and status 200: as text/html, and once with a binary type. */
const INDEX_PAGE = '<!doctype html><html><head><title>shop</title></head><body><div id="app"></div></body></html>';
const SPA = { '/spa/model.awrsr': INDEX_PAGE, '/spa/untyped.awrsr': INDEX_PAGE, '/spa-pkg/awrsr_bg.wasm': INDEX_PAGE };

let server;
before(async () => {
  const model = await readFile(join(ROOT, 'www/model.awrsr'));
  const products = JSON.stringify(await hostileCatalogue());
  server = await serve({
    files: { ...PAGES, '/slow/model.awrsr': model, '/shop/products.json': products, ...SPA },
    // Sent in timed pieces with a Content-Length, so the download has a known size and takes a while.
    slow: { '/slow/model.awrsr': { ms: 1200 }, '/pkg/awrsr_bg.wasm': { ms: 300 } },
    mounts: { '/spa-pkg/': join(ROOT, 'pkg') },
    headers: (path) => (path in SPA && !path.includes('untyped') ? { 'content-type': 'text/html; charset=utf-8' } : {}),
  });
});
after(async () => { await server?.close(); });

/** Opens a page of the test server, collecting page errors and console messages. */
const open = (context, path) => openPage(context, `${server.url}${path}`, { console: true });

const cards = (page, selector = 'awrsr-recommendations') => page.$$eval(`${selector} .awrsr-rail [data-id]`, (n) => n.map((x) => x.dataset.id));
const waitCards = (page, count, selector = 'awrsr-recommendations') => page.waitForFunction(
  ([s, c]) => document.querySelectorAll(`${s} .awrsr-rail [data-id]`).length === c, [selector, count], { timeout: 120_000 });
const stored = (page) => page.evaluate(() => awrsr.session.get());
/** The page's console messages of one type ('warning', 'error') written by awrsr. */
const awrsrConsole = (page, type) => page.console.filter((m) => m.type === type && m.text.startsWith('awrsr:')).map((m) => m.text);
/** The widget's stylesheets on a page: adopted (constructed) sheets and `<style data-awrsr>` elements. */
const widgetSheets = (page) => page.evaluate(() => ({
  adopted: document.adoptedStyleSheets.filter((sheet) => sheet[Symbol.for('awrsr.stylesheet')]).length,
  elements: document.querySelectorAll('style[data-awrsr]').length,
}));

for (const webgpu of [true, false]) {
  test(`bare page: sized default cards, styles kept inside the widget, engine in a worker with download progress ${webgpu ? 'with WebGPU' : 'without WebGPU'}`, () => withBrowser({ webgpu }, async (context) => {
    const from = server.requests.length;
    const page = await open(context, '/shop/bare.html');
    await waitCards(page, 4, '#w1');
    await waitCards(page, 6, '#w2');
    const card = await page.$eval('#w1 .awrsr-card', (n) => {
      const box = n.getBoundingClientRect();
      const button = n.querySelector('.awrsr-card-button').getBoundingClientRect();
      return { display: getComputedStyle(n).display, width: box.width, height: box.height, button: button.height, cover: !!n.querySelector('.awrsr-cover'),
        title: n.querySelector('.awrsr-card-title').textContent, because: n.querySelector('.awrsr-card-because').textContent };
    });
    assert.ok(!card.display.startsWith('inline'), `card display ${card.display}`);
    assert.ok(card.width > 100 && card.width < 400, `card width ${card.width}`);
    assert.ok(card.height > 150 && card.button >= 44, JSON.stringify(card));
    assert.ok(card.cover && card.title && card.because === 'Popular right now', JSON.stringify(card));
    assert.deepEqual(await widgetSheets(page), { adopted: 1, elements: 0 }, 'one constructed stylesheet for both widgets, no <style>');

    const look = (p) => p.$$eval('#before, #fake, #fake-rail, #own', (nodes) => nodes.map((n) => {
      const s = getComputedStyle(n);
      return [n.id, s.display, s.padding, s.border, s.gridAutoFlow, s.overflowX, s.fontWeight, s.color, s.backgroundColor, s.minHeight, s.outline].join('|');
    }));
    const control = await open(context, '/shop/control.html');
    assert.deepEqual(await look(page), await look(control), "the widget's styles reach no element outside it");

    const facts = await page.evaluate(async () => {
      const { loadModel } = await import('/pkg/awrsr-widget.js');
      const rec = await loadModel('/slow/model.awrsr');
      return { inWorker: rec.inWorker, backend: rec.backend };
    });
    assert.equal(facts.inWorker, true, 'the engine runs in a Worker');
    const asked = server.requests.slice(from);
    assert.ok(asked.includes('/pkg/worker.js'), asked.join(' '));
    assert.equal(asked.filter((p) => p === '/slow/model.awrsr').length, 1, 'both widgets share one model download');
    const progress = await page.evaluate(() => window.progress);
    assert.ok(progress.some((v) => v > 0 && v < 1), `progress between 0 and 1: ${progress}`);
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i] >= progress[i - 1], `progress never goes back: ${progress}`);
    assert.equal(await page.$eval('#w1 progress', (n) => n.hidden), true, 'the progress bar goes away');
    assert.deepEqual(page.errors, []);
  }));
}

test('queue: views, awrsr.view() and awrsr:view events made before the module loaded count; unknown ids are reported and dropped', () => withBrowser({ webgpu: false }, async (context) => {
  const page = await open(context, '/shop/queue.html');
  await waitCards(page, 5);
  assert.equal(await page.evaluate(() => window.queuedBeforeLoad), 5, 'five commands were queued before the module ran');
  assert.ok(page.console.some((m) => m.type === 'error' && m.text.startsWith('awrsr: a queued command failed')), JSON.stringify(page.console));
  assert.ok(page.console.some((m) => m.type === 'warning' && m.text.startsWith('awrsr: unknown command')), JSON.stringify(page.console));
  await page.waitForFunction(() => window.unknown.length === 1);
  assert.deepEqual(await stored(page), ['1', '2']);
  assert.deepEqual(await page.evaluate(() => window.unknown), [['SKU-NOPE']]);
  assert.ok(page.console.some((m) => m.type === 'warning' && m.text.includes('SKU-NOPE')), JSON.stringify(page.console));
  await page.waitForFunction(() => [...document.querySelectorAll('.awrsr-card-because')].every((n) => /Toy Story|Jumanji/.test(n.textContent)));
  assert.ok(!(await cards(page)).some((id) => id === '1' || id === '2'));

  await page.evaluate(() => awrsr.push(['view', '3']));
  await page.waitForFunction(() => awrsr.session.get().at(-1) === '3');
  assert.equal(await page.evaluate(() => awrsr.view('SKU-2')), false);
  assert.deepEqual(await page.evaluate(() => window.unknown), [['SKU-NOPE'], ['SKU-2']]);
  assert.equal(await page.evaluate(() => awrsr.view('50')), true);
  await page.evaluate(() => document.dispatchEvent(new CustomEvent('awrsr:view', { detail: { id: '260' } })));
  await page.waitForFunction(() => awrsr.session.get().at(-1) === '260');
  await page.waitForTimeout(200);
  assert.deepEqual(await stored(page), ['1', '2', '3', '50', '260'], 'an event after load counts once');
  await page.waitForFunction(() => !document.querySelector('.awrsr-rail [data-id="260"]'));
  assert.deepEqual(page.errors, []);
}));

test('catalogue: template fields for a link and an image; hostile titles and javascript: URLs stay inert', () => withBrowser({ webgpu: false }, async (context) => {
  const page = await open(context, '/shop/catalogue.html');
  await waitCards(page, 10, '#t');
  await waitCards(page, 10, '#d');
  await page.waitForFunction(() => document.querySelector('#t .shop-card span')?.textContent.startsWith('<img'));
  const origin = server.url;
  const shown = await page.$$eval('#t [data-id]', (nodes) => nodes.map((n) => ({
    id: n.dataset.id, title: n.querySelector('[data-field="title"]').textContent,
    href: n.querySelector('a').getAttribute('href'), src: n.querySelector('img').getAttribute('src'), alt: n.querySelector('img').getAttribute('alt'),
  })));
  for (const { id, title, href, src, alt } of shown) {
    assert.match(title, /^<img src="\/evil-title.png" onerror="window.pwned = 1">/);
    const expected = [null, null, `${origin}/products/${id}`, `https://shop.example/p/${id}`][id % 4];
    assert.equal(href, expected, `href of ${id}`);
    assert.equal(src, id % 3 === 2 ? `${origin}/img/${id}.png` : null, `src of ${id}`);
    assert.equal(alt, '');
  }
  const defaults = await page.$$eval('#d [data-id]', (nodes) => nodes.map((n) => ({ id: n.dataset.id, tag: n.localName, href: n.getAttribute('href'), img: n.querySelector('img')?.getAttribute('src') ?? null, alt: n.querySelector('img')?.alt })));
  for (const d of defaults) {
    assert.equal(d.tag, d.id % 4 >= 2 ? 'a' : 'button', `default card of ${d.id}`);
    assert.equal(d.img, d.id % 3 === 2 ? `${origin}/img/${d.id}.png` : null);
    if (d.img) assert.equal(d.alt, '');
  }
  assert.equal(await page.$$eval('awrsr-recommendations img:not([data-field]):not(.awrsr-image), awrsr-recommendations script', (n) => n.length), 0);
  const inert = shown.find((s) => s.href === null);
  await page.click(`#t [data-id="${inert.id}"] a`);
  await page.waitForFunction((id) => awrsr.session.get().includes(id), inert.id);
  // The rail follows the view (the viewed item leaves it) before its first card is renamed below.
  await page.waitForFunction((id) => !document.querySelector(`#t [data-id="${id}"]`), inert.id);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  assert.ok(!server.requests.includes('/evil-title.png'));

  const checks = await page.evaluate(async () => {
    const { safeUrl } = await import('/pkg/awrsr-widget.js');
    return ['javascript:alert(1)', ' JavaScript:alert(1)', 'java\nscript:alert(1)', '\u0001javascript:x', 'data:text/html,x', 'vbscript:x',
      'http://a.example/x', 'HTTPS://a.example/x', '/p/1', 'p/1?x=1', '//cdn.example/i.png', '', null, 42].map((u) => safeUrl(u));
  });
  assert.deepEqual(checks.slice(0, 6), [null, null, null, null, null, null]);
  assert.deepEqual(checks.slice(6, 11), ['http://a.example/x', 'https://a.example/x', `${origin}/p/1`, `${origin}/shop/p/1?x=1`, 'http://cdn.example/i.png']);
  assert.deepEqual(checks.slice(11), [null, null, null]);

  const first = (await cards(page, '#t'))[0];
  await page.evaluate((id) => awrsr.push(['catalogue', { [id]: { title: 'Renamed by the shop', url: 'javascript:void 0' } }]), first);
  await page.waitForFunction((id) => document.querySelector(`#t [data-id="${id}"] span`)?.textContent === 'Renamed by the shop', first);
  const kept = [null, null, `${origin}/products/${first}`, `https://shop.example/p/${first}`][first % 4];
  assert.equal(await page.$eval(`#t [data-id="${first}"] a`, (a) => a.getAttribute('href')), kept, 'an unsafe URL does not replace a safe one');
  assert.deepEqual(page.errors, []);
}));

test('errors: a model or package that cannot load hides the widget, fires awrsr:error and shows no raw error', () => withBrowser({ webgpu: false }, async (context) => {
  const page = await open(context, '/shop/broken.html');
  await page.waitForFunction(() => window.failures.length === 2, null, { timeout: 60_000 });
  const failures = await page.evaluate(() => window.failures.sort((a, b) => a.id.localeCompare(b.id)));
  assert.equal(failures[0].id, 'nomodel');
  assert.match(failures[0].message, /404/);
  assert.equal(failures[1].id, 'nopkg');
  assert.ok(failures[1].message.length > 0);
  assert.deepEqual(await page.$$eval('awrsr-recommendations', (n) => n.map((x) => x.hidden && getComputedStyle(x).display)), ['none', 'none']);
  assert.doesNotMatch(await page.evaluate(() => document.body.innerText), /404|HTTP|error|cannot/i);
  const warnings = awrsrConsole(page, 'warning');
  assert.equal(warnings.length, 2, JSON.stringify(page.console));
  assert.ok(warnings.some((text) => text.includes(`${server.url}/no/such/model.awrsr`) && /HTTP 404/.test(text)), warnings.join('\n'));
  assert.ok(warnings.some((text) => text.includes(`${server.url}/www/model.awrsr`) && text.includes('/nowhere/client.js')), warnings.join('\n'));
  assert.deepEqual(awrsrConsole(page, 'error'), []);
}));

test('show-errors: the widget says why in the page; one console warning per model and cause; an HTML page where a file was expected says so', () => withBrowser({ webgpu: false }, async (context) => {
  const page = await open(context, '/shop/show-errors.html');
  await page.waitForFunction(() => window.failures.length === 5, null, { timeout: 60_000 });
  const shown = await page.$$eval('awrsr-recommendations', (nodes) => Object.fromEntries(nodes.map((n) => [n.id, {
    display: getComputedStyle(n).display, message: n.querySelector('.awrsr-message').textContent,
    error: n.querySelector('.awrsr-message').matches('.awrsr-error'), cards: n.querySelectorAll('[data-id]').length,
    progress: n.querySelector('progress').hidden,
  }])));
  const url = server.url;
  const expected = {
    missing: `cannot load model from ${url}/no/such/model.awrsr: HTTP 404 Not Found`,
    page: `cannot load model from ${url}/spa/model.awrsr: the server returned text/html: is the path right?`,
    sniffed: `cannot load model from ${url}/spa/untyped.awrsr: the server returned an HTML page: is the path right?`,
    wasm: `cannot load the awrsr wasm module from ${url}/spa-pkg/awrsr_bg.wasm: the server returned text/html: is the path right?`,
  };
  for (const [id, cause] of Object.entries(expected)) {
    assert.deepEqual(shown[id], { display: 'block', message: `Recommendations are unavailable: ${cause}`, error: true, cards: 0, progress: true }, id);
  }
  assert.equal(shown.quiet.display, 'none', 'without show-errors the widget hides');
  const models = { missing: '/no/such/model.awrsr', page: '/spa/model.awrsr', sniffed: '/spa/untyped.awrsr', wasm: '/www/model.awrsr' };
  const warnings = awrsrConsole(page, 'warning');
  assert.deepEqual(warnings.sort(), Object.entries(expected).map(([id, cause]) => `awrsr: no recommendations from the model ${url}${models[id]}: ${cause}`).sort(),
    'one warning per model and cause (#page and #quiet share theirs)');
  assert.deepEqual(awrsrConsole(page, 'error'), []);
  assert.deepEqual(page.errors, []);
}));

test('loading="lazy": nothing of the engine or model is requested until the widget nears the viewport', () => withBrowser({ webgpu: false }, async (context) => {
  const from = server.requests.length;
  const page = await open(context, '/shop/lazy.html');
  await page.waitForLoadState('networkidle');
  await page.waitForTimeout(800);
  const engine = (list) => list.filter((p) => /client\.js|worker\.js|\.wasm$|\.awrsr$/.test(p));
  assert.deepEqual(engine(server.requests.slice(from)), [], 'nothing loaded far below the fold');
  // Scroll until the widget is 300 px below the viewport: still nothing; 100 px: it starts.
  const scrollAbove = (gap) => page.evaluate((g) => {
    const top = document.querySelector('awrsr-recommendations').getBoundingClientRect().top + scrollY;
    scrollTo(0, top - innerHeight - g);
  }, gap);
  await scrollAbove(300);
  await page.waitForTimeout(500);
  assert.deepEqual(engine(server.requests.slice(from)), [], 'nothing loaded 300 px away');
  await scrollAbove(100);
  await waitCards(page, 8);
  assert.ok(engine(server.requests.slice(from)).includes('/www/model.awrsr'));
  assert.deepEqual(page.errors, []);
}));

test("per-item explanations: each card names its own item's strongest because ids", () => withBrowser({ webgpu: false }, async (context) => {
  const page = await open(context, '/shop/keys.html');
  await waitCards(page, 8);
  const unit = await page.evaluate(async () => {
    const { becauseText } = await import('/pkg/awrsr-widget.js');
    const name = (id) => `#${id}`;
    return [
      becauseText({ because: [{ id: 'a', weight: 0.2 }, { id: 'b', weight: 3.5 }, { id: 'c', weight: 2 }] }, name),
      becauseText({ because: [{ id: 'a', weight: 7 }, { id: 'b', weight: 1 }] }, name),
      becauseText({ because: [{ id: 'a', weight: NaN }, { id: 'b', weight: -1 }] }, name),
      becauseText({ because: [] }, name),
      becauseText({}, name),
    ];
  });
  assert.deepEqual(unit, ['Because you viewed #b and #c', 'Because you viewed #a', 'Popular right now', 'Popular right now', 'Popular right now']);

  await page.evaluate(() => {
    window.results = [];
    document.addEventListener('awrsr:recommendations', (e) => window.results.push(e.detail));
  });
  for (const id of ['1', '2', '3', '2571']) await page.evaluate((i) => awrsr.view(i), id);
  await page.waitForFunction(() => window.results.at(-1)?.items.every((i) => i.because?.length));
  await page.waitForFunction(() => awrsr.session.get().length === 4 && !document.querySelector('.awrsr-rail [data-id="2571"]'));
  const { expected, shown } = await page.evaluate(async () => {
    const { becauseText, nameOf } = await import('/pkg/awrsr-widget.js');
    const out = window.results.at(-1);
    return {
      expected: out.items.map((item) => becauseText(item, nameOf)),
      shown: [...document.querySelectorAll('.awrsr-card-because')].map((n) => n.textContent),
    };
  });
  assert.deepEqual(shown, expected);
  assert.ok(shown.every((t) => /^Because you viewed (Toy Story|Jumanji|Grumpier Old Men|Matrix, The|The Matrix)/.test(t)), shown.join('\n'));
}));

for (const webgpu of [true, false]) {
  test(`keyboard: Enter on a widget card keeps focus in the rail, one polite announcement without timings ${webgpu ? 'with WebGPU' : 'without WebGPU'}`, () => withBrowser({ webgpu }, async (context) => {
    const page = await open(context, '/shop/keys.html');
    await waitCards(page, 8);
    await page.evaluate(() => {
      window.said = [];
      const live = document.querySelector('awrsr-recommendations [aria-live="polite"]');
      new MutationObserver(() => window.said.push(live.textContent)).observe(live, { childList: true, characterData: true, subtree: true });
    });
    await page.keyboard.press('Tab');
    const first = await page.evaluate(() => document.activeElement.dataset.id);
    assert.equal(first, (await cards(page))[0], 'Tab reaches the first card');
    await page.keyboard.press('Enter');
    await page.waitForFunction((id) => !document.querySelector(`.awrsr-rail [data-id="${id}"]`), first);
    const focus = await page.evaluate(() => ({ body: document.activeElement === document.body, id: document.activeElement.dataset.id, inRail: !!document.activeElement.closest('.awrsr-rail') }));
    assert.ok(!focus.body && focus.inRail, JSON.stringify(focus));
    assert.equal(focus.id, (await cards(page))[0], 'focus on the first card once the viewed one left');
    await page.keyboard.press('Tab');
    const second = await page.evaluate(() => document.activeElement.dataset.id);
    await page.keyboard.press('Enter');
    await page.waitForFunction((id) => !document.querySelector(`.awrsr-rail [data-id="${id}"]`), second);
    await page.waitForTimeout(200);
    assert.deepEqual(await stored(page), [first, second]);
    assert.notEqual(await page.evaluate(() => document.activeElement), null);
    assert.equal(await page.evaluate(() => document.activeElement === document.body), false);
    const said = await page.evaluate(() => window.said);
    assert.equal(said.length, 2, `one announcement per update: ${JSON.stringify(said)}`);
    for (const text of said) {
      assert.match(text, /^Recommendations updated: 8 items, first: .+\.$/);
      assert.doesNotMatch(text, /\d\s*ms\b/);
    }
    const heights = await page.$$eval('awrsr-recommendations button, awrsr-recommendations a[href]', (n) => n.map((x) => x.getBoundingClientRect().height));
    assert.ok(heights.length === 8 && heights.every((h) => h >= 44), `heights ${heights}`);
    const ring = await page.evaluate(() => {
      const rail = document.querySelector('.awrsr-rail');
      const s = getComputedStyle(document.activeElement);
      return { padding: parseFloat(getComputedStyle(rail).paddingTop), ring: parseFloat(s.outlineWidth) + parseFloat(s.outlineOffset) };
    });
    assert.ok(ring.padding >= ring.ring && ring.ring > 0, `focus ring fits the rail's padding: ${JSON.stringify(ring)}`);
    assert.deepEqual(page.errors, []);
  }));
}

test("one engine per page: the page's own load() and the widget share one Worker, the CPU build's wasm and one model download", () => withBrowser({ webgpu: true }, async (context) => {
  const from = server.requests.length;
  const page = await open(context, '/shop/shared.html');
  await waitCards(page, 4);
  await page.waitForFunction(() => window.own === 3);
  assert.equal(page.workers().length, 1);
  const asked = server.requests.slice(from);
  assert.deepEqual(['/www/model.awrsr', '/pkg/awrsr_bg.wasm', '/pkg/worker.js'].map((path) => asked.filter((p) => p === path).length), [1, 1, 1], asked.join(' '));
  assert.ok(!asked.some((p) => p.startsWith('/pkg/webgpu/')), `the WebGPU build stays unloaded on a software adapter: ${asked.join(' ')}`);
  assert.deepEqual(page.errors, []);
}));

test('package location: config({ pkg }) from the queue or right after importing the widget, or a pkg attribute, moves where client.js and the engine come from', async () => {
  await access(join(ROOT, 'pkg-cpu/client.js')).catch(() => { throw new Error('pkg-cpu/client.js is missing: run scripts/build-web.sh --cpu'); });
  await withBrowser({ webgpu: false }, async (context) => {
    for (const path of ['/shop/moved.html', '/shop/moved-import.html', '/shop/moved-attr.html']) {
      const from = server.requests.length;
      const page = await open(context, path);
      await waitCards(page, 3);
      const asked = server.requests.slice(from);
      assert.ok(asked.includes('/pkg-cpu/client.js') && asked.includes('/pkg-cpu/awrsr_bg.wasm'), `${path}: ${asked.join(' ')}`);
      assert.ok(!asked.includes('/pkg/client.js') && !asked.includes('/pkg/awrsr_bg.wasm'), `${path}: ${asked.join(' ')}`);
      await page.close();
    }
  });
});

for (const webgpu of [true, false]) {
  test(`privacy: with the widget in worker mode no request is made after load, whatever the visitor does ${webgpu ? 'with WebGPU' : 'without WebGPU'}`, () => withBrowser({ webgpu }, async (context) => {
    const page = await open(context, '/www/embed.html');
    await page.waitForFunction(() => document.querySelectorAll('awrsr-recommendations .shop-card').length === 6, null, { timeout: 120_000 });
    const inWorker = await page.evaluate(async () => (await (await import('/pkg/awrsr-widget.js')).loadModel('model.awrsr')).inWorker);
    assert.equal(inWorker, true);
    const loaded = server.requests.length;
    const titles = () => page.$$eval('.shop-card strong', (n) => n.map((x) => x.textContent).join('|'));
    let before = await titles();
    for (const act of [
      () => page.click('.shop-card'),
      () => page.evaluate(() => awrsr.view('2571')),
      () => page.evaluate(() => document.dispatchEvent(new CustomEvent('awrsr:view', { detail: { id: '1' } }))),
      () => page.evaluate(() => awrsr.push(['view', '318'])),
      () => page.evaluate(() => awrsr.forget()),
    ]) {
      await act();
      await page.waitForFunction((b) => [...document.querySelectorAll('.shop-card strong')].map((x) => x.textContent).join('|') !== b, before);
      before = await titles();
    }
    await page.evaluate(() => awrsr.view('SKU-UNKNOWN'));
    await page.waitForTimeout(300);
    assert.equal(server.requests.length, loaded, `requests after load: ${server.requests.slice(loaded)}`);
    assert.deepEqual(page.errors, []);
  }));
}
