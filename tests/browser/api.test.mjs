// The JavaScript API in real headless Chromium: same answers as the native CLI on both
// backends, backend selection and fallback, every error case, huge and empty sessions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, serve, launch, apiPage } from './harness.mjs';
import { widenBundle } from './widen.mjs';

const MODEL = '/www/model.awrsr';
const SESSIONS = [
  ['1', '50', '260'],
  ['2571', '4993', '5952', '7153', '318'],
  ['296'],
  ['1', '2', '3', '5', '6', '7', '10', '11', '16', '17', '19', '21', '22', '24', '25', '32', '34', '36', '39', '41',
   '45', '47', '48', '50', '52', '58', '62', '70', '88', '95', '104', '110', '111', '141', '150', '153', '158', '165',
   '173', '185', '196', '231', '253', '260', '288', '292', '296', '316', '317', '318', '329', '337', '344', '349'],
];

const BIG = '/test-output/model-100000.awrsr';

/** The native CLI's answer for a session (the reference for parity). */
function native(session, model = join(ROOT, MODEL)) {
  const bin = process.env.AWRSR_BIN ?? join(ROOT, 'target/debug/awrsr');
  const out = execFileSync(bin, ['recommend', '--model', model, '--session', session.join(','), '-k', '10', '--json']);
  return JSON.parse(out);
}

let server, withGpu, withoutGpu, gpuPage, cpuPage, bigBundle;
before(async () => {
  bigBundle = widenBundle(await readFile(join(ROOT, MODEL)), 100_000);
  server = await serve({ files: { [BIG]: bigBundle } });
  withGpu = await launch({ webgpu: true });
  withoutGpu = await launch({ webgpu: false });
  gpuPage = await apiPage(withGpu, server.url);
  cpuPage = await apiPage(withoutGpu, server.url);
});
after(async () => {
  await withGpu?.close();
  await withoutGpu?.close();
  await server?.close();
});

/** Loads a model (the demo's by default) in the page, kept as window.rec; returns its facts. */
async function load(page, backend, model = MODEL) {
  return page.evaluate(async ([model, backend]) => {
    window.rec?.free();
    window.rec = await awrsr.Recommender.load(model, { backend });
    return { backend: rec.backend, fallbackReason: rec.fallbackReason, itemCount: rec.itemCount };
  }, [model, backend]);
}

/** Same top 10 and scores within 1e-4 as the native CLI, for every session. */
async function assertParity(page, backend, sessions, model) {
  for (const session of sessions) {
    const expected = native(session, model);
    const got = await recommend(page, session, { k: 10 });
    assert.equal(got.backend, backend);
    assert.deepEqual(got.items.map((i) => i.id), expected.items.map((i) => i.id), `${backend} ${session}`);
    got.items.forEach((item, i) => {
      const want = expected.items[i].score;
      assert.ok(Math.abs(item.score - want) <= 1e-4 * Math.max(1, Math.abs(want)), `${backend}: score ${item.score} vs ${want}`);
    });
  }
}

const recommend = (page, session, options) =>
  page.evaluate(([s, o]) => rec.recommend(s, o), [session, options]);

/** The rejection message of an expression evaluated in the page, or null if it resolved. */
const rejection = (page, body) =>
  page.evaluate(async (body) => {
    try { await new Function(`return (async () => { ${body} })()`)(); return null; }
    catch (e) { return { isError: e instanceof Error, message: String(e.message) }; }
  }, body);

test('auto passes over a software WebGPU adapter, and takes the CPU without WebGPU', async () => {
  // This machine has no GPU: Chromium's WebGPU adapter here is SwiftShader (software).
  const gpu = await load(gpuPage, 'auto');
  assert.equal(gpu.backend, 'cpu');
  assert.match(gpu.fallbackReason, /software fallback .*the CPU path is faster/i);
  const forced = await load(gpuPage, 'webgpu');
  assert.equal(forced.backend, 'webgpu');
  assert.equal(forced.fallbackReason, null);
  const cpu = await load(cpuPage, 'auto');
  assert.equal(cpu.backend, 'cpu');
  assert.match(cpu.fallbackReason, /WebGPU/);
  assert.equal(cpu.itemCount, 9724);
});

