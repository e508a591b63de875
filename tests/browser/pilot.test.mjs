// A pilot in a shop: the widget's analytics events (awrsr:impression when a rail is seen,
// awrsr:click when a card is followed, awrsr:conversion when the page reports a purchase)
// and its built-in A/B split (arms 'awrsr', 'control', 'holdout', drawn at random once per
// visitor and experiment), through the public API and the DOM only, in headless Chromium.
// None of it makes a network request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, serve, withBrowser, openPage } from './harness.mjs';

const MODULE = '<script type="module" src="/pkg/awrsr-widget.js"></script>';
/** The identity the events give the demo model: the SHA-256 of its bytes, as `sha256sum` prints it. */
const MODEL_HASH = `sha256:${createHash('sha256').update(await readFile(join(ROOT, 'www/model.awrsr'))).digest('hex')}`;
/** Records every analytics event, from before the module loads. */
const RECORD = `<script>
  window.events = [];
  for (const type of ['awrsr:impression', 'awrsr:click', 'awrsr:conversion']) {
    document.addEventListener(type, function (e) {
      events.push({ type: e.type, detail: e.detail, target: e.target === document ? 'document' : e.target.id, bubbles: e.bubbles });
    });
  }
  window.awrsr = window.awrsr || [];
</script>`;
/** Reads the experiment and the views from the page's query: ?name=…&share=…&holdout=…&control=a,b&views=a,b */
const FROM_QUERY = `<script>
  (function () {
    var q = new URLSearchParams(location.search), ab = {};
    if (q.has('name')) ab.name = q.get('name');
    if (q.has('share')) ab.share = Number(q.get('share'));
    if (q.has('holdout')) ab.holdout = Number(q.get('holdout'));
    if (q.has('control')) ab.control = q.get('control').split(',');
    if (q.has('name')) awrsr.push(['config', { ab: ab }]);
    (q.get('views') || '').split(',').filter(Boolean).forEach(function (id) { awrsr.push(['view', id]); });
  })();
</script>`;
const html = (body, head = '') => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>pilot</title>${head}</head><body>${body}</body></html>`;

const PAGES = {
  // The rail far below the fold.
  '/pilot/below.html': html(`<h1>A product</h1><div id="spacer" style="height: 3000px"></div>
    <awrsr-recommendations id="w" model="/www/model.awrsr" k="5"></awrsr-recommendations><div style="height: 3000px"></div>`, RECORD + MODULE),
  // The experiment from the query, the rail at the top.
  '/pilot/ab.html': html(`<awrsr-recommendations id="w" model="/www/model.awrsr" k="5"></awrsr-recommendations>`, RECORD + FROM_QUERY + MODULE),
  // The experiment in the element's attributes, with the shop's own control list and card template.
  '/pilot/attr.html': html(`<awrsr-recommendations id="w" model="/www/model.awrsr" k="5" ab="attr-pilot" ab-share="0" ab-control="260, 1196 2571">
      <template><div class="shop-card"><a data-field="href" data-action="view"><span data-field="title"></span></a> <small data-field="score"></small> <em class="note">in stock</em></div></template>
    </awrsr-recommendations>`, RECORD + MODULE),
  // A checkout page: no widget; the purchase is queued before the module loads.
  '/pilot/checkout.html': html(`<p>Thank you</p>`, `${RECORD}<script>
    awrsr.push(['config', { ab: { name: 'checkout', share: 1 } }], ['convert', '260'], ['convert', '']);
    window.queued = awrsr.length;
  </script>${MODULE}`),
};

let server;
before(async () => {
  server = await serve({ files: PAGES });
});
after(async () => { await server?.close(); });

/** Opens a page of the test server and waits until the widget module has replaced the queue. */
const open = (context, path) => openPage(context, `${server.url}${path}`, { ready: () => !Array.isArray(window.awrsr), timeout: 60_000 });

const cards = (page) => page.$$eval('#w .awrsr-rail [data-id]', (n) => n.map((x) => x.dataset.id));
const waitCards = (page, count = 5) => page.waitForFunction(
  (c) => document.querySelectorAll('#w .awrsr-rail [data-id]').length === c, count, { timeout: 120_000 });
const events = (page, type) => page.evaluate((t) => window.events.filter((e) => e.type === `awrsr:${t}`), type);
/** What the model answers for a session, through the client API (the widget's shared model). */
const modelAnswer = (page, ids, k = 5) => page.evaluate(async ([s, n]) => {
  const { loadModel } = await import('/pkg/awrsr-widget.js');
  const rec = await loadModel('/www/model.awrsr');
  return (await rec.recommend(s, { k: n })).items.map((i) => i.id);
}, [ids, k]);
/** How a card is built, whatever its item: the same for every arm. */
const cardShape = (page) => page.$$eval('#w .awrsr-card', (n) => n.map((card) => [...card.querySelectorAll('*')]
  .map((x) => `${x.localName}.${x.className}`).join(' ') + ' | ' + card.querySelector('.awrsr-card-because')?.textContent));

test('impression when the rail is scrolled into view, once per list; click and conversion details; no request after load', () => withBrowser({ webgpu: false }, async (context) => {
  const page = await open(context, '/pilot/below.html');
  await waitCards(page);
  const loaded = server.requests.length;
  await page.waitForTimeout(800);
  assert.deepEqual(await events(page, 'impression'), [], 'no impression while the rail is below the fold');

  await page.$eval('#w', (n) => n.scrollIntoView({ block: 'center' }));
  await page.waitForFunction(() => window.events.some((e) => e.type === 'awrsr:impression'));
  const shown = await cards(page);
  const [first] = await events(page, 'impression');
  assert.deepEqual(first.detail, {
    items: shown.map((id, i) => ({ id, position: i + 1 })), variant: 'awrsr', model: MODEL_HASH,
  });
  assert.equal(first.target, 'w');
  assert.equal(first.bubbles, true);

  // Scrolling away and back shows the same list: no second impression.
  await page.evaluate(() => scrollTo(0, 0));
  await page.waitForTimeout(400);
  await page.$eval('#w', (n) => n.scrollIntoView({ block: 'center' }));
  await page.waitForTimeout(600);
  assert.equal((await events(page, 'impression')).length, 1, 'one impression per list, not per scroll');

  // Following the third card: its id and position; the new list, in view, is a new impression.
  const third = shown[2];
  await page.click(`#w .awrsr-rail [data-id="${third}"]`);
  const clicks = await events(page, 'click');
  assert.deepEqual(clicks.map((e) => [e.detail, e.target, e.bubbles]),
    [[{ id: third, position: 3, variant: 'awrsr', model: MODEL_HASH }, 'w', true]]);
  await page.waitForFunction(() => window.events.filter((e) => e.type === 'awrsr:impression').length === 2);
  const second = (await events(page, 'impression'))[1].detail;
  assert.deepEqual(second.items.map((i) => i.id), await cards(page));
  assert.ok(!second.items.some((i) => i.id === third), 'the new list leaves out the viewed item');

  const ids = await page.evaluate(async () => (await (await import('/pkg/awrsr-widget.js')).loadModel('/www/model.awrsr')).itemIds());
  const seen = new Set([...shown, ...second.items.map((i) => i.id)]);
  const never = ids.find((id) => !seen.has(id));
  const results = await page.evaluate(([a, b, c]) => [awrsr.convert(a), awrsr.convert(b), awrsr.push(['convert', c])], [shown[0], third, never]);
  assert.equal(results[2], 1);
  const conversions = await events(page, 'conversion');
  assert.deepEqual(conversions.map((e) => [e.detail, e.target, e.bubbles]), [
    [{ id: shown[0], variant: 'awrsr', recommended: true, clicked: false }, 'document', true],
    [{ id: third, variant: 'awrsr', recommended: true, clicked: true }, 'document', true],
    [{ id: never, variant: 'awrsr', recommended: false, clicked: false }, 'document', true],
  ]);
  assert.deepEqual(results.slice(0, 2), conversions.slice(0, 2).map((e) => e.detail), 'convert() returns the detail');
  assert.deepEqual(server.requests.slice(loaded), [], 'no request after load: impressions, clicks and conversions send nothing');

  // Shown ids survive a reload (kept beside the session); forget() clears them.
  await page.reload();
  await page.waitForFunction(() => !Array.isArray(window.awrsr));
  assert.equal(await page.evaluate((id) => awrsr.convert(id).recommended, shown[1]), true);
  assert.equal(await page.evaluate((id) => { awrsr.forget(); return awrsr.convert(id); }, shown[1]).then((d) => d.recommended || d.clicked), false);
  assert.deepEqual(page.errors, []);
}));

