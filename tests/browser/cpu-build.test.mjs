// The CPU-only browser build (pkg-cpu/, `scripts/build-web.sh --cpu`): the same API and the
// same answers as the native CLI, and a clear word about WebGPU, even in a browser that has it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, serve, launch, apiPage } from './harness.mjs';
import { widenBundle } from './widen.mjs';

const MODEL = '/www/model.awrsr';
const BIG = '/test-output/model-100000-cpu.awrsr';
const SESSIONS = [['1', '50', '260'], ['2571', '4993', '5952', '7153', '318'], []];

function native(session, model) {
  const bin = process.env.AWRSR_BIN ?? join(ROOT, 'target/debug/awrsr');
  return JSON.parse(execFileSync(bin, ['recommend', '--model', model, '--session', session.join(','), '-k', '10', '--json']));
}

let server, browser, page;
before(async () => {
  await access(join(ROOT, 'pkg-cpu/awrsr.js')).catch(() => {
    throw new Error('pkg-cpu/ is missing: run scripts/build-web.sh --cpu');
  });
  const big = widenBundle(await readFile(join(ROOT, MODEL)), 100_000);
  const { mkdir, writeFile } = await import('node:fs/promises');
  await mkdir(join(ROOT, 'test-output'), { recursive: true });
  await writeFile(join(ROOT, BIG), big);
  server = await serve();
  browser = await launch({ webgpu: true });
  page = await apiPage(browser, server.url, '/pkg-cpu');
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test('the CPU-only build runs on the CPU and says why, even where WebGPU exists', async () => {
  const facts = await page.evaluate(async (model) => {
    const rec = await awrsr.Recommender.load(model, { backend: 'auto' });
    const out = { backend: rec.backend, fallbackReason: rec.fallbackReason, itemCount: rec.itemCount };
    rec.free();
    try { await awrsr.Recommender.load(model, { backend: 'webgpu' }); out.webgpu = 'loaded'; }
    catch (e) { out.webgpu = e instanceof Error ? e.message : String(e); }
    return out;
  }, MODEL);
  assert.equal(facts.backend, 'cpu');
  assert.match(facts.fallbackReason, /CPU-only build/);
  assert.equal(facts.itemCount, 9724);
  assert.match(facts.webgpu, /WebGPU is not available: .*CPU-only build/);
});

test('the CPU-only build gives the native CLI\'s top 10 at 9,724 and 100,000 items', async () => {
  for (const model of [MODEL, BIG]) {
    const results = await page.evaluate(async ([model, sessions]) => {
      const rec = await awrsr.Recommender.load(model, { backend: 'cpu' });
      const out = [];
      for (const s of sessions) out.push(await rec.recommend(s, { k: 10, explain: true }));
      rec.free();
      return out;
    }, [model, SESSIONS]);
    SESSIONS.forEach((session, i) => {
      const expected = native(session, join(ROOT, model));
      const got = results[i];
      assert.deepEqual(got.items.map((x) => x.id), expected.items.map((x) => x.id), `${model} ${session}`);
      got.items.forEach((item, j) => {
        const want = expected.items[j].score;
        assert.ok(Math.abs(item.score - want) <= 1e-4 * Math.max(1, Math.abs(want)), `${model}: ${item.score} vs ${want}`);
      });
      if (session.length) assert.equal(got.attention.ids.length, session.length);
    });
  }
  assert.deepEqual(page.errors, []);
});
