// What a bare shop page with the widget downloads (not a test): the page, the widget, the
// shop's catalogue (www/catalogue.json) and the demo model (www/model.awrsr, 9,724 items),
// opened in headless Chromium until the rail shows its cards; every file requested is
// counted at its gzip size (zlib level 9), as a server would send it compressed ahead of time (README
// "Serving the files"). Two paths: the default (`backend` 'auto': the CPU build, since this
// browser's WebGPU adapter is SwiftShader, a software one) and WebGPU asked for (`backend:
// 'webgpu'`: the WebGPU build). The worker imports client.js and its modules again: this
// test server sends no caching headers, so they count twice (`distinctGzip` counts each file
// once, as a server with caching headers has it). Writes results/page-weight.json, with the
// default path checked against the 1.8 MB target of issue 27.
//
// Run after scripts/build-web.sh:  node bench/page-weight.mjs [--out FILE]
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ROOT, serve, withBrowser, openPage } from '../tests/browser/harness.mjs';

const TARGET_GZIP = 1_800_000;
const args = process.argv.slice(2);
const out = args.includes('--out') ? args[args.indexOf('--out') + 1] : 'results/page-weight.json';

/** A bare product page: the widget, a catalogue, a session of two views; `backend` set by the queue when given. */
const page = (backend) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>shop</title>
<script>window.awrsr = window.awrsr || []; awrsr.push(['view', '1'], ['view', '50']);${backend ? ` awrsr.push(['config', { backend: '${backend}' }]);` : ''}</script>
<script type="module" src="/pkg/awrsr-widget.js"></script></head>
<body><h1>A product</h1><awrsr-recommendations model="/www/model.awrsr" k="8" catalogue="/www/catalogue.json"></awrsr-recommendations></body></html>`;
const PAGES = { '/shop/default.html': page(null), '/shop/webgpu.html': page('webgpu') };

/** The body of a served path (a page of PAGES or a file of the repository), or null for a 404. */
async function body(path) {
  if (PAGES[path]) return Buffer.from(PAGES[path]);
  return readFile(join(ROOT, path)).catch(() => null);
}

/** Opens one page until its cards show; the files it requested, their sizes, and its Workers. */
async function weigh(server, path) {
  return withBrowser({ webgpu: true }, async (context) => {
    const from = server.requests.length;
    const opened = await openPage(context, `${server.url}${path}`, {
      ready: () => document.querySelectorAll('awrsr-recommendations .awrsr-card').length === 8, timeout: 120_000,
    });
    const backend = await opened.evaluate(async () => (await (await import('/pkg/awrsr-widget.js')).loadModel('/www/model.awrsr')).backend);
    const workers = opened.workers().length;
    const files = [];
    for (const asked of server.requests.slice(from)) {
      const bytes = await body(asked);
      if (bytes) files.push({ path: asked, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length });
    }
    const sum = (list, key) => list.reduce((total, file) => total + file[key], 0);
    const distinct = files.filter((file, i) => files.findIndex((f) => f.path === file.path) === i);
    return {
      page: path, backend, workers, requests: files.length, raw: sum(files, 'raw'), gzip: sum(files, 'gzip'),
      distinctFiles: distinct.length, distinctGzip: sum(distinct, 'gzip'), files,
    };
  });
}

const server = await serve({ files: PAGES });
const paths = {};
try {
  paths.default = await weigh(server, '/shop/default.html');
  paths.webgpu = await weigh(server, '/shop/webgpu.html');
} finally {
  await server.close();
}
const result = {
  date: new Date().toISOString(), command: `node bench/page-weight.mjs ${args.join(' ')}`.trim(),
  targetGzip: TARGET_GZIP, defaultWithinTarget: paths.default.gzip <= TARGET_GZIP, paths,
};
await mkdir(join(ROOT, 'results'), { recursive: true });
await writeFile(join(ROOT, out), JSON.stringify(result, null, 2) + '\n');

const mb = (n) => (n / 1e6).toFixed(3).padStart(7) + ' MB';
for (const [name, run] of Object.entries(paths)) {
  console.log(`\n${name} (backend ${run.backend}, ${run.workers} worker(s)): ${mb(run.raw)} raw, ${mb(run.gzip)} gzip -9 in ${run.requests} requests (${mb(run.distinctGzip)} in ${run.distinctFiles} distinct files)`);
  for (const file of run.files) console.log(`  ${file.path.padEnd(34)} ${mb(file.raw)} ${mb(file.gzip)}`);
}
console.log(`\ndefault path ${result.defaultWithinTarget ? 'within' : 'OVER'} the ${TARGET_GZIP / 1e6} MB target; written to ${out}`);
