// Shared by the browser tests: a static server over the repository (recording every
// request), and headless Chromium from Debian driven by playwright-core. With `webgpu`
// Chromium gets `--enable-unsafe-webgpu` (a software adapter on GPU-less machines);
// without it the browser has no WebGPU adapter, like a visitor's browser without WebGPU.
import { createServer } from 'node:http';
import { readFile, mkdtemp } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { chromium } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '../..');
export const OUTPUT = join(ROOT, 'test-output');

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.css': 'text/css', '.json': 'application/json', '.wasm': 'application/wasm',
  '.awrsr': 'application/octet-stream', '.onnx': 'application/octet-stream', '.svg': 'image/svg+xml', '.png': 'image/png',
};

/**
 * Serves ROOT on an ephemeral localhost port; `requests` lists every path asked for.
 * `mounts` maps URL prefixes to other folders (e.g. the peer's models in ../shared), `files`
 * maps paths to bytes served from memory (bundles a test or benchmark makes). `isolate`
 * sends the cross-origin isolation headers (COOP/COEP), which give `performance.now()` its
 * fine (5 µs) resolution instead of 100 µs: for benchmarks.
 */
export async function serve({ mounts = {}, files = {}, isolate = false } = {}) {
  const requests = [];
  const isolation = isolate ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {};
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    requests.push(path);
    const type = (file) => ({ 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', ...isolation });
    if (files[path]) {
      res.writeHead(200, type(path)).end(files[path]);
      return;
    }
    const [prefix, base] = Object.entries(mounts).find(([p]) => path.startsWith(p)) ?? ['/', ROOT];
    const rest = path.slice(prefix.length - 1);
    const file = normalize(join(base, rest.endsWith('/') ? rest + 'index.html' : rest));
    if (!file.startsWith(base)) { res.writeHead(403).end(); return; }
    try {
      const body = await readFile(file);
      res.writeHead(200, type(file)).end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${server.address().port}`;
  return { url, requests, close: () => new Promise((ok) => server.close(ok)) };
}

/** Headless Chromium, with or without WebGPU. */
export async function launch({ webgpu }) {
  const args = [
    '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
  ];
  if (webgpu) args.push('--enable-unsafe-webgpu');
  const userDataDir = await mkdtemp(join(tmpdir(), 'awrsr-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args,
  });
  return context;
}

/** Opens the API test page (of `pkg`, /pkg or /pkg-cpu) and waits until the module is initialised. */
export async function apiPage(context, url, pkg = '/pkg') {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${url}/tests/browser/api.html?pkg=${pkg}`);
  await page.waitForFunction(() => window.awrsrReady === true, null, { timeout: 60_000 });
  page.errors = errors;
  return page;
}