test('conversions queued before the module loads, on a page without the widget, carry the arm of the configured experiment', () => withBrowser({ webgpu: false }, async (context) => {
  const from = server.requests.length;
  const page = await open(context, '/pilot/checkout.html');
  assert.equal(await page.evaluate(() => window.queued), 3);
  await page.waitForFunction(() => window.events.length === 1);
  assert.deepEqual((await events(page, 'conversion')).map((e) => e.detail), [{ id: '260', variant: 'awrsr', recommended: false, clicked: false }]);
  assert.equal(await page.evaluate(() => awrsr.variant()), 'awrsr');
  assert.equal(await page.evaluate(() => localStorage.getItem('awrsr.ab.checkout')), 'awrsr');
  assert.deepEqual(server.requests.slice(from).filter((p) => /model\.awrsr|\.wasm$|client\.js/.test(p)), [], 'no engine or model on a page without the widget');
  const checks = await page.evaluate(() => [{ share: 2 }, { name: '' }, { control: [] }, { control: 'all' }, { shares: 1 }, 'x'].map((ab) => {
    try { awrsr.config({ ab }); return 'accepted'; } catch (e) { return e instanceof TypeError; }
  }));
  assert.deepEqual(checks, [true, true, true, true, true, true], 'wrong ab settings are refused');
  assert.deepEqual(await page.evaluate(() => awrsr.config({ ab: { name: 'n' } }).ab), { name: 'n', share: 0.5, holdout: 0, control: 'bestsellers' });
  assert.equal(await page.evaluate(() => awrsr.config({ ab: null }).ab), null);
  assert.equal(await page.evaluate(() => awrsr.variant()), 'awrsr', "no experiment: 'awrsr'");
  assert.deepEqual(page.errors, []);
}));

