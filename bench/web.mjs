// Benchmark of the browser build next to its peer (not a test): onnxruntime-web 1.30 running
// a SASRec of the same shape (../shared/bench/ort-web), in the same headless Chromium, in the
// same run. Download sizes; page load → first recommendation; the cost of one call into the
// module, of itemIds() and hasItems() on the whole catalogue; recommend() p50/p95 for a
// 50-item session (k = 10, with and without explain) and an empty one — at 9,724 items (the
// demo model) and 100,000 items (a bundle this script makes from it), on the CPU path and on
// WebGPU (the software adapter on GPU-less machines). Prints a table, writes
// results/web-bench.json.
//
// Run after scripts/build-web.sh:  node bench/web.mjs [--rounds N] [--no-webgpu] [--out FILE]
// The peer's runtime is installed on first use (npm, not a dependency of the tests).
import { readFile, writeFile, mkdir, access } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { join, resolve } from 'node:path';
import { ROOT, serve, launch } from '../tests/browser/harness.mjs';
import { measure } from './measure.mjs';
import { widenBundle } from '../tests/browser/widen.mjs';

const PEER_DIR = resolve(process.env.AWRSR_SHARED ?? join(ROOT, '../shared'), 'bench/ort-web');
const ORT_VERSION = '1.30.0';
const args = process.argv.slice(2);
const rounds = Number(args[args.indexOf('--rounds') + 1] || 0) || 1;
const webgpu = !args.includes('--no-webgpu');
const out = args.includes('--out') ? args[args.indexOf('--out') + 1] : 'results/web-bench.json';

