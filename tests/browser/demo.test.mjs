// The storefront demo and the embeddable widget, end to end in headless Chromium, with
// WebGPU and without: clicks drive the rail, the session survives a reload and can be
// forgotten, explanations name clicked items, titles are text, and no request leaves the
// page after it has loaded. Accessibility: a keyboard-only visit (skip link, Tab, Enter;
// focus never falls to the body), one polite announcement per rail update without timings,
// the heat map's text alternative, 44 px touch targets, a phone layout with the rail and
// session before the catalogue under a small sticky header whose search box and genre select
// are not cut, and a favicon.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { OUTPUT, serve, withBrowser, openPage } from './harness.mjs';

let server;
before(async () => { server = await serve(); });
after(async () => { await server?.close(); });

/** Opens the demo (`query`: its query string; `viewport`: a size set before loading) and waits until the store is ready. */
const openDemo = (context, query = '', { viewport } = {}) =>
  openPage(context, `${server.url}/www/index.html${query}`, { viewport, ready: 'body[data-ready="true"]', timeout: 120_000 });

const railIds = (page) => page.$$eval('#rail [data-id]', (nodes) => nodes.map((n) => n.dataset.id));
const click = async (page, id) => {
  const before = await railIds(page);
  await page.click(`#grid [data-id="${id}"]`);
  await page.waitForFunction((b) => JSON.stringify([...document.querySelectorAll('#rail [data-id]')].map((n) => n.dataset.id)) !== b, JSON.stringify(before));
};

for (const webgpu of [true, false]) {
  test(`demo storefront ${webgpu ? 'with WebGPU' : 'without WebGPU'}`, () => withBrowser({ webgpu }, async (context) => {
    // On this machine WebGPU is a software adapter, which 'auto' passes over for the CPU:
    // ask for WebGPU explicitly to drive the demo on it.
    const page = await openDemo(context, webgpu ? '?backend=webgpu' : '');
    assert.match(await page.textContent('#badge'), webgpu ? /WebGPU/ : /CPU/);
    const loaded = server.requests.length;
    assert.equal((await railIds(page)).length, 10, 'recommendations for an empty session');

    const clicked = [];
    for (const id of ['1', '2', '3']) {
      await click(page, id);
      clicked.push(id);
      const rail = await railIds(page);
      assert.equal(rail.length, 10);
      assert.ok(!rail.some((r) => clicked.includes(r)), `rail holds a clicked item: ${rail}`);
    }
    const because = await page.$$eval('#rail .item-because', (n) => n.map((x) => x.textContent));
    assert.ok(because.every((t) => /Because you viewed (Toy Story|Jumanji|Grumpier Old Men)/.test(t)), because.join('\n'));
    assert.deepEqual(await page.$$eval('#session li', (n) => n.map((x) => x.textContent)), ['Grumpier Old Men', 'Jumanji', 'Toy Story']);
    assert.match(await page.textContent('#heat-caption'), /Toy Story → Jumanji → Grumpier Old Men/);

    await page.fill('#search', 'matrix');
    await page.waitForFunction(() => document.querySelectorAll('#grid [data-id]').length < 10);
    await page.click('#grid [data-id="2571"]');
    await page.waitForFunction(() => document.querySelector('#session li')?.textContent === 'The Matrix');
    await page.waitForFunction(() => /of your 4 views/.test(document.querySelector('#rail-hint').textContent));
    assert.ok(!(await railIds(page)).includes('2571'));
    assert.equal(server.requests.length, loaded, `requests after load: ${server.requests.slice(loaded)}`);

    if (webgpu) {
      await mkdir(OUTPUT, { recursive: true });
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: join(OUTPUT, 'demo.png'), fullPage: false });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: join(OUTPUT, 'demo-phone.png') });
    }

    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal(await page.$$eval('#session li', (n) => n.length), 4, 'session kept across a reload');
    await page.click('#forget');
    await page.waitForFunction(() => document.querySelectorAll('#session li').length === 0);
    assert.equal(await page.evaluate(() => localStorage.getItem('awrsr.session')), '[]');
    assert.deepEqual(page.errors, []);
  }));
}

test('titles holding HTML are shown as text, never run', () => withBrowser({ webgpu: false }, async (context) => {
  const page = await openDemo(context, '?catalogue=/tests/browser/fixtures/evil-catalogue.json');
  await page.click('#grid [data-id="1"]');
  await page.click('#grid [data-id="2"]');
  await page.waitForFunction(() => document.querySelectorAll('#session li').length === 2);
  const titles = await page.$$eval('#grid .item-title', (n) => n.slice(0, 3).map((x) => x.textContent));
  assert.deepEqual(titles, ['<script>window.pwned = 1</script>Toy Story', '<img src="/evil.png" onerror="window.pwned = 2">Jumanji', 'Grumpier <b>Old</b> Men &amp; "quotes"']);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  assert.equal(await page.$$eval('main script, main img, main b', (n) => n.length), 0);
  assert.ok(!server.requests.includes('/evil.png'));
}));

