// The npm packages: `npm pack` of pkg/ (`awrsr`: the CPU build, and the WebGPU build in
// webgpu/) and pkg-cpu/ (`awrsr-cpu`: the CPU build only) holds every file its "exports" and
// "files" name (and its README); installed with npm into a fresh project,
// each is used as a shop would without a bundler, in headless Chromium: through an import map
// `import { load } from 'awrsr/client'` recommends from the shipped model, and
// `import 'awrsr/widget'` shows cards on a bare page, all from node_modules. And serving it
// (README "Serving the files"): the wasm loads whatever its Content-Type; gzip-encoded, it
// loads too, but its progress total is unknown until the end (the body arrives decoded).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { access, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ROOT, serve, launch, openPage } from './harness.mjs';

const PACKAGES = [['pkg', 'awrsr'], ['pkg-cpu', 'awrsr-cpu']];
const SESSION = ['1', '50', '260'];
const html = (head, body = '') => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>shop</title>${head}</head><body>${body}</body></html>`;
/** An import map as the package README gives it: each entry to its file, and the folder. */
const IMPORT_MAP = `<script type="importmap">${JSON.stringify({ imports: Object.fromEntries(PACKAGES.flatMap(([, name]) => [
  [`${name}/client`, `/node_modules/${name}/client.js`],
  [`${name}/widget`, `/node_modules/${name}/awrsr-widget.js`],
  [`${name}/`, `/node_modules/${name}/`],
])) })}</script>`;
/** Loads the model with the installed client of one package (`?name=`) and keeps the outcome. */
const CLIENT_PAGE = html(`${IMPORT_MAP}<script type="module">
  const name = new URLSearchParams(location.search).get('name');
  try {
    const { load } = name === 'awrsr' ? await import('awrsr/client') : await import('awrsr-cpu/client');
    const rec = await load('/www/model.awrsr');
    const out = await rec.recommend(${JSON.stringify(SESSION)}, { k: 10 });
    window.outcome = { items: out.items.map((i) => i.id), backend: rec.backend, inWorker: rec.inWorker };
  } catch (e) {
    window.outcome = { error: String(e && e.message) };
  }
