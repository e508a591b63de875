// A session-trained bundle (the session protocol's defaults: cosine scores, a sampled
// softmax above 20,000 items) loads and answers in the browser as the native CLI does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, OUTPUT, serve, launch, apiPage } from './harness.mjs';

// The shared data folder, found as the Rust tests find it (tests/common/mod.rs).
const SHARED = [process.env.AWRSR_SHARED_DATA, join(ROOT, '../shared/data'), '/work/shared/data']
  .find((dir) => dir && existsSync(dir)) ?? join(ROOT, '../shared/data');
const BUNDLE = '/test-output/sessions.awrsr';
const bin = process.env.AWRSR_BIN ?? join(ROOT, 'target/debug/awrsr');

/** Trains a small model on the first 4,000 Diginetica sessions, stored as int8. */
async function trainSessionModel() {
  const text = await readFile(join(SHARED, 'sessions/diginetica/train.txt'), 'utf8');
  await mkdir(OUTPUT, { recursive: true });
  const train = join(OUTPUT, 'sessions-train.txt');
  await writeFile(train, text.split('\n').slice(0, 4000).join('\n'));
  const out = execFileSync(bin, ['train', '--data', train, '--split', 'sessions', '--d-model', '16', '--epochs', '1',
    '--precision', 'int8', '--quiet', '--out', join(ROOT, BUNDLE)]).toString();
  assert.match(out, /"temperature":0\.08/, 'trained with the session defaults');
  return text.split('\n').slice(0, 3).map((line) => line.split(' ').slice(1, 4));
}

let server, browser, sessions;
before(async () => {
  sessions = [...await trainSessionModel(), []];
  server = await serve();
  browser = await launch({ webgpu: false });
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test('a session-trained bundle gives the native CLI\'s top 10 in both browser builds', async () => {
  for (const pkg of ['/pkg/webgpu', '/pkg']) {
    const page = await apiPage(browser, server.url, pkg);
    const results = await page.evaluate(async ([model, sessions]) => {
      const rec = await awrsr.Recommender.load(model, { backend: 'cpu' });
      const out = [];
      for (const s of sessions) out.push(await rec.recommend(s, { k: 10 }));
      rec.free();
      return out;
    }, [BUNDLE, sessions]);
    sessions.forEach((session, i) => {
      const expected = JSON.parse(execFileSync(bin, ['recommend', '--model', join(ROOT, BUNDLE), '--session', session.join(','), '-k', '10', '--json']));
      assert.equal(expected.items.length, 10);
      assert.deepEqual(results[i].items.map((x) => x.id), expected.items.map((x) => x.id), `${pkg} ${session}`);
      results[i].items.forEach((item, j) => {
        const want = expected.items[j].score;
        assert.ok(Math.abs(item.score - want) <= 1e-4 * Math.max(1, Math.abs(want)), `${pkg}: ${item.score} vs ${want}`);
      });
    });
    assert.deepEqual(page.errors, []);
    await page.close();
  }
});