test('assignment: drawn once, stable across reloads; a new name draws anew; random, not derived from the visitor', () => withBrowser({ webgpu: false }, async (context) => {
  const page = await open(context, '/pilot/ab.html?name=stable&share=0.5&views=1,2,3');
  const arm = await page.evaluate(() => awrsr.variant());
  assert.ok(arm === 'awrsr' || arm === 'control', arm);
  await waitCards(page);
  for (let i = 0; i < 3; i++) {
    await page.reload();
    await page.waitForFunction(() => !Array.isArray(window.awrsr));
    assert.equal(await page.evaluate(() => awrsr.variant()), arm, `reload ${i + 1}`);
    assert.equal(await page.$eval('#w', (n) => n.variant), arm);
    assert.equal(await page.evaluate(() => localStorage.getItem('awrsr.ab.stable')), arm);
  }
  // The same visitor in 60 experiments: every arm turns up (a hash of the visitor would give one).
  const arms = await page.evaluate(() => Array.from({ length: 60 }, (_, i) => {
    awrsr.config({ ab: { name: `many-${i}`, share: 0.5, holdout: 1 / 3 } });
    return awrsr.variant();
  }));
  assert.deepEqual([...new Set(arms)].sort(), ['awrsr', 'control', 'holdout'], arms.join(' '));
  const again = await page.evaluate(() => Array.from({ length: 60 }, (_, i) => {
    awrsr.config({ ab: { name: `many-${i}`, share: 0, holdout: 0 } }); // changed shares: assignments stay
    return awrsr.variant();
  }));
  assert.deepEqual(again, arms);
  assert.deepEqual(page.errors, []);
}));