test('the embeddable widget works on a plain product page', () => withBrowser({ webgpu: false }, async (context) => {
  const page = await openPage(context, `${server.url}/www/embed.html`,
    { ready: () => document.querySelectorAll('awrsr-recommendations .shop-card').length === 6, timeout: 120_000 });
  const first = await page.$$eval('.shop-card strong', (n) => n.map((x) => x.textContent));
  assert.ok(!first.includes('Heat (1995)'), 'the viewed product is not recommended');
  assert.ok((await page.$$eval('.shop-card small', (n) => n.map((x) => x.textContent))).every((t) => t.includes('Heat (1995)')));
  assert.deepEqual(await page.evaluate(() => awrsr.session.get()), ['6']);
  assert.equal(await page.$eval('awrsr-recommendations .awrsr-rail', (n) => getComputedStyle(n).gridAutoFlow), 'row',
    "the shop's own .awrsr-rail rule wins over the widget's adopted stylesheet");

  await page.click('.shop-card');
  await page.waitForFunction(() => awrsr.session.get().length === 2);
  await page.evaluate(() => document.dispatchEvent(new CustomEvent('awrsr:view', { detail: { id: '1' } })));
  await page.waitForFunction(() => awrsr.session.get().at(-1) === '1');
  await page.waitForFunction((f) => JSON.stringify([...document.querySelectorAll('.shop-card strong')].map((x) => x.textContent)) !== f, JSON.stringify(first));
  assert.deepEqual(page.errors, []);
}));

/** Where keyboard focus is: `body`, or the element's id / data-id and the list it is in. */
const focusInfo = (page) => page.evaluate(() => {
  const a = document.activeElement;
  return {
    body: !a || a === document.body, id: a?.id ?? '', dataId: a?.dataset?.id ?? null, text: a?.textContent?.trim() ?? '',
    list: a?.closest('#rail') ? 'rail' : a?.closest('#grid') ? 'grid' : null,
  };
});
const sessionLength = (page) => page.$$eval('#session li', (n) => n.length);
/** Live regions' texts: role=status/alert/log, aria-live, <output>. */
const liveTexts = (page) => page.$$eval('[aria-live], [role="status"], [role="alert"], [role="log"], output', (n) => n.map((x) => x.textContent));

/** Presses `key` until `done(focus)` holds (at most `limit` times), checking focus never is on the body. */
async function pressUntil(page, key, done, limit = 40) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press(key);
    const focus = await focusInfo(page);
    assert.ok(!focus.body, `focus fell to the body after ${key}`);
    if (done(focus)) return focus;
  }
  throw new Error(`${key} ×${limit} never reached the target`);
}

for (const webgpu of [true, false]) {
  test(`keyboard only: skip link, search, view with Enter, the rail keeps focus ${webgpu ? 'with WebGPU' : 'without WebGPU'}`, () => withBrowser({ webgpu }, async (context) => {
    const page = await openDemo(context, webgpu ? '?backend=webgpu' : '');
    const loaded = server.requests.length;
    let focus = await pressUntil(page, 'Tab', () => true, 1);
    assert.equal(focus.text, 'Skip to recommendations', 'the skip link is the first stop');
    await page.keyboard.press('Enter');
    assert.equal((await focusInfo(page)).id, 'recommendations', 'the skip link moves focus to the rail');
    focus = await pressUntil(page, 'Tab', () => true, 1);
    assert.equal(focus.list, 'rail', 'Tab after the skip link reaches the first recommendation');

    await pressUntil(page, 'Shift+Tab', (f) => f.id === 'search');
    await page.keyboard.type('toy story');
    await page.waitForFunction(() => document.querySelectorAll('#grid [data-id]').length < 10);
    focus = await pressUntil(page, 'Tab', (f) => f.list === 'grid');
    const rail0 = await railIds(page);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelectorAll('#session li').length === 1);
    await page.waitForFunction((b) => JSON.stringify([...document.querySelectorAll('#rail [data-id]')].map((n) => n.dataset.id)) !== b, JSON.stringify(rail0));
    assert.equal((await focusInfo(page)).dataId, focus.dataId, 'focus stays on the viewed catalogue movie');

    focus = await pressUntil(page, 'Shift+Tab', (f) => f.list === 'rail');
    const rail1 = await railIds(page);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelectorAll('#session li').length === 2);
    await page.waitForFunction((b) => JSON.stringify([...document.querySelectorAll('#rail [data-id]')].map((n) => n.dataset.id)) !== b, JSON.stringify(rail1));
    const after = await focusInfo(page);
    assert.ok(!after.body && after.list === 'rail', `focus after the rail was rebuilt: ${JSON.stringify(after)}`);
    assert.ok(!(await railIds(page)).includes(focus.dataId), 'the viewed recommendation left the rail');
    assert.equal(after.dataId, (await railIds(page))[0], 'focus went to the first card');
    assert.equal(await sessionLength(page), 2);

    const announced = await page.textContent('#announce');
    assert.match(announced, /^Recommendations updated: 10 items, first: .+/);
    assert.ok(announced.includes(await page.textContent('#rail [data-id] .item-title')), announced);
    for (const text of await liveTexts(page)) assert.doesNotMatch(text, /\d\s*ms\b/, `timing in a live region: ${text}`);
    assert.equal(server.requests.length, loaded, `requests after load: ${server.requests.slice(loaded)}`);
    assert.deepEqual(page.errors, []);
  }));
}

