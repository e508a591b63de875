// awrsr studio (www/studio/), end to end in headless Chromium through the page's own controls,
// every page served under a strict Content-Security-Policy (no inline script or style, no
// eval; only 'wasm-unsafe-eval' for the engine) and checked for violations:
// - a patterned session export made here (item k is followed by k + 1) is read (sessions,
//   items, clicks), trained for 3 epochs in the Worker (progress, chart, per-epoch table), and
//   the result shows test figures beside the baselines, the model ahead of popularity; the
//   downloaded model.awrsr is a safetensors awrsr bundle (and, with AWRSR_BIN set to the native
//   CLI, `awrsr recommend` answers from it), catalogue.json parses, the snippet is filled in,
//   the example sessions have reasons; after the page has loaded no request is made at all, and
//   the whole visit asks only for the page's and the engine's own files; at 390 px nothing
//   scrolls sideways and every control is at least 44 px tall;
// - Stop after the first epoch of a 50-epoch run still gives a result (the best model so far);
// - MovieLens latest-small (ratings.csv with movies.csv) reads as 610 users and 9,724 items
//   (leave-one-out) and trains one epoch while the page's thread stays free (no task over
//   250 ms), with the pace and time left shown and the examples named by their titles;
// - hostile files: a broken line and binary garbage give the reader's message naming the file
//   and the line as text (with AWRSR_BIN, the same message as the CLI's), a file over the
//   tab's limit is refused up front with its size and the limit, and the page keeps working
//   (a file dropped on the drop zone reads), with no uncaught error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, OUTPUT, serve, withBrowser, openPage } from './harness.mjs';

/** What the studio needs and nothing more: its own scripts, worker, styles, icon and the engine's wasm. */
const CSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'";
/** Every path the studio may ask the server for: its own files and the engine's. */
const OWN_FILES = /^\/(www\/studio\/(|index\.html|studio\.js|worker\.js|chart\.js|studio\.css)|www\/favicon\.svg|pkg-studio\/awrsr(\.js|_bg\.wasm))$/;
const MOVIELENS = join(ROOT, 'data/ml-latest-small');

/**
 * A session export (`session,item,time`, Unix seconds) where each session walks the item
 * ring: item k is followed by item k + 1, from a random start, 3 to 8 clicks. Deterministic.
 */
function patternedExport({ sessions = 800, items = 40, seed = 7 } = {}) {
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const lines = ['session,item,time'];
  let time = 1_700_000_000;
  for (let s = 0; s < sessions; s++) {
    const start = Math.floor(random() * items);
    const length = 3 + Math.floor(random() * 6);
    for (let i = 0; i < length; i++) lines.push(`s${s},P-${String((start + i) % items).padStart(3, '0')},${(time += 60)}`);
    time += 7200;
  }
  return `${lines.join('\n')}\n`;
}

const SESSIONS = { name: 'sessions.csv', mimeType: 'text/csv', buffer: Buffer.from(patternedExport()) };

let server;
before(async () => {
  server = await serve({ headers: () => ({ 'content-security-policy': CSP }) });
});
after(async () => { await server?.close(); });

/**
 * Opens the studio and waits until its engine has loaded; `page.violations` collects CSP
 * violations (directive and URL) from the start.
 */
async function openStudio(context, { viewport } = {}) {
  await context.addInitScript(() => {
    window.violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.violations.push(`${e.effectiveDirective} ${e.blockedURI}`));
  });
  const page = await openPage(context, `${server.url}/www/studio/`, { viewport, ready: 'body[data-engine]', timeout: 60_000 });
  assert.equal(await page.getAttribute('body', 'data-engine'), 'ready', await page.textContent('#engine'));
  return page;
}

/** Gives the page files through its file input, as a visitor choosing them would. */
const choose = (page, files) => page.setInputFiles('#files', files);
/** Waits until the page is no longer busy (a read or a training has ended). */
const idle = (page, timeout = 120_000) => page.waitForFunction(() => !document.body.dataset.busy, null, { timeout });
/** The summary of what was read, as `{ key: text }`. */
const summary = (page) => page.$$eval('#summary [data-key]', (rows) => Object.fromEntries(rows.map((r) => [r.dataset.key, r.querySelector('dd').textContent])));
/** The result table: `{ rowName: { metric: value } }`. */
const figures = (page) => page.$$eval('#results-table tbody tr', (rows) => Object.fromEntries(rows.map((r) => [r.dataset.name,
  Object.fromEntries([...r.querySelectorAll('td')].map((td) => [td.dataset.metric, Number(td.dataset.value)]))])));
