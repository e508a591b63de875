// Prints the markdown tables of docs/results.md ("Browser build") from a benchmark result:
//   node bench/table.mjs [results/web-bench.json]
// Figures are medians over the rounds of the run (`node bench/web.mjs --rounds N`).
import { readFile } from 'node:fs/promises';

const file = process.argv[2] ?? 'results/web-bench.json';
const result = JSON.parse(await readFile(file, 'utf8'));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x, digits = 2) => (x === undefined ? '–' : x.toFixed(digits));
const mb = (n) => (n / 1e6).toFixed(2);

console.log(`From \`${file}\` (${result.date}, \`${result.command}\`, ${result.browser?.match(/Chrome\/[\d.]+/)?.[0] ?? 'Chromium'}; medians of ${Math.max(...result.runs.map((r) => r.round))} round(s)).\n`);
console.log('| file | raw MB | gzip -9 MB |\n|---|---|---|');
for (const s of result.sizes) console.log(`| \`${s.path}\` | ${mb(s.raw)} | ${mb(s.gzip)} |`);

const groups = new Map();
for (const r of result.runs) {
  const key = [r.engine, r.model, r.backend ?? r.provider, r.requested, r.items].join('|');
  if (!groups.has(key)) groups.set(key, []);
  groups.get(key).push(r);
}
const series = (runs, name, q) => median(runs.map((r) => r.latency.find((l) => l.name === name)?.[q]).filter((x) => x !== undefined));
console.log('\n| engine | model | backend | items | load → first recommendation, ms | p50 / p95, 50 items, ms | with explain | empty session | hasItem µs | itemIds() ms | hasItems(all) ms |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const runs of groups.values()) {
  const r = runs[0];
  const lat = (name) => {
    const p50 = series(runs, name, 'p50');
    return p50 === undefined || Number.isNaN(p50) ? '–' : `${ms(p50)} / ${ms(series(runs, name, 'p95'))}`;
  };
  const calls = (key, digits) => (r[key] === undefined ? '–' : ms(median(runs.map((x) => x[key])), digits));
  const backend = r.backend ?? (r.provider === 'wasm' ? 'cpu' : r.provider);
  const label = r.requested && r.requested !== backend ? `${backend} (asked ${r.requested})` : backend;
  console.log(`| ${r.engine} | ${r.model} | ${label} | ${r.items.toLocaleString('en')} | ${ms(median(runs.map((x) => x.firstRecommendationMs)), 0)} | ${lat('50 items')} | ${lat('50 items, explain')} | ${lat('empty session')} | ${calls('hasItemUs', 2)} | ${calls('itemIdsMs', 1)} | ${calls('hasItemsMs', 1)} |`);
}
if (result.demo) {
  const d = result.demo;
  console.log(`\nDemo storefront, CPU path: load → ready ${d.loadToReadyMs} ms; slowest search keystroke ${ms(d.keystrokeMaxMs, 1)} ms; genre filter ${ms(d.genreMs, 1)} ms; "Show more" ${ms(d.moreMs, 1)} ms.`);
}
