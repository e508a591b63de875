// The storefront demo and the embeddable widget, end to end in headless Chromium, with
// WebGPU and without: clicks drive the rail, the session survives a reload and can be
// forgotten, explanations name clicked items, titles are text, and no request leaves the
// page after it has loaded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { OUTPUT, serve, launch } from './harness.mjs';

let server;
before(async () => { server = await serve(); });
after(async () => { await server?.close(); });

async function openDemo(context, query = '') {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}/www/index.html${query}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
  page.errors = errors;
  return page;
}

const railIds = (page) => page.$$eval('#rail [data-id]', (nodes) => nodes.map((n) => n.dataset.id));
const click = async (page, id) => {
  const before = await railIds(page);
  await page.click(`#grid [data-id="${id}"]`);
  await page.waitForFunction((b) => JSON.stringify([...document.querySelectorAll('#rail [data-id]')].map((n) => n.dataset.id)) !== b, JSON.stringify(before));
};

for (const webgpu of [true, false]) {
  test(`demo storefront ${webgpu ? 'with WebGPU' : 'without WebGPU'}`, async () => {
    const context = await launch({ webgpu });
    try {
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
    } finally {
      await context.close();
    }
  });
}

test('titles holding HTML are shown as text, never run', async () => {
  const context = await launch({ webgpu: false });
  try {
    const page = await openDemo(context, '?catalogue=/tests/browser/fixtures/evil-catalogue.json');
    await page.click('#grid [data-id="1"]');
    await page.click('#grid [data-id="2"]');
    await page.waitForFunction(() => document.querySelectorAll('#session li').length === 2);
    const titles = await page.$$eval('#grid .item-title', (n) => n.slice(0, 3).map((x) => x.textContent));
    assert.deepEqual(titles, ['<script>window.pwned = 1</script>Toy Story', '<img src="/evil.png" onerror="window.pwned = 2">Jumanji', 'Grumpier <b>Old</b> Men &amp; "quotes"']);
    assert.equal(await page.evaluate(() => window.pwned), undefined);
    assert.equal(await page.$$eval('main script, main img, main b', (n) => n.length), 0);
    assert.ok(!server.requests.includes('/evil.png'));
  } finally {
    await context.close();
  }
});

test('the embeddable widget works on a plain product page', async () => {
  const context = await launch({ webgpu: false });
  try {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/www/embed.html`);
    await page.waitForFunction(() => document.querySelectorAll('awrsr-recommendations .shop-card').length === 6, null, { timeout: 120_000 });
    const first = await page.$$eval('.shop-card strong', (n) => n.map((x) => x.textContent));
    assert.ok(!first.includes('Heat (1995)'), 'the viewed product is not recommended');
    assert.ok((await page.$$eval('.shop-card small', (n) => n.map((x) => x.textContent))).every((t) => t.includes('Heat (1995)')));
    assert.deepEqual(await page.evaluate(() => awrsr.session.get()), ['6']);

    await page.click('.shop-card');
    await page.waitForFunction(() => awrsr.session.get().length === 2);
    await page.evaluate(() => document.dispatchEvent(new CustomEvent('awrsr:view', { detail: { id: '1' } })));
    await page.waitForFunction(() => awrsr.session.get().at(-1) === '1');
    await page.waitForFunction((f) => JSON.stringify([...document.querySelectorAll('.shop-card strong')].map((x) => x.textContent)) !== f, JSON.stringify(first));
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
