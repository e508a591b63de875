// A session-trained bundle (the session protocol's defaults: cosine scores, a sampled
// softmax above 20,000 items, a repeat bonus) loads and answers in the browser as the native
// CLI does, with the session's items left out and kept.
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
  assert.match(out, /repeat bonus: [0-9.]+ for the newest click/, 'a repeat bonus chosen and stored');
  return text.split('\n').slice(0, 3).map((line) => line.split(' ').slice(1, 4));
}

let server, browser, sessions;
before(async () => {
  sessions = [...await trainSessionModel(), []];
  server = await serve();
  browser = await launch({ webgpu: true });
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test('a session-trained bundle gives the native CLI\'s top 10 in both browser builds, on WebGPU and the CPU', async () => {
  // WebGPU here is SwiftShader's: the GPU path's reads (the scores and, for the bonus, the
  // session state's length), not its speed.
  for (const [pkg, backend] of [['/pkg/webgpu', 'webgpu'], ['/pkg/webgpu', 'cpu'], ['/pkg', 'cpu']]) {
    const page = await apiPage(browser, server.url, pkg);
    const results = await page.evaluate(async ([model, sessions, backend]) => {
      const rec = await awrsr.Recommender.load(model, { backend });
      const out = [];
      for (const s of sessions) {
        out.push(await rec.recommend(s, { k: 10 }));
        out.push(await rec.recommend(s, { k: 10, excludeSeen: false }));
      }
      rec.free();
      return out;
    }, [BUNDLE, sessions, backend]);
    // Each session twice: its items left out (the default), then kept, scored with the
    // bundle's repeat bonus.
    sessions.flatMap((session) => [[session, []], [session, ['--include-seen']]]).forEach(([session, flags], i) => {
      const expected = JSON.parse(execFileSync(bin, ['recommend', '--model', join(ROOT, BUNDLE), '--session', session.join(','), '-k', '10', '--json', ...flags]));
      assert.equal(expected.items.length, 10);
      assert.deepEqual(results[i].items.map((x) => x.id), expected.items.map((x) => x.id), `${pkg} ${backend} ${session} ${flags}`);
      results[i].items.forEach((item, j) => {
        const want = expected.items[j].score;
        assert.ok(Math.abs(item.score - want) <= 1e-4 * Math.max(1, Math.abs(want)), `${pkg} ${backend}: ${item.score} vs ${want}`);
      });
    });
    assert.deepEqual(page.errors, []);
    await page.close();
  }
});