test('one polite announcement per rail update, none with timings; the heat map has a text alternative', () => withBrowser({ webgpu: false }, async (context) => {
  const page = await openDemo(context);
  assert.equal(await page.getAttribute('#announce', 'aria-live'), 'polite');
  assert.equal(await page.$$eval('#badge', (n) => n[0].closest('[aria-live], [role="status"]')), null, 'the timing badge is not live');
  await page.evaluate(() => {
    window.announcements = [];
    new MutationObserver(() => window.announcements.push(document.getElementById('announce').textContent))
      .observe(document.getElementById('announce'), { childList: true, characterData: true, subtree: true });
  });
  await click(page, '1');
  await click(page, '2');
  await page.waitForFunction(() => window.announcements.length >= 2);
  await page.waitForTimeout(300);
  const said = await page.evaluate(() => window.announcements);
  assert.equal(said.length, 2, `one announcement per update: ${JSON.stringify(said)}`);
  for (const text of said) assert.match(text, /^Recommendations updated: 10 items, first: /);
  for (const text of await liveTexts(page)) assert.doesNotMatch(text, /\d\s*ms\b/, `timing in a live region: ${text}`);

  assert.equal(await page.getAttribute('#heatmap', 'role'), 'img');
  assert.match(await page.getAttribute('#heatmap', 'aria-label'), /^Attention heat map of 2 viewed movies; strongest link: Jumanji attends to Toy Story: \d+%$/);
  assert.deepEqual(await page.$$eval('#heat-links li', (n) => n.map((x) => x.textContent.replace(/\d+%/, 'N%'))), ['Jumanji attends to Toy Story: N%']);
  assert.equal(await page.textContent('h1'), 'awrsr movies');
  const padding = await page.$eval('#rail', (n) => Math.min(...['Top', 'Right', 'Bottom', 'Left'].map((s) => parseFloat(getComputedStyle(n)[`padding${s}`]))));
  const ring = await page.$eval('#rail .item-button', (n) => { n.focus(); const s = getComputedStyle(n); return parseFloat(s.outlineWidth) + parseFloat(s.outlineOffset); });
  assert.ok(padding >= ring, `the rail's padding (${padding}px) holds the focus ring (${ring}px)`);
}));

/** Heights of every visible button, input, select and link styled as one, below 44 px. */
const smallTargets = (page) => page.$$eval('button, input, select, .skip-link', (nodes) => nodes
  .filter((n) => !n.hidden && n.getClientRects().length)
  .map((n) => ({ what: n.id || n.className || n.tagName, h: n.getBoundingClientRect().height }))
  .filter((t) => t.h < 44));

for (const [width, height] of [[1280, 800], [390, 844]]) {
  test(`touch targets are at least 44 px tall at ${width}×${height}`, () => withBrowser({ webgpu: false }, async (context) => {
    const page = await openDemo(context, '', { viewport: { width, height } });
    await click(page, '1');
    await page.click('#more');
    assert.deepEqual(await smallTargets(page), []);
    await page.goto(`${server.url}/www/embed.html`);
    await page.waitForFunction(() => document.querySelectorAll('awrsr-recommendations .shop-card').length === 6, null, { timeout: 120_000 });
    assert.deepEqual(await smallTargets(page), []);
  }));
}

