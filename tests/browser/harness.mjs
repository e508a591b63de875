// Shared by the browser tests: a static server over the repository (recording every
// request), and headless Chromium from Debian driven by playwright-core. With `webgpu`
// Chromium gets `--enable-unsafe-webgpu` (a software adapter on GPU-less machines);
// without it the browser has no WebGPU adapter, like a visitor's browser without WebGPU.
import { createServer } from 'node:http';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
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
 * fine (5 µs) resolution instead of 100 µs: for benchmarks. `slow` maps paths to
 * `{ ms, length = true }`: that body is sent in 16 pieces spread over `ms` milliseconds, without
 * a Content-Length when `length` is false (for loading progress; other bodies have one). `log` lists
 * `{ path, start, end }` (ms since the server started) for every response sent. `headers(path)`
 * returns extra response headers for a path (e.g. a Content-Security-Policy), or nothing.
 */
export async function serve({ mounts = {}, files = {}, isolate = false, slow = {}, headers: extra = () => ({}) } = {}) {
  const requests = [];
  const log = [];
  const started = performance.now();
  /** Sends a body whole, or in timed pieces for a `slow` path. */
  const send = async (res, path, headers, body) => {
    const entry = { path, start: performance.now() - started, end: null };
    log.push(entry);
    const pace = slow[path];
    if (!pace) {
      res.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(body) }).end(body);
    } else {
      const bytes = Buffer.from(body);
      res.writeHead(200, pace.length === false ? headers : { ...headers, 'content-length': bytes.length });
      const piece = Math.ceil(bytes.length / 16);
      for (let at = 0; at < bytes.length; at += piece) {
        res.write(bytes.subarray(at, at + piece));
        await new Promise((ok) => setTimeout(ok, (pace.ms ?? 0) / 16));
      }
      res.end();
    }
    entry.end = performance.now() - started;
  };
  const isolation = isolate ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {};
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    requests.push(path);
    const type = (file) => ({ 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', ...isolation, ...extra(path) });
    if (files[path]) {
      await send(res, path, type(path), files[path]);
      return;
    }
    const [prefix, base] = Object.entries(mounts).find(([p]) => path.startsWith(p)) ?? ['/', ROOT];
    const rest = path.slice(prefix.length - 1);
    const file = normalize(join(base, rest.endsWith('/') ? rest + 'index.html' : rest));
    if (!file.startsWith(base)) { res.writeHead(403).end(); return; }
    let body;
    try {
      body = await readFile(file);
    } catch {
      res.writeHead(404).end('not found');
      return;
    }
    await send(res, path, type(file), body);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${server.address().port}`;
  return { url, requests, log, close: () => new Promise((ok) => server.close(ok)) };
}

/** Headless Chromium, with or without WebGPU; `close()` also deletes its profile folder
 *  (about 65 MB each, which a test run would otherwise leave behind in the temp folder). */
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
  const close = context.close.bind(context);
  context.close = async (options) => {
    try {
      await close(options);
    } finally {
      await rm(userDataDir, { recursive: true, force: true });
    }
  };
  return context;
}

/**
 * Runs `body(context)` in a fresh headless Chromium (`launch`'s options), and closes it (its
 * profile folder deleted) however `body` ends; resolves to what `body` resolves to.
 */
export async function withBrowser(options, body) {
  const context = await launch(options);
  try {
    return await body(context);
  } finally {
    await context.close();
  }
}

/**
 * Opens `url` in a new page of `context`: `page.errors` collects the messages of uncaught page
 * errors from before the page loads, and `page.response` is the navigation's response.
 * Options: `console` (also collect the console's `{ type, text }` in `page.console`),
 * `viewport` (`{ width, height }`, set before loading), `ready` (what to wait for once loaded:
 * a selector, or a function run in the page until it returns a truthy value) and its
 * `timeout` (ms; Playwright's default without one).
 */
export async function openPage(context, url, { console: collect = false, viewport, ready, timeout } = {}) {
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  if (collect) {
    page.console = [];
    page.on('console', (m) => page.console.push({ type: m.type(), text: m.text() }));
  }
  if (viewport) await page.setViewportSize(viewport);
  page.response = await page.goto(url);
  const wait = timeout == null ? {} : { timeout };
  if (typeof ready === 'string') await page.waitForSelector(ready, wait);
  else if (ready) await page.waitForFunction(ready, null, wait);
  return page;
}

/**
 * Opens the API test page of one wasm build (`pkg`: /pkg/webgpu, the WebGPU + CPU build, by
 * default; /pkg or /pkg-cpu, the CPU build) and waits until the module is initialised.
 */
export function apiPage(context, url, pkg = '/pkg/webgpu') {
  return openPage(context, `${url}/tests/browser/api.html?pkg=${pkg}`, { ready: () => window.awrsrReady === true, timeout: 60_000 });
}
