// Shared by the browser benchmarks (web.mjs, threshold.mjs): one benchmark page in a fresh
// headless Chromium, waited for until it publishes `window.result`.
import { launch } from '../tests/browser/harness.mjs';

/**
 * Opens `path` of `server` in a fresh browser (cold cache; `gpu`: with WebGPU) and returns
 * the page's `window.result`, with the browser's user agent and whether the page was
 * cross-origin isolated. Throws with the page's errors if it fails or sets no result in 10 minutes.
 */
export async function measure(server, path, { gpu }) {
  const context = await launch({ webgpu: gpu });
  try {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}${path}`);
    await page.waitForFunction(() => window.result || document.title === 'failed', null, { timeout: 600_000 })
      .catch((e) => { throw new Error(`${path}: ${errors.join('; ') || e.message}`); });
    const facts = await page.evaluate(() => ({ userAgent: navigator.userAgent, isolated: crossOriginIsolated }));
    return { path, ...facts, ...(await page.evaluate(() => window.result)) };
  } finally {
    await context.close();
  }
}