/** Visible text of an element, or '' when it is hidden. */
const shown = (page, selector) => page.$eval(selector, (n) => (n.hidden || !n.getClientRects().length ? '' : n.textContent));

/** Chooses "exactly N epochs" and presses Train. */
async function train(page, epochs) {
  await page.fill('#epochs', String(epochs));
  assert.equal(await page.isChecked('#fixed-epochs'), true, 'typing an epoch count chooses "exactly"');
  await page.click('#train');
}

test('a patterned session export: read, train 3 epochs, figures beside the baselines, downloads, no request after load', () => withBrowser({ webgpu: false }, async (context) => {
  const page = await openStudio(context);
  const loaded = server.requests.length;

  await choose(page, [SESSIONS]);
  await page.waitForSelector('#summary [data-key="sequences"]');
  await idle(page);
  const read = await summary(page);
  assert.equal(read.sequences, '800', JSON.stringify(read));
  assert.equal(read.items, '40', JSON.stringify(read));
  assert.match(await page.textContent('#summary'), /Sessions/);
  assert.ok((await page.$$('#notes li')).length > 0, 'the reader says what it detected');
  assert.equal(await shown(page, '#read-error'), '');

  await train(page, 3);
  await page.waitForSelector('#progress:not([hidden])');
  await page.waitForFunction(() => /batch \d/.test(document.querySelector('#progress-text').textContent));
  await page.waitForSelector('#result-step:not([hidden])', { timeout: 150_000 });
  await idle(page);
  assert.equal(await shown(page, '#train-error'), '');

  // Progress, chart and the per-epoch figures.
  assert.equal(await page.$$eval('#epochs-table tbody tr', (rows) => rows.length), 3);
  assert.equal(await page.$$eval('#chart polyline', (lines) => lines.length), 3, 'loss, HR@10 and NDCG@10 lines');
  assert.match(await page.getAttribute('#chart', 'aria-label'), /over 3 epochs; epoch 3: training loss \d/);
  assert.match(await page.textContent('#announce'), /Training finished/);

  // The test figures beside the baselines; on this data the model is far ahead of popularity.
  const table = await figures(page);
  assert.ok(table.model && table.popularity, JSON.stringify(table));
  assert.ok(table.model['HR@10'] > table.popularity['HR@10'] + 0.1, `model HR@10 ${table.model['HR@10']} vs popularity ${table.popularity['HR@10']}`);
  assert.match(await page.textContent('#result-summary'), /Best epoch: [1-3] of 3/);
  // The export has times: as the CLI, the studio then trains again on every session.
  assert.match(await page.textContent('#result-summary'), /epochs again on every session \(the refit/);

  // Examples with reasons, as text.
  const examples = await page.$$eval('#examples .example', (n) => n.map((x) => ({
    session: x.querySelector('.session').textContent, items: x.querySelectorAll('.recommended li').length,
    because: [...x.querySelectorAll('.because')].map((b) => b.textContent),
  })));
  assert.equal(examples.length, 3);
  for (const example of examples) {
    assert.match(example.session, /^P-\d{3}( → P-\d{3})*$/);
    assert.equal(example.items, 5);
    assert.ok(example.because.some((b) => /^because of P-\d{3} \(\+\d/.test(b)), example.because.join(' | '));
  }

  // The downloads: an int8 safetensors awrsr bundle, and a catalogue skeleton.
  await mkdir(OUTPUT, { recursive: true });
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-model')]);
  assert.equal(download.suggestedFilename(), 'model.awrsr');
  const modelPath = join(OUTPUT, 'studio-model.awrsr');
  await download.saveAs(modelPath);
  const bytes = await readFile(modelPath);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  assert.ok(headerLength > 0 && 8 + headerLength <= bytes.length, `header length ${headerLength} of ${bytes.length} bytes`);
  const meta = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')).__metadata__;
  assert.equal(meta['awrsr.format'], 'awrsr-bundle');
  assert.equal(meta['awrsr.precision'], 'int8');
  assert.equal(JSON.parse(meta['awrsr.items']).length, 40);
  const [catalogue] = await Promise.all([page.waitForEvent('download'), page.click('#download-catalogue')]);
  assert.equal(catalogue.suggestedFilename(), 'catalogue.json');
  const cataloguePath = join(OUTPUT, 'studio-catalogue.json');
  await catalogue.saveAs(cataloguePath);
  assert.match(JSON.stringify(JSON.parse(await readFile(cataloguePath, 'utf8'))), /P-0\d\d/);
  if (process.env.AWRSR_BIN) {
    const { stdout } = await promisify(execFile)(process.env.AWRSR_BIN, ['recommend', '--model', modelPath, '--session', 'P-005,P-006', '--json']);
    const answer = JSON.parse(stdout);
    assert.ok(answer.items?.length > 0, stdout);
  }

  // The snippet, filled in with the folder and an item of the data.
  await page.fill('#folder', '/assets/reco');
  const snippet = await page.textContent('#snippet');
  assert.match(snippet, /<script type="module" src="\/assets\/reco\/awrsr-widget\.js"><\/script>/);
  assert.match(snippet, /<awrsr-recommendations model="\/assets\/reco\/model\.awrsr" catalogue="\/assets\/reco\/catalogue\.json"/);
  assert.match(snippet, /awrsr\.push\(\['view', 'P-\d{3}'\]\)/);

  // Nothing was asked for after the page loaded; the whole visit asked only for its own files.
  assert.deepEqual(server.requests.slice(loaded), [], 'requests after load');
  const others = server.requests.filter((path) => !OWN_FILES.test(path));
  assert.deepEqual(others, [], 'requests other than the page\'s own files');

  // A phone: nothing scrolls sideways, every control is a 44 px target.
  await page.setViewportSize({ width: 390, height: 844 });
  const layout = await page.evaluate(() => ({
    overflow: document.documentElement.scrollWidth - innerWidth,
    small: [...document.querySelectorAll('button, select, input:not([type="checkbox"]):not([type="radio"]):not([type="file"]), a.button, summary, label.check, div.check')]
      .filter((n) => n.getClientRects().length && !n.closest('[hidden]'))
      .map((n) => ({ what: n.id || n.className || n.tagName, h: n.getBoundingClientRect().height })).filter((t) => t.h < 44),
  }));
  assert.ok(layout.overflow <= 0, `the page scrolls sideways by ${layout.overflow}px`);
  assert.deepEqual(layout.small, []);
  await page.screenshot({ path: join(OUTPUT, 'studio-phone.png'), fullPage: true });
  assert.deepEqual(await page.evaluate(() => window.violations), [], 'CSP violations');
  assert.deepEqual(page.errors, []);
}));

test('Stop after the first epoch of 50 keeps the best model so far and shows the result', () => withBrowser({ webgpu: false }, async (context) => {
  const page = await openStudio(context);
  await choose(page, [SESSIONS]);
  await page.waitForSelector('#summary [data-key="sequences"]');
  await idle(page);
  await train(page, 50);
  await page.waitForFunction(() => document.querySelectorAll('#epochs-table tbody tr').length >= 1, null, { timeout: 120_000 });
  assert.equal(await page.isVisible('#stop'), true);
  await page.click('#stop');
  await page.waitForSelector('#result-step:not([hidden])', { timeout: 120_000 });
  await idle(page);
  const run = await page.$$eval('#epochs-table tbody tr', (rows) => rows.length);
  assert.ok(run >= 1 && run < 50, `${run} epochs run`);
  assert.match(await page.textContent('#result-summary'), new RegExp(`Best epoch: \\d+ of ${run} run`));
  assert.ok((await figures(page)).model['HR@10'] >= 0);
  assert.notEqual(await page.getAttribute('#download-model', 'href'), null);
  assert.equal(await page.isVisible('#stop'), false);
  assert.equal(await page.isEnabled('#train'), true, 'Train can be pressed again');
  assert.deepEqual(await page.evaluate(() => window.violations), []);
  assert.deepEqual(page.errors, []);
}));

test('MovieLens latest-small with its titles reads as 610 users and 9,724 items and trains an epoch with the page responsive', () => withBrowser({ webgpu: false }, async (context) => {
  const page = await openStudio(context);
  await choose(page, [join(MOVIELENS, 'ratings.csv'), join(MOVIELENS, 'movies.csv')]);
  await page.waitForSelector('#summary [data-key="sequences"]', { timeout: 60_000 });
  await idle(page);
  const read = await summary(page);
  assert.equal(read.file, 'ratings.csv', 'the larger file is the data');
  assert.match(await page.textContent('#summary'), /Users/);
  assert.equal(read.sequences, '610');
  assert.equal(read.items, '9,724');
  assert.equal(read.interactions, '100,836');
  assert.match(read.protocol, /^leave-one-out/);

  // One epoch (about a minute here): the page stays responsive while the worker trains, the
  // progress says the pace and the time left, and the examples are named by movies.csv's titles.
  await train(page, 1);
  await page.waitForFunction(() => /sequences\/s .*left/.test(document.querySelector('#progress-text').textContent), null, { timeout: 60_000 });
  const worst = await page.evaluate(() => new Promise((resolve) => {
    let last = performance.now();
    let worst = 0;
    const end = last + 1500;
    const tick = () => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
      if (now < end) setTimeout(tick, 10);
      else resolve(worst);
    };
    setTimeout(tick, 10);
  }));
  assert.ok(worst < 250, `the page's thread was blocked for ${worst.toFixed(0)} ms during training`);
  assert.match(await page.textContent('#progress-text'), /^Epoch 1 of 1 · batch \d+ of \d+ · [\d,]+ sequences\/s · loss [\d.]+ · about .+ left$/);
  await page.waitForSelector('#result-step:not([hidden])', { timeout: 240_000 });
  await idle(page);
  const table = await figures(page);
  assert.ok(table.model['HR@10'] >= 0 && table.popularity['HR@10'] >= 0, JSON.stringify(table));
  const sessions = await page.$$eval('#examples .session', (n) => n.map((x) => x.textContent));
  assert.equal(sessions.length, 3);
  assert.ok(sessions.every((text) => /\((19|20)\d\d\)/.test(text)), `titles, not ids: ${sessions.join(' | ')}`);
  assert.deepEqual(page.errors, []);
}));

test('hostile files: the reader\'s message as text, naming the file and line; a file too large is refused up front', () => withBrowser({ webgpu: false }, async (context) => {
  const page = await openStudio(context);
  const loaded = server.requests.length;

  const brokenCsv = Buffer.from('session,item,time\ns1,P-1,1700000000\ns1,"P-2,1700000060\n');
  await choose(page, [{ name: 'broken.csv', mimeType: 'text/csv', buffer: brokenCsv }]);
  await page.waitForSelector('#read-error:not([hidden])');
  await idle(page);
  const broken = await page.textContent('#read-error');
  assert.match(broken, /^broken\.csv:3: /, broken);
  if (process.env.AWRSR_BIN) {
    // The same message as the CLI's for the same file.
    await mkdir(OUTPUT, { recursive: true });
    await writeFile(join(OUTPUT, 'broken.csv'), brokenCsv);
    const cli = await promisify(execFile)(process.env.AWRSR_BIN, ['train', '--data', 'broken.csv', '--out', 'studio-broken.awrsr', '--quiet'], { cwd: OUTPUT })
      .then(() => ({ stderr: '(it succeeded)' }), (error) => error);
    assert.ok(cli.stderr.includes(broken), `CLI: ${cli.stderr}\npage: ${broken}`);
  }
  assert.equal(await page.isVisible('#train-step'), false, 'nothing to train after a refused file');

  const garbage = Buffer.alloc(4096);
  for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + (i >> 3) * 104729) % 256;
  garbage.write('<img src=/evil.png onerror="window.pwned=1">', 100);
  await choose(page, [{ name: 'garbage.csv', mimeType: 'text/csv', buffer: garbage }]);
  await page.waitForFunction((before) => document.querySelector('#read-error').textContent !== before && !document.body.dataset.busy, broken);
  const message = await page.textContent('#read-error');
  assert.match(message, /garbage\.csv/, message);
  assert.equal(await page.$$eval('#read-error *', (n) => n.length), 0, 'the message is text');
  assert.equal(await page.evaluate(() => window.pwned), undefined);

  // Larger than the tab's limit: refused before anything is read (a sparse file, nothing written).
  const huge = join(OUTPUT, 'studio-huge.csv');
  await mkdir(OUTPUT, { recursive: true });
  const handle = await open(huge, 'w');
  await handle.truncate(600 * 1024 * 1024);
  await handle.close();
  try {
    await choose(page, [huge]);
    await page.waitForSelector('#file-error:not([hidden])');
    const refused = await page.textContent('#file-error');
    assert.match(refused, /studio-huge\.csv is 600\.0 MiB/, refused);
    assert.match(refused, /at most 512\.0 MiB/, refused);
  } finally {
    await rm(huge, { force: true });
  }

  // Still working: a good file, dropped on the drop zone this time, reads.
  await page.evaluate((text) => {
    const data = new DataTransfer();
    data.items.add(new File([text], 'dropped.csv', { type: 'text/csv' }));
    document.querySelector('#drop').dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
  }, patternedExport());
  await page.waitForSelector('#summary [data-key="sequences"]');
  await idle(page);
  assert.deepEqual([(await summary(page)).file, (await summary(page)).sequences], ['dropped.csv', '800']);
  assert.equal(await shown(page, '#read-error'), '');
  assert.equal(await shown(page, '#file-error'), '');
  assert.deepEqual(server.requests.slice(loaded), []);
  assert.deepEqual(page.errors, []);
}));