test('membership and titles: one id, many ids at once, all ids; wrong types are Errors', async () => {
  for (const page of [gpuPage, cpuPage]) {
    await load(page, 'cpu');
    const facts = await page.evaluate(() => {
      const ids = rec.itemIds();
      return {
        count: ids.length, first: ids[0], unique: new Set(ids).size,
        one: rec.hasItem('260'), none: rec.hasItem('no-such-item'),
        many: rec.hasItems(['260', 'nope', '1', '']),
        title: rec.title('260'), missing: rec.title('nope'),
      };
    });
    assert.equal(facts.count, 9724);
    assert.equal(facts.unique, 9724);
    assert.equal(typeof facts.first, 'string');
    assert.equal(facts.one, true);
    assert.equal(facts.none, false);
    assert.deepEqual(facts.many, [true, false, true, false]);
    assert.match(facts.title, /Star Wars/);
    assert.equal(facts.missing, undefined);
    const wrong = await page.evaluate(() => {
      const message = (f) => { try { f(); return null; } catch (e) { return { isError: e instanceof Error, message: e.message }; } };
      return [
        message(() => rec.hasItem(1)),
        message(() => rec.title({ toString() { throw new Error('boom'); } })),
        message(() => rec.hasItems('260')),
        message(() => rec.hasItems(['260', 7])),
      ];
    });
    for (const error of wrong) {
      assert.ok(error?.isError, JSON.stringify(wrong));
    }
    assert.match(wrong[0].message, /item id must be a string/);
    assert.match(wrong[2].message, /ids must be an array/);
    assert.match(wrong[3].message, /ids item 1 is not a string/);
    // The module still works after every refusal.
    assert.equal((await recommend(page, ['1'], { k: 3 })).items.length, 3);
    assert.deepEqual(page.errors, []);
  }
});

test('WebGPU, the CPU wasm path and the native CLI give the same top 10', async () => {
  for (const [page, backend] of [[gpuPage, 'webgpu'], [cpuPage, 'cpu']]) {
    assert.equal((await load(page, backend)).backend, backend);
    await assertParity(page, backend, SESSIONS, join(ROOT, MODEL));
  }
});

test('results follow the options: exclusions, allow-list, explanations, unknown ids', async () => {
  for (const page of [gpuPage, cpuPage]) {
    const session = ['1', 'no-such-item', '50', '260'];
    const base = await recommend(page, session, { k: 5, explain: true });
    assert.deepEqual(base.unknown, ['no-such-item']);
    assert.equal(base.items.length, 5);
    for (const item of base.items) {
      assert.ok(!session.includes(item.id));
      assert.equal(typeof item.title, 'string');
      assert.ok(item.because.every((b) => ['1', '50', '260'].includes(b.id) && b.weight > 0), JSON.stringify(item.because));
      assert.ok(item.because.every((b, i) => i === 0 || item.because[i - 1].weight >= b.weight));
    }
    assert.ok(typeof base.ms === 'number' && base.ms >= 0);

    const blocked = base.items[0].id;
    const excluded = await recommend(page, session, { k: 5, exclude: [blocked] });
    assert.ok(!excluded.items.some((i) => i.id === blocked));

    const allowed = ['2', '3', '4', '1'];
    const only = await recommend(page, session, { k: 10, include: allowed });
    assert.deepEqual(only.items.map((i) => i.id).sort(), ['2', '3', '4']);
    const seen = await recommend(page, session, { k: 10, include: allowed, excludeSeen: false });
    assert.deepEqual(seen.items.map((i) => i.id).sort(), ['1', '2', '3', '4']);
    assert.equal(only.items[0].because, undefined, 'no explanation unless asked');
  }
});

test('a 10,000-click session uses its newest items and an empty one still answers', async () => {
  for (const page of [gpuPage, cpuPage]) {
    const ids = await page.evaluate(() => rec.itemIds());
    const long = Array.from({ length: 10_000 }, (_, i) => ids[(i * 7919) % ids.length]);
    const newest = long.slice(-60);
    const a = await recommend(page, long, { k: 10, excludeSeen: false });
    const b = await recommend(page, newest, { k: 10, excludeSeen: false });
    assert.deepEqual(a.items.map((i) => i.id), b.items.map((i) => i.id));
    const empty = await recommend(page, [], { k: 10 });
    assert.equal(empty.items.length, 10);
    assert.deepEqual(empty.unknown, []);
  }
});