</script>`);
/** A bare page with nothing but the installed widget (through the import map) and a session. */
const WIDGET_PAGE = (name) => html(`${IMPORT_MAP}<script type="module">import '${name}/widget';</script>`,
  `<awrsr-recommendations model="/www/model.awrsr" k="6"></awrsr-recommendations>
  <script>(window.awrsr = window.awrsr || []).push(['view', '1'], ['view', '50']);</script>`);

let work, project, manifests = {}, packed = {}, server, browser;
before(async () => {
  for (const [folder] of PACKAGES) {
    await access(join(ROOT, folder, 'awrsr.js')).catch(() => {
      throw new Error(`${folder}/ is missing: run scripts/build-web.sh --cpu`);
    });
  }
  work = await mkdtemp(join(tmpdir(), 'awrsr-package-'));
  const npm = (args, cwd) => execFileSync('npm', [...args, '--offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8' });
  for (const [folder, name] of PACKAGES) {
    manifests[name] = JSON.parse(await readFile(join(ROOT, folder, 'package.json'), 'utf8'));
    const [report] = JSON.parse(npm(['pack', '--json', '--pack-destination', work], join(ROOT, folder)));
    const listed = execFileSync('tar', ['-tzf', join(work, report.filename)], { encoding: 'utf8' }).split('\n').filter(Boolean);
    packed[name] = { report, tarball: join(work, report.filename), listed: listed.map((p) => p.replace(/^package\//, '')) };
  }
  project = join(work, 'shop');
  await mkdir(project);
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'shop', private: true }));
  npm(['install', '--no-package-lock', ...PACKAGES.map(([, name]) => packed[name].tarball)], project);
  await writeFile(join(project, 'client.html'), CLIENT_PAGE);
  for (const [, name] of PACKAGES) await writeFile(join(project, `widget-${name}.html`), WIDGET_PAGE(name));
  server = await serve({ mounts: { '/www/': join(ROOT, 'www'), '/': project } });
  browser = await launch({ webgpu: false });
});
after(async () => {
  await browser?.close();
  await server?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Every file an "exports" value points at (conditions and subpaths, recursively). */
function exportTargets(value) {
  if (typeof value === 'string') return [value.replace(/^\.\//, '')];
  return Object.values(value ?? {}).flatMap(exportTargets);
}

test('npm pack: each tarball holds every target of "exports" and every entry of "files", and its README', async () => {
  for (const [folder, name] of PACKAGES) {
    const { report, listed } = packed[name];
    const manifest = manifests[name];
    assert.equal(report.name, name, `${folder}/package.json names the package ${name}`);
    assert.equal(manifest.name, name);
    assert.deepEqual(report.files.map((f) => f.path).sort(), [...listed].sort(), `${name}: npm's report is the tarball`);
    const targets = exportTargets(manifest.exports);
    assert.ok(targets.length >= 9, `${name}: ${targets}`);
    for (const file of [...targets, ...manifest.files, manifest.main, manifest.types, 'package.json']) {
      assert.ok(listed.includes(file), `${name}: ${file} is not in the tarball (${listed.join(' ')})`);
    }
    for (const file of listed) assert.ok(manifest.files.includes(file) || file === 'package.json', `${name}: unexpected ${file}`);
    assert.equal(await readFile(join(ROOT, folder, 'README.md'), 'utf8'), await readFile(join(ROOT, 'js/README.md'), 'utf8'), `${folder}/README.md is js/README.md`);
    for (const entry of ['client', 'widget']) assert.ok(manifest.exports[`./${entry}`], `${name} exports ./${entry}`);
  }
  // pkg-cpu's manifest is pkg's, renamed, without the WebGPU build (scripts/build-web.sh writes it).
  const { name: _a, description: _b, ...full } = manifests.awrsr;
  const { name: _c, description: _d, ...cpu } = manifests['awrsr-cpu'];
  const withoutWebgpu = {
    ...full,
    files: full.files.filter((file) => !file.startsWith('webgpu/')),
    exports: Object.fromEntries(Object.entries(full.exports).filter(([path]) => !path.startsWith('./webgpu'))),
  };
  assert.deepEqual(cpu, withoutWebgpu);
  assert.ok(full.files.includes('webgpu/awrsr_bg.wasm') && full.exports['./webgpu'], 'awrsr carries the WebGPU build');
});