test('on a 390 px phone the rail and the session come before the catalogue, under a small sticky header', () => withBrowser({ webgpu: false }, async (context) => {
  const page = await openDemo(context, '', { viewport: { width: 390, height: 844 } });
  const layout = await page.evaluate(() => {
    const top = (selector) => document.querySelector(selector).getBoundingClientRect().top + scrollY;
    const header = document.querySelector('header.top');
    return {
      header: header.getBoundingClientRect().height, position: getComputedStyle(header).position,
      rail: top('#rail'), session: top('#session-title'), catalogue: top('#catalogue-title'),
      firstCard: document.querySelector('#rail [data-id]').getBoundingClientRect().top, screen: innerHeight,
      overflow: document.documentElement.scrollWidth - innerWidth,
    };
  });
  assert.equal(layout.position, 'sticky');
  assert.ok(layout.header <= 80, `header ${layout.header}px tall`);
  assert.ok(layout.rail < layout.session && layout.session < layout.catalogue, JSON.stringify(layout));
  assert.ok(layout.firstCard < layout.screen / 2, `the rail's first card starts in the top half of the first screen: ${JSON.stringify(layout)}`);
  assert.ok(layout.overflow <= 0, `the page scrolls sideways by ${layout.overflow}px`);
  await mkdir(OUTPUT, { recursive: true });
  await page.screenshot({ path: join(OUTPUT, 'demo-phone-layout.png') });
}));

/** How far each header field's text would be cut (0 when it fits): the search box holding its
 *  placeholder's text (beside its clear button), and the genre select against its own natural
 *  width (that of its longest genre). */
const cutFields = (page) => page.evaluate(() => {
  const search = document.querySelector('#search');
  search.value = search.placeholder;
  const searchCut = search.scrollWidth - search.clientWidth;
  search.value = '';
  const genre = document.querySelector('#genre');
  const free = genre.cloneNode(true);
  free.style.cssText = 'position: absolute; width: max-content; max-width: none';
  genre.after(free);
  const genreCut = free.getBoundingClientRect().width - genre.getBoundingClientRect().width;
  free.remove();
  return { search: Math.max(0, searchCut), genre: Math.max(0, genreCut) };
});

test('on a 390 px phone and on a desktop the search box and the genre select are not cut', () => withBrowser({ webgpu: false }, async (context) => {
  for (const [width, height] of [[390, 844], [1280, 800]]) {
    const page = await openDemo(context, '', { viewport: { width, height } });
    assert.deepEqual(await cutFields(page), { search: 0, genre: 0 }, `${width} px`);
    await page.close();
  }
}));

test('the demo pages have a favicon: no request for a missing /favicon.ico', () => withBrowser({ webgpu: false }, async (context) => {
  for (const path of ['/www/index.html', '/www/embed.html']) {
    const from = server.requests.length;
    const page = await openPage(context, `${server.url}${path}`);
    const icon = await page.$eval('link[rel="icon"]', (link) => link.href);
    assert.equal(icon, `${server.url}/www/favicon.svg`, path);
    assert.equal((await page.request.get(icon)).headers()['content-type'], 'image/svg+xml');
    const deadline = Date.now() + 10_000;
    while (!server.requests.slice(from).includes('/www/favicon.svg') && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 100));
    const asked = server.requests.slice(from);
    assert.ok(asked.includes('/www/favicon.svg'), `${path}: ${asked.join(' ')}`);
    assert.ok(!asked.includes('/favicon.ico'), `${path}: ${asked.join(' ')}`);
    await page.close();
  }
}));

test('while the store loads, the page behind the overlay is inert: Tab reaches none of it, and all of it once ready', async () => {
  const slow = await serve({ slow: { '/www/model.awrsr': { ms: 4000 } } });
  try {
    await withBrowser({ webgpu: false }, async (context) => {
      const page = await openPage(context, `${slow.url}/www/index.html`,
        { ready: () => !document.getElementById('loading').hidden && document.querySelector('main').inert });
      for (let i = 0; i < 6; i++) {
        await page.keyboard.press('Tab');
        const escaped = await page.evaluate(() => {
          const a = document.activeElement;
          return a && a !== document.body && !document.getElementById('loading').contains(a) ? a.outerHTML.slice(0, 120) : null;
        });
        assert.equal(escaped, null, `Tab ${i + 1} reached the page behind the loading overlay`);
      }
      assert.equal(await page.evaluate(() => document.body.dataset.ready), undefined, 'still loading while Tab was pressed');
      assert.deepEqual(await page.$$eval('body > [inert]', (n) => n.map((x) => x.localName)), ['a', 'header', 'main', 'footer']);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
      assert.equal(await page.$$eval('[inert]', (n) => n.length), 0, 'nothing stays inert once ready');
      await page.evaluate(() => document.activeElement?.blur());
      await page.keyboard.press('Tab');
      assert.equal((await focusInfo(page)).text, 'Skip to recommendations');
      assert.deepEqual(page.errors, []);
    });
  } finally {
    await slow.close();
  }
});