test('bad arguments and bad bundles reject with an Error that names the problem', async () => {
  for (const page of [gpuPage, cpuPage]) {
    await load(page, 'auto');
    const cases = [
      ['return rec.recommend(["1"], { k: 0 })', /k must be a positive integer/],
      ['return rec.recommend(["1"], { k: 2.5 })', /k must be a positive integer/],
      ['return rec.recommend(["1"], { k: NaN })', /k must be a positive integer/],
      ['return rec.recommend(["1"], { k: "3" })', /invalid recommend options/],
      ['return rec.recommend(["1", 2], {})', /session item 1 is not a string/],
      ['return rec.recommend("1,2", {})', /session must be an array/],
      ['return rec.recommend(["1"], { topK: 3 })', /invalid recommend options: unknown field `topK`/],
      ['return rec.recommend(["1"], { exclude: "1" })', /invalid recommend options/],
      ['return rec.recommend(["1"], 7)', /recommend options must be an object/],
      ['return awrsr.Recommender.load(new Uint8Array([1, 2, 3]), {})', /not an awrsr model bundle/],
      ['return awrsr.Recommender.load(new Uint8Array(500), {})', /not an awrsr model bundle/],
      [`const b = new Uint8Array(await (await fetch("${MODEL}")).arrayBuffer());
        return awrsr.Recommender.load(b.slice(0, b.length - 1000), {})`, /not an awrsr model bundle/],
      ['return awrsr.Recommender.load("/no/such/model.awrsr", {})', /cannot load model from .*HTTP 404/],
      ['return awrsr.Recommender.load(42, {})', /model source must be/],
      [`const b = new Uint8Array(await (await fetch("${MODEL}")).arrayBuffer());
        structuredClone(b.buffer, { transfer: [b.buffer] });
        return awrsr.Recommender.load(b, {})`, /model bytes are empty .*detached/],
      [`return awrsr.Recommender.load("${MODEL}", { backend: "gpu" })`, /backend must be 'auto', 'webgpu' or 'cpu'/],
    ];
    for (const [body, pattern] of cases) {
      const error = await rejection(page, body);
      assert.ok(error, `expected a rejection: ${body}`);
      assert.ok(error.isError, `not an Error: ${body}`);
      assert.match(error.message, pattern, body);
    }
    // Nothing was poisoned: the module and the loaded model still work.
    const after = await recommend(page, ['1'], { k: 3 });
    assert.equal(after.items.length, 3);
    assert.deepEqual(page.errors, []);
  }
  const error = await rejection(cpuPage, `return awrsr.Recommender.load("${MODEL}", { backend: "webgpu" })`);
  assert.match(error.message, /WebGPU is not available/);
});

test('a 100,000-item bundle: WebGPU, the CPU wasm path and the native CLI agree', async () => {
  const file = join(ROOT, BIG);
  await mkdir(join(ROOT, 'test-output'), { recursive: true });
  await writeFile(file, bigBundle);
  const sessions = [SESSIONS[0], SESSIONS[3], []];
  for (const [page, backend] of [[gpuPage, 'webgpu'], [cpuPage, 'cpu']]) {
    const facts = await load(page, backend, BIG);
    assert.equal(facts.itemCount, 100_000);
    await assertParity(page, backend, sessions, file);
    await load(page, backend);
  }
});

/** The score of `item` for `session` (that item alone allowed, seen items allowed). */
async function scoreOf(page, session, item) {
  const out = await recommend(page, session, { k: 1, include: [item], excludeSeen: false });
  return out.items[0].score;
}

test('per-item explanations: faithful on real sessions, the same on both backends and natively', async () => {
  const sessions = [SESSIONS[0], SESSIONS[1], ['2571', '1196', '1210', '260', '4993'], ['318', '858', '1221', '296', '593', '2959']];
  for (const [page, backend] of [[gpuPage, 'webgpu'], [cpuPage, 'cpu']]) {
    await load(page, backend);
    let pairs = 0, faithful = 0, differing = 0;
    for (const session of sessions) {
      const out = await recommend(page, session, { k: 5, explain: true });
      const expected = JSON.parse(execFileSync(process.env.AWRSR_BIN ?? join(ROOT, 'target/debug/awrsr'),
        ['recommend', '--model', join(ROOT, MODEL), '--session', session.join(','), '-k', '5', '--explain', '--json']));
      assert.deepEqual(out.items.map((i) => i.because.map((b) => b.id)), expected.items.map((i) => i.because.map((b) => b.id)), `${backend}: same reasons as the CLI`);
      assert.equal(out.attention.rollout.length, out.attention.ids.length);
      differing += new Set(out.items.map((i) => i.because.map((b) => b.id).join())).size > 1 ? 1 : 0;
      for (const item of out.items) {
        if (item.because.length < 2) continue;
        const drop = async (id) => item.score - await scoreOf(page, session.filter((s) => s !== id), item.id);
        const top = await drop(item.because[0].id);
        assert.ok(Math.abs(top - item.because[0].weight) < 1e-3, 'the weight is the score drop');
        pairs += 1;
        faithful += top > await drop(item.because.at(-1).id) ? 1 : 0;
      }
    }
    console.log(`${backend}: leaving out the top-named item lowers the score more than the lowest-named in ${faithful} of ${pairs}`);
    assert.ok(pairs >= 5 && faithful / pairs >= 0.95, `${faithful} of ${pairs}`);
    assert.ok(differing >= 2, 'reasons differ between recommendations');
  }
});

test('f16 and int8 bundles load in the browser and answer like the CLI on them', async () => {
  const bin = process.env.AWRSR_BIN ?? join(ROOT, 'target/debug/awrsr');
  await mkdir(join(ROOT, 'test-output'), { recursive: true });
  for (const precision of ['f16', 'int8']) {
    const file = join(ROOT, 'test-output', `model-${precision}.awrsr`);
    execFileSync(bin, ['export', '--model', join(ROOT, MODEL), '--out', file, '--precision', precision]);
    for (const [page, backend] of [[gpuPage, 'webgpu'], [cpuPage, 'cpu']]) {
      await load(page, backend, `/test-output/model-${precision}.awrsr`);
      await assertParity(page, backend, SESSIONS.slice(0, 2), file);
    }
  }
});
