// The package behind a bundler, as a shop's project has it: a tiny app that imports
// `awrsr/client` and `awrsr/widget` (nothing else, no bundler configuration beyond the
// defaults), built with Vite and with webpack 5 (devDependencies; offline) from the packed
// and installed package, served as built and opened in headless Chromium. The client
// recommends and the widget shows its cards; they share one Worker; the wasm (the CPU build)
// and the model are fetched once each; the output holds each wasm build once and no verbatim
// copy of a package file (no stray awrsr.js).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { access, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ROOT, serve, launch, openPage } from './harness.mjs';

const SESSION = ['1', '50', '260'];
/** The app: the page's own client call and the widget, as README "With a bundler" has them. */
const MAIN = `import { load } from 'awrsr/client';
import 'awrsr/widget';

load('/model.awrsr').then(async (rec) => {
  const out = await rec.recommend(${JSON.stringify(SESSION)}, { k: 5 });
  window.outcome = { items: out.items.map((i) => i.id), backend: rec.backend, inWorker: rec.inWorker };
}, (error) => { window.outcome = { error: String(error && error.message) }; });
`;
const html = (script) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>shop</title>${script}</head><body>
<awrsr-recommendations model="/model.awrsr" k="4"></awrsr-recommendations>
<script>(window.awrsr = window.awrsr || []).push(['view', '1'], ['view', '50']);</script>
</body></html>`;

/**
 * Each bundler: builds the app in `app` (`src/`) into `app/dist/` with its defaults (only the
 * folders named) and writes the page; resolves to the output folder.
 */
const BUNDLERS = {
  async vite(app) {
    await writeFile(join(app, 'index.html'), html('<script type="module" src="/src/main.js"></script>'));
    const { build } = await import('vite');
    await build({ root: app, configFile: false, logLevel: 'error' });
    return join(app, 'dist');
  },
  async webpack(app) {
    const { default: webpack } = await import('webpack');
    const stats = await new Promise((resolve, reject) => webpack({ mode: 'production', context: app, output: { path: join(app, 'dist') } }, (error, s) => (error ? reject(error) : resolve(s))));
    assert.ok(!stats.hasErrors(), stats.toString('errors-only'));
    await writeFile(join(app, 'dist/index.html'), html('<script defer src="/main.js"></script>'));
    return join(app, 'dist');
  },
};

let work, browser, model, pkgFiles;
before(async () => {
  await access(join(ROOT, 'pkg/webgpu/awrsr_bg.wasm')).catch(() => { throw new Error('pkg/ is missing: run scripts/build-web.sh'); });
  work = await mkdtemp(join(tmpdir(), 'awrsr-bundlers-'));
  const npm = (args) => execFileSync('npm', [...args, '--offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: work, encoding: 'utf8' });
  await writeFile(join(work, 'package.json'), JSON.stringify({ name: 'shop', private: true }));
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work, '--loglevel=error'], { cwd: join(ROOT, 'pkg'), encoding: 'utf8' }));
  npm(['install', '--no-package-lock', join(work, packed.filename)]);
  const installed = join(work, 'node_modules/awrsr');
  pkgFiles = await Promise.all((await files(installed)).map(async (path) => ({ path, bytes: await readFile(join(installed, path)) })));
  model = await readFile(join(ROOT, 'www/model.awrsr'));
  browser = await launch({ webgpu: true });
});
after(async () => {
  await browser?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Every file under `folder`, as paths relative to it. */
async function files(folder) {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(folder, join(e.parentPath ?? e.path, e.name)));
}

for (const [name, bundle] of Object.entries(BUNDLERS)) {
  test(`${name}: the client and the widget work as imported, on one Worker, the CPU wasm and the model fetched once, no stray copies`, async () => {
    const app = join(work, name);
    await mkdir(join(app, 'src'), { recursive: true });
    await writeFile(join(app, 'src', name === 'vite' ? 'main.js' : 'index.js'), MAIN);
    const dist = await bundle(app);

    const emitted = await Promise.all((await files(dist)).map(async (path) => ({ path, bytes: await readFile(join(dist, path)) })));
    const copies = emitted.filter((file) => pkgFiles.some((p) => p.bytes.equals(file.bytes)));
    const wasm = (path) => pkgFiles.find((p) => p.path === path).bytes;
    assert.deepEqual(copies.map((c) => pkgFiles.find((p) => p.bytes.equals(c.bytes)).path).sort(), ['awrsr_bg.wasm', 'webgpu/awrsr_bg.wasm'],
      `only the two wasm builds are copied, once each: ${copies.map((c) => c.path)}`);
    assert.equal(emitted.filter((file) => file.path.endsWith('.wasm')).length, 2, emitted.map((f) => f.path).join(' '));

    const server = await serve({ files: { '/model.awrsr': model }, mounts: { '/': dist } });
    try {
      const page = await openPage(browser, `${server.url}/index.html`, {
        ready: () => window.outcome && document.querySelectorAll('awrsr-recommendations .awrsr-card').length === 4, timeout: 120_000,
      });
      const outcome = await page.evaluate(() => window.outcome);
      assert.equal(outcome.error, undefined, outcome.error);
      assert.equal(outcome.items.length, 5);
      assert.ok(outcome.items.every((id) => !SESSION.includes(id)), JSON.stringify(outcome));
      assert.deepEqual([outcome.backend, outcome.inWorker], ['cpu', true]);
      assert.equal(page.workers().length, 1, 'the client and the widget share one Worker');
      const asked = server.requests;
      const wasmAsked = asked.filter((path) => path.endsWith('.wasm'));
      assert.equal(wasmAsked.length, 1, asked.join(' '));
      assert.ok((await readFile(join(dist, wasmAsked[0]))).equals(wasm('awrsr_bg.wasm')), `the CPU build: ${wasmAsked[0]}`);
      assert.equal(asked.filter((path) => path === '/model.awrsr').length, 1, asked.join(' '));
      assert.deepEqual(page.errors, []);
      await page.close();
    } finally {
      await server.close();
    }
  });
}