test('npm install puts the packed files, byte for byte, in node_modules', async () => {
  for (const [folder, name] of PACKAGES) {
    const root = join(project, 'node_modules', name);
    // Every file, in sub-folders too (the widget's modules are in widget/), by its path in the package.
    const installed = (await readdir(root, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile()).map((entry) => relative(root, join(entry.parentPath ?? entry.path, entry.name))).sort();
    assert.deepEqual(installed, [...packed[name].listed].sort(), name);
    const widgetModules = packed[name].listed.filter((file) => file.startsWith('widget/'));
    assert.ok(widgetModules.length > 0, `${name}: the widget's modules are packed`);
    for (const file of ['awrsr_bg.wasm', 'client.js', 'awrsr-widget.js', ...widgetModules]) {
      assert.ok((await readFile(join(project, 'node_modules', name, file))).equals(await readFile(join(ROOT, folder, file))), `${name}/${file}`);
    }
  }
});

test("without a bundler, through an import map: the installed package's client recommends 10 items, in a Worker", async () => {
  for (const [, name] of PACKAGES) {
    const from = server.requests.length;
    const page = await openPage(browser, `${server.url}/client.html?name=${name}`, { ready: () => window.outcome, timeout: 120_000 });
    const outcome = await page.evaluate(() => window.outcome);
    assert.equal(outcome.error, undefined, `${name}: ${outcome.error}`);
    assert.equal(outcome.items.length, 10, name);
    assert.equal(new Set(outcome.items).size, 10, `${name}: distinct items`);
    assert.ok(outcome.items.every((id) => !SESSION.includes(id)), `${name}: the session's own items are left out`);
    assert.deepEqual([outcome.backend, outcome.inWorker], ['cpu', true], name);
    const asked = server.requests.slice(from);
    for (const file of ['client.js', 'worker.js', 'awrsr.js', 'awrsr_bg.wasm']) {
      assert.ok(asked.includes(`/node_modules/${name}/${file}`), `${name}: ${file} from node_modules (${asked.join(' ')})`);
    }
    assert.ok(!asked.some((path) => path.includes('/webgpu/')), `${name}: the WebGPU build is not loaded (${asked.join(' ')})`);
    assert.deepEqual(page.errors, []);
    await page.close();
  }
});

test('without a bundler: the installed widget on a bare page shows cards', async () => {
  for (const [, name] of PACKAGES) {
    const from = server.requests.length;
    const page = await openPage(browser, `${server.url}/widget-${name}.html`,
      { ready: () => document.querySelectorAll('awrsr-recommendations .awrsr-card').length === 6, timeout: 120_000 });
    const cards = await page.$$eval('awrsr-recommendations .awrsr-card', (nodes) => nodes.map((n) => ({
      title: n.querySelector('.awrsr-card-title')?.textContent, because: n.querySelector('.awrsr-card-because')?.textContent,
    })));
    assert.ok(cards.every((c) => c.title && /^Because you viewed/.test(c.because)), `${name}: ${JSON.stringify(cards)}`);
    const sheets = await page.evaluate(() => document.adoptedStyleSheets.filter((sheet) => sheet[Symbol.for('awrsr.stylesheet')]).length);
    assert.equal(sheets, 1, `${name}: the widget's stylesheet, adopted`);
    const asked = server.requests.slice(from);
    for (const file of ['awrsr-widget.js', 'client.js', 'awrsr_bg.wasm']) {
      assert.ok(asked.includes(`/node_modules/${name}/${file}`), `${name}: ${file} from node_modules (${asked.join(' ')})`);
    }
    assert.deepEqual(page.errors, []);
    await page.close();
  }
});

test('serving: any Content-Type loads the wasm; with Content-Encoding the progress total stays unknown until the end', async () => {
  const raw = await readFile(join(ROOT, 'pkg/awrsr_bg.wasm'));
  const served = await serve({
    files: { '/blank.html': html(''), '/gzip/awrsr_bg.wasm': gzipSync(raw) },
    mounts: { '/www/': join(ROOT, 'www'), '/plain/': join(ROOT, 'pkg'), '/gzip/': join(ROOT, 'pkg'), '/typed/': join(ROOT, 'pkg') },
    headers: (path) => ({
      '/plain/awrsr_bg.wasm': { 'content-type': 'application/octet-stream' },
      '/gzip/awrsr_bg.wasm': { 'content-encoding': 'gzip' },
    })[path],
  });
  try {
    const page = await openPage(browser, `${served.url}/blank.html`);
    const runs = {};
    for (const folder of ['typed', 'plain', 'gzip']) {
      runs[folder] = await page.evaluate(async (folder) => {
        const { load } = await import(`/${folder}/client.js`);
        const events = [];
        const rec = await load('/www/model.awrsr', { backend: 'cpu', onProgress: (p) => events.push(p.wasm) });
        const items = (await rec.recommend(['1'], { k: 10 })).items.length;
        rec.free();
        return { items, events };
      }, folder);
    }
    for (const [folder, { items, events }] of Object.entries(runs)) {
      assert.equal(items, 10, folder);
      assert.deepEqual(events.at(-1), { loaded: raw.length, total: raw.length }, `${folder}: the last report counts the decoded bytes`);
      const middle = events.filter((e) => e.loaded > 0 && e.loaded < raw.length);
      assert.ok(middle.length > 0, `${folder}: reports while the wasm arrives`);
      const totals = new Set(middle.map((e) => e.total));
      assert.deepEqual([...totals], [folder === 'gzip' ? null : raw.length], `${folder}: totals while loading`);
    }
    await page.close();
  } finally {
    await served.close();
  }
});
