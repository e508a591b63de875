// The measurement behind WEBGPU_MIN_ITEMS (js/builds.js), the catalogue size from which
// `backend: 'auto'` loads the WebGPU build on a real GPU (not a test). The CPU build's
// recommend() latency for a 50-item session (k = 10) grows with the catalogue, since every
// item is scored; this runs bench/web.html on the CPU build (pkg/) with bundles of 10,000 to
// 1,000,000 items made from the shipped model and reports where its p50 passes BUDGET_MS.
// The GPU side (what a real GPU's call costs) cannot be measured on these machines.
//
// Run after scripts/build-web.sh:  node bench/threshold.mjs [--rounds N] [--out FILE]
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { ROOT, serve } from '../tests/browser/harness.mjs';
import { widenBundle } from '../tests/browser/widen.mjs';
import { measure } from './measure.mjs';
import { WEBGPU_MIN_ITEMS } from '../js/builds.js';

/** The CPU build's p50 from which a catalogue counts as large enough for WebGPU (ms). */
const BUDGET_MS = 5;
const SIZES = [10_000, 30_000, 100_000, 300_000, 500_000, 1_000_000];
const args = process.argv.slice(2);
const rounds = Number(args[args.indexOf('--rounds') + 1] || 0) || 1;
const out = args.includes('--out') ? args[args.indexOf('--out') + 1] : 'results/threshold.json';

const shipped = await readFile(join(ROOT, 'www/model.awrsr'));
const loadBefore = loadavg();
const runs = [];
for (const items of SIZES) {
  const path = `/bench/awrsr-${items}.awrsr`;
  const server = await serve({ files: { [path]: widenBundle(shipped, items) }, isolate: true });
  try {
    for (let round = 1; round <= rounds; round++) {
      const result = await measure(server, `/bench/web.html?backend=cpu&pkg=/pkg&budget=3000&model=${path}`, { gpu: false });
      const fifty = result.latency.find((l) => l.name === '50 items');
      runs.push({ round, items, backend: result.backend, p50: fifty.p50, p95: fifty.p95, calls: fifty.runs, browser: result.userAgent });
      console.log(`[${round}] ${String(items).padStart(9)} items: p50 ${fifty.p50.toFixed(2)} ms, p95 ${fifty.p95.toFixed(2)} ms (${fifty.runs} calls)`);
    }
  } finally {
    await server.close();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const bySize = SIZES.map((items) => ({ items, p50: median(runs.filter((r) => r.items === items).map((r) => r.p50)) }));
const over = bySize.find((s) => s.p50 > BUDGET_MS);
const result = {
  date: new Date().toISOString(), command: `node bench/threshold.mjs ${args.join(' ')}`.trim(), browser: runs[0]?.browser,
  // The machine's load averages (1, 5, 15 min) before and after: other work inflates the times.
  load: { before: loadBefore, after: loadavg() },
  budgetMs: BUDGET_MS, bySize, firstSizeOverBudget: over?.items ?? null, WEBGPU_MIN_ITEMS, runs,
};
await mkdir(join(ROOT, 'results'), { recursive: true });
await writeFile(join(ROOT, out), JSON.stringify(result, null, 2) + '\n');
console.log(`\nfirst size over ${BUDGET_MS} ms: ${over ? over.items : 'none measured'}; WEBGPU_MIN_ITEMS = ${WEBGPU_MIN_ITEMS}; written to ${out}`);