test("arms: share 1 shows the model's rail, share 0 the empty-session list in the same cards, holdout 1 no rail", () => withBrowser({ webgpu: false }, async (context) => {
  const views = ['1', '2', '3'];
  const model = await open(context, `/pilot/ab.html?name=all-model&share=1&views=${views}`);
  await waitCards(model);
  assert.equal(await model.evaluate(() => awrsr.variant()), 'awrsr');
  assert.deepEqual(await cards(model), await modelAnswer(model, views));
  const empty = await modelAnswer(model, []);
  assert.notDeepEqual(empty, await modelAnswer(model, views), 'the test needs a session whose rail differs from the best sellers');
  await model.waitForFunction(() => window.events.some((e) => e.type === 'awrsr:impression'));
  assert.equal((await events(model, 'impression'))[0].detail.variant, 'awrsr');
  const modelShape = await cardShape(model);
  await model.close();

  const control = await open(context, `/pilot/ab.html?name=all-control&share=0&views=${views}`);
  await waitCards(control);
  assert.equal(await control.evaluate(() => awrsr.variant()), 'control');
  assert.equal(await control.$eval('#w', (n) => n.variant), 'control');
  assert.deepEqual(await cards(control), empty, "the control rail is the model's empty-session list");
  assert.deepEqual(await cardShape(control), modelShape.map((s) => s.replace(/\| .*$/, '| Popular right now')), 'the same cards');
  await control.waitForFunction(() => window.events.some((e) => e.type === 'awrsr:impression'));
  assert.deepEqual((await events(control, 'impression'))[0].detail.items.map((i) => i.id), empty);
  assert.equal((await events(control, 'impression'))[0].detail.variant, 'control');
  await control.click(`#w .awrsr-rail [data-id="${empty[1]}"]`);
  assert.deepEqual((await events(control, 'click')).map((e) => e.detail.variant + e.detail.position), ['control2']);
  await control.waitForTimeout(300);
  assert.deepEqual(await cards(control), empty, 'the control list does not follow the session');
  await control.close();

  const from = server.requests.length;
  const holdout = await open(context, `/pilot/ab.html?name=all-holdout&share=1&holdout=1`);
  await holdout.waitForFunction(() => document.querySelector('#w').hidden);
  await holdout.waitForTimeout(500);
  assert.equal(await holdout.$eval('#w', (n) => [n.variant, getComputedStyle(n).display, n.querySelectorAll('[data-id]').length].join()), 'holdout,none,0');
  assert.deepEqual(server.requests.slice(from).filter((p) => /model\.awrsr|\.wasm$/.test(p)), [], 'the holdout arm loads no model');
  assert.deepEqual(await holdout.evaluate(() => awrsr.convert('SKU-never-shown')), { id: 'SKU-never-shown', variant: 'holdout', recommended: false, clicked: false });
  assert.deepEqual((await events(holdout, 'conversion')).map((e) => e.detail.variant), ['holdout']);
  assert.deepEqual(await events(holdout, 'impression'), []);
  for (const page of [holdout]) assert.deepEqual(page.errors, []);
}));

test("control with the shop's own ids, set by the element's attributes, in the shop's card template", () => withBrowser({ webgpu: false }, async (context) => {
  const page = await open(context, '/pilot/attr.html');
  await waitCards(page, 3);
  assert.deepEqual(await cards(page), ['260', '1196', '2571']);
  assert.equal(await page.$eval('#w', (n) => n.variant), 'control');
  assert.equal(await page.evaluate(() => awrsr.variant()), 'control', "the page's arm comes from the element");
  assert.equal(await page.evaluate(() => localStorage.getItem('awrsr.ab.attr-pilot')), 'control');
  const titles = await page.$$eval('#w [data-field="title"]', (n) => n.map((x) => x.textContent));
  assert.ok(titles.length === 3 && titles.every((t) => /Star Wars|Matrix/.test(t)), titles.join(' | '));
  assert.deepEqual(await page.$$eval('#w [data-field="score"]', (n) => n.map((x) => x.textContent)), ['', '', ''], 'no score for the shop\'s ids');
  await page.waitForFunction(() => window.events.some((e) => e.type === 'awrsr:impression'));
  assert.deepEqual((await events(page, 'impression'))[0].detail.items, [{ id: '260', position: 1 }, { id: '1196', position: 2 }, { id: '2571', position: 3 }]);
  await page.click('#w [data-id="1196"] a');
  await page.click('#w [data-id="1196"] .note'); // not a link nor a data-action control: not followed
  assert.deepEqual((await events(page, 'click')).map((e) => e.detail), [{ id: '1196', position: 2, variant: 'control', model: MODEL_HASH }]);
  assert.equal(await page.evaluate(() => awrsr.convert('1196').clicked), true);
  assert.deepEqual(page.errors, []);
}));