async function size(path) {
  const bytes = await readFile(join(ROOT, path));
  return { path, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

async function ensurePeer() {
  try {
    await access(join(ROOT, 'node_modules/onnxruntime-web/package.json'));
  } catch {
    console.log(`installing onnxruntime-web@${ORT_VERSION} (benchmark peer, not saved)…`);
    execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', `onnxruntime-web@${ORT_VERSION}`], { cwd: ROOT, stdio: 'inherit' });
  }
  await access(join(PEER_DIR, 'sasrec_9724.onnx'));
}

// awrsr runs the shipped model (AWRSR, `additive` refinement) and the same network without
// the refinement (plain SASRec, the peer's shape), both made from www/model.awrsr.
const CASES = [
  { engine: 'awrsr', model: 'sasrec', backend: 'cpu', items: 9724, gpu: false, path: '/bench/web.html?backend=cpu&model=/bench/sasrec-9724.awrsr' },
  { engine: 'awrsr', model: 'awrsr', backend: 'cpu', items: 9724, gpu: false, path: '/bench/web.html?backend=cpu' },
  { engine: 'onnxruntime-web', model: 'sasrec', backend: 'cpu', items: 9724, gpu: false, path: '/bench/peer.html?provider=wasm&items=9724' },
  { engine: 'awrsr', model: 'sasrec', backend: 'cpu', items: 100000, gpu: false, path: '/bench/web.html?backend=cpu&model=/bench/sasrec-100000.awrsr' },
  { engine: 'awrsr', model: 'awrsr', backend: 'cpu', items: 100000, gpu: false, path: '/bench/web.html?backend=cpu&model=/bench/awrsr-100000.awrsr' },
  { engine: 'onnxruntime-web', model: 'sasrec', backend: 'cpu', items: 100000, gpu: false, path: '/bench/peer.html?provider=wasm&items=100000' },
  { engine: 'awrsr', model: 'awrsr', backend: 'auto', items: 9724, gpu: true, path: '/bench/web.html?backend=auto' },
  { engine: 'awrsr', model: 'awrsr', backend: 'webgpu', items: 9724, gpu: true, path: '/bench/web.html?backend=webgpu&budget=15000' },
  { engine: 'onnxruntime-web', model: 'sasrec', backend: 'webgpu', items: 9724, gpu: true, path: '/bench/peer.html?provider=webgpu&items=9724&budget=15000' },
];

// The CPU-only build (pkg/'s root; the cases above run pkg/webgpu/, the WebGPU + CPU build).
for (const c of CASES.filter((c) => c.engine === 'awrsr' && c.backend === 'cpu')) {
  CASES.push({ ...c, engine: 'awrsr-cpu-build', path: `${c.path}&pkg=/pkg` });
}

await ensurePeer();
const shipped = await readFile(join(ROOT, 'www/model.awrsr'));
const bundles = {
  '/bench/awrsr-100000.awrsr': widenBundle(shipped, 100_000),
  '/bench/sasrec-9724.awrsr': widenBundle(shipped, 9724, { plain: true }),
  '/bench/sasrec-100000.awrsr': widenBundle(shipped, 100_000, { plain: true }),
};
const server = await serve({ mounts: { '/peer/': PEER_DIR }, files: bundles, isolate: true });
const files = ['pkg/webgpu/awrsr_bg.wasm', 'pkg/webgpu/awrsr.js', 'pkg/awrsr_bg.wasm', 'www/model.awrsr'];
const sizes = await Promise.all(files.map(size));
const big = bundles['/bench/awrsr-100000.awrsr'];
sizes.push({ path: 'bench/awrsr-100000.awrsr (made by this script)', raw: big.length, gzip: gzipSync(big, { level: 9 }).length });
const runs = [];
for (let round = 1; round <= rounds; round++) {
  for (const c of CASES.filter((c) => webgpu || !c.gpu)) {
    const result = await measure(server, c.path, c);
    runs.push({ round, engine: c.engine, model: c.model, requested: c.backend, ...result });
    const p50 = result.latency.map((l) => `${l.name} ${l.p50.toFixed(2)}`).join(', ');
    console.log(`[${round}] ${c.engine} ${c.model} ${c.backend} ${c.items}: first ${result.firstRecommendationMs.toFixed(0)} ms; p50 ${p50} ms`);
  }
}

/** The demo storefront's responsiveness on the CPU path: each figure is the synchronous
 * work of one interaction (the handlers render in the same task). */
async function demo(server) {
  const context = await launch({ webgpu: false });
  try {
    const page = await context.newPage();
    const start = Date.now();
    await page.goto(`${server.url}/www/index.html?backend=cpu`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
    const readyMs = Date.now() - start;
    const timings = await page.evaluate(() => {
      const time = (f) => { const t = performance.now(); f(); return performance.now() - t; };
      const search = document.getElementById('search');
      const type = (text) => time(() => { search.value = text; search.dispatchEvent(new Event('input')); });
      const keystrokes = ['s', 'st', 'sta', 'star', ''].map(type);
      const genre = document.getElementById('genre');
      const genreMs = time(() => { genre.value = genre.options[1].value; genre.dispatchEvent(new Event('change')); });
      genre.value = ''; genre.dispatchEvent(new Event('change'));
      const moreMs = time(() => document.getElementById('more').click());
      return { keystrokeMaxMs: Math.max(...keystrokes), genreMs, moreMs };
    });
    return { page: '/www/index.html?backend=cpu', loadToReadyMs: readyMs, ...timings };
  } finally {
    await context.close();
  }
}
const storefront = await demo(server);
console.log(`demo (CPU): load → ready ${storefront.loadToReadyMs} ms; search keystroke ≤ ${storefront.keystrokeMaxMs.toFixed(1)} ms; genre ${storefront.genreMs.toFixed(1)} ms; Show more ${storefront.moreMs.toFixed(1)} ms`);
await server.close();

const result = { date: new Date().toISOString(), command: `node bench/web.mjs ${args.join(' ')}`.trim(), browser: runs[0]?.userAgent, sizes, runs, demo: storefront };
await mkdir(join(ROOT, 'results'), { recursive: true });
await writeFile(join(ROOT, out), JSON.stringify(result, null, 2) + '\n');

const mb = (n) => (n / 1e6).toFixed(2) + ' MB';
console.log('');
for (const s of sizes) console.log(`${s.path.padEnd(48)} ${mb(s.raw)} raw  ${mb(s.gzip)} gzip`);
console.log('\nengine           model   backend  items   first ms  p50 / p95 ms (50 items | explain | empty)   hasItem µs  itemIds ms  hasItems ms');
for (const r of runs) {
  const lat = r.latency.map((l) => `${l.p50.toFixed(2)}/${l.p95.toFixed(2)}`).join(' | ');
  const calls = r.hasItemUs === undefined ? '' : `${r.hasItemUs.toFixed(2).padStart(10)}  ${r.itemIdsMs.toFixed(1).padStart(10)}  ${r.hasItemsMs.toFixed(1).padStart(11)}`;
  console.log(`${r.engine.padEnd(16)} ${r.model.padEnd(7)} ${(r.backend ?? r.provider).padEnd(8)} ${String(r.items).padStart(6)} ${r.firstRecommendationMs.toFixed(0).padStart(9)}  ${lat.padEnd(44)} ${calls}`);
}
console.log(`\nwritten to ${out}`);
