// Benchmark of the browser build (not a test): download sizes, time from page load to the
// first recommendation, and recommend() latency for 5/50/200-item sessions, on WebGPU and
// on the CPU path in headless Chromium. Prints a table and writes results/web-bench.json.
// Run after scripts/build-web.sh:  node bench/web.mjs
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { ROOT, serve, launch } from '../tests/browser/harness.mjs';

async function size(path) {
  const bytes = await readFile(join(ROOT, path));
  return { path, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

async function run(server, webgpu, backend) {
  const context = await launch({ webgpu });
  try {
    const page = await context.newPage();
    await page.goto(`${server.url}/bench/web.html?backend=${backend}`);
    await page.waitForFunction(() => window.result, null, { timeout: 300_000 });
    return await page.evaluate(() => window.result);
  } finally {
    await context.close();
  }
}

const server = await serve();
const sizes = await Promise.all(['pkg/awrsr_bg.wasm', 'pkg/awrsr.js', 'www/model.awrsr'].map(size));
const runs = [await run(server, true, 'webgpu'), await run(server, false, 'cpu')];
await server.close();

const result = { date: new Date().toISOString(), sizes, runs };
await mkdir(join(ROOT, 'results'), { recursive: true });
await writeFile(join(ROOT, 'results/web-bench.json'), JSON.stringify(result, null, 2) + '\n');

const mb = (n) => (n / 1e6).toFixed(2) + ' MB';
for (const s of sizes) console.log(`${s.path.padEnd(20)} ${mb(s.raw)} raw  ${mb(s.gzip)} gzip`);
for (const r of runs) {
  console.log(`\n${r.backend}: first recommendation ${r.firstRecommendationMs.toFixed(0)} ms after page load`);
  for (const c of r.calls) console.log(`  ${String(c.length).padStart(3)} items: p50 ${c.p50.toFixed(2)} ms  p95 ${c.p95.toFixed(2)} ms  (${c.runs} calls)`);
}
console.log('\nwritten to results/web-bench.json');
