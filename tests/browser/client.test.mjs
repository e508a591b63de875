// client.js, the page-side entry point, in real headless Chromium: worker mode answers as the
// in-page Recommender does (WebGPU and CPU, pkg/ and pkg-cpu/) without running anything of
// the model on the main thread; calls are answered in order, `supersede` drops waiting
// recommendations; the wasm and the model download in parallel with real progress; bad
// input, a freed model and a dying worker reject with Errors; no request after load. One
// engine per model URL: a second load shares the Worker, the wasm and the model, and free()
// is counted. Lean by default: 'auto' loads the CPU build, the WebGPU build only when asked
// for (or, builds.js's rule, on a real GPU with a large catalogue).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, serve, launch, apiPage, openPage } from './harness.mjs';
import { writeSafetensors } from './widen.mjs';
import { requestedBuild, probeAdapter, autoBuild, itemCount, WEBGPU_MIN_ITEMS } from '../../js/builds.js';

const MODEL = '/www/model.awrsr';
const SESSIONS = [['1', '50', '260'], ['2571', '4993', '5952', '7153', '318'], ['296'], []];
/** A page that imports nothing: whatever runs on its main thread, a test put there. */
const PAGE = '<!doctype html><meta charset="utf-8"><title>client</title><script type="module">window.ready = true;</script>';
/** The same page under a Content-Security-Policy that forbids workers. */
const NO_WORKERS = PAGE.replace('<title>', `<meta http-equiv="Content-Security-Policy" content="worker-src 'none'"><title>`);
/** A worker that loads the real one, then dies (an uncaught error) instead of answering `['crash']`. */
const CRASHING_WORKER = "import '/broken/crash.js'; import '/pkg/worker.js';";
/** Its first module, so that its listener runs before the real worker's. */
const CRASH = `const post = self.postMessage.bind(self);
let crashing = false;
self.addEventListener('message', ({ data }) => { if (data?.args?.[0]?.[0] === 'crash') crashing = true; });
self.postMessage = (message, transfer) => {
  if (!crashing) return post(message, transfer);
  setTimeout(() => { throw new Error('simulated crash'); });
};`;

let server, withGpu, withoutGpu;
before(async () => {
  server = await serve({
    files: { '/client.html': PAGE, '/no-workers.html': NO_WORKERS, '/broken/worker.js': CRASHING_WORKER, '/broken/crash.js': CRASH },
    mounts: { '/broken/': join(ROOT, 'pkg') },
  });
  withGpu = await launch({ webgpu: true });
  withoutGpu = await launch({ webgpu: false });
});
after(async () => {
  await withGpu?.close();
  await withoutGpu?.close();
  await server?.close();
});

/** A fresh page with nothing loaded; `page.errors` collects uncaught page errors. */
const clientPage = (context, url = server.url) => openPage(context, `${url}/client.html`, { ready: () => window.ready === true });

/** Loads a model with client.js in the page (kept as window.rec); returns its plain properties. */
function load(page, pkg, model, options) {
  return page.evaluate(async ([pkg, model, options]) => {
    const client = await import(`${pkg}/client.js`);
    window.rec?.free();
    window.rec = await client.load(model, options);
    const { backend, fallbackReason, itemCount, maxLength, warnings, inWorker } = rec;
    return { backend, fallbackReason, itemCount, maxLength, warnings, inWorker };
  }, [pkg, model, options]);
}

/** The rejection of an async body run in the page (`load` is client.js's), or null if it resolved. */
const rejection = (page, pkg, body) =>
  page.evaluate(async ([pkg, body]) => {
    const { load } = await import(`${pkg}/client.js`);
    try { await new Function('load', `return (async () => { ${body} })()`)(load); return null; }
    catch (e) { return { isError: e instanceof Error, name: e.name, message: String(e.message) }; }
  }, [pkg, body]);

const wasmRequests = (build) => server.requests.filter((p) => p === `${build}/awrsr_bg.wasm`).length;

/** Same top 10, scores within 1e-5. */
function assertSame(got, want, label) {
  assert.deepEqual(got.items.map((i) => i.id), want.items.map((i) => i.id), label);
  got.items.forEach((item, i) => assert.ok(Math.abs(item.score - want.items[i].score) <= 1e-5, `${label}: ${item.score} vs ${want.items[i].score}`));
  assert.equal(got.backend, want.backend, label);
}

test('worker mode answers as the in-page Recommender, and the main thread runs none of it', async () => {
  // [browser, package, backend, the folder of the wasm build that runs it]
  const cases = [[withGpu, '/pkg', 'webgpu', '/pkg/webgpu'], [withoutGpu, '/pkg', 'cpu', '/pkg'], [withGpu, '/pkg-cpu', 'cpu', '/pkg-cpu']];
  for (const [context, pkg, backend, build] of cases) {
    const label = `${pkg} ${backend}`;
    const reference = await apiPage(context, server.url, build);
    const [want, wantFacts] = await reference.evaluate(async ([model, backend, sessions]) => {
      const rec = await awrsr.Recommender.load(model, { backend });
      const out = [];
      for (const s of sessions) out.push(await rec.recommend(s, { k: 10 }));
      const { fallbackReason, itemCount, maxLength, warnings } = rec;
      rec.free();
      return [out, { backend, fallbackReason, itemCount, maxLength, warnings }];
    }, [MODEL, backend, SESSIONS]);
    await reference.close();

    const page = await clientPage(context);
    const wasmBefore = wasmRequests(build);
    // A relative URL is the page's (the worker's own base would be the package folder).
    const facts = await load(page, pkg, MODEL.slice(1), { backend, worker: true });
    assert.deepEqual(facts, { ...wantFacts, inWorker: true }, label);
    assert.deepEqual([facts.itemCount, facts.maxLength], [9724, 50]);
    const got = await page.evaluate(async (sessions) => {
      const out = [];
      for (const s of sessions) out.push(await rec.recommend(s, { k: 10 }));
      return {
        out, ids: (await rec.itemIds()).length, has: await rec.hasItem('260'), many: await rec.hasItems(['260', 'nope']),
        title: await rec.title('260'), promise: rec.hasItem('1') instanceof Promise,
        mainThread: performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname),
      };
    }, SESSIONS);
    got.out.forEach((result, i) => assertSame(result, want[i], `${label} ${SESSIONS[i]}`));
    assert.equal(got.ids, 9724);
    assert.deepEqual([got.has, got.many, got.promise], [true, [true, false], true]);
    assert.match(got.title, /Star Wars/);
    // The module and its wasm were fetched once, by the worker: never by the page itself.
    assert.equal(wasmRequests(build) - wasmBefore, 1, label);
    assert.ok(got.mainThread.includes(`${pkg}/client.js`), label);
    assert.ok(!got.mainThread.some((p) => /awrsr(_bg\.wasm|\.js)$/.test(p)), `${label}: ${got.mainThread}`);

    // The same in the page (worker: false): same answers, and now the page did fetch them.
    assert.equal((await load(page, pkg, MODEL, { backend, worker: false })).inWorker, false);
    const inPage = await page.evaluate((s) => rec.recommend(s, { k: 10 }), SESSIONS[1]);
    assertSame(inPage, want[1], `${label} in page`);
    assert.deepEqual(page.errors, []);
    await page.close();
  }
});

test('overlapping calls resolve in call order, in both modes', async () => {
  const page = await clientPage(withoutGpu);
  for (const worker of [true, false]) {
    await load(page, '/pkg', MODEL, { backend: 'cpu', worker });
    const order = await page.evaluate(async () => {
      const done = [];
      const calls = [];
      for (let i = 0; i < 24; i++) {
        const call = [() => rec.recommend(['1', String(i + 2)], { k: 5 + (i % 7) }), () => rec.hasItem('260'), () => rec.title('1'), () => rec.itemIds()][i % 4];
        calls.push(call().then((value) => { done.push(i); return value; }));
      }
      const values = await Promise.all(calls);
      return { done, sizes: values.filter((_, i) => i % 4 === 0).map((v) => v.items.length), has: values[1], title: values[2] };
    });
    assert.deepEqual(order.done, Array.from({ length: 24 }, (_, i) => i), `worker ${worker}`);
    assert.deepEqual(order.sizes, [5, 9, 6, 10, 7, 11]);
    assert.equal(order.has, true);
    assert.match(order.title, /Toy Story/);
  }
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('supersede rejects the waiting recommendations with AbortError; the running one and the newest resolve', async () => {
  const page = await clientPage(withoutGpu);
  for (const worker of [true, false]) {
    await load(page, '/pkg', MODEL, { backend: 'cpu', worker });
    const outcome = await page.evaluate(async ([a, b, c]) => {
      const settle = (p) => p.then((v) => ({ ok: v }), (e) => ({ isError: e instanceof Error, name: e.name, message: e.message }));
      const calls = [
        rec.recommend(a, { k: 3 }), rec.recommend(b, { k: 3 }), rec.hasItem('1'), rec.recommend(b, { k: 4 }),
        rec.recommend(c, { k: 3, supersede: true }),
      ].map(settle);
      const results = await Promise.all(calls);
      const alone = await rec.recommend(c, { k: 3 });
      return { results, alone };
    }, SESSIONS);
    const [running, waiting, other, waiting2, newest] = outcome.results;
    assert.equal(running.ok?.items.length, 3, `worker ${worker}: the running one finishes`);
    for (const superseded of [waiting, waiting2]) {
      assert.ok(superseded.isError, JSON.stringify(superseded));
      assert.equal(superseded.name, 'AbortError');
      assert.match(superseded.message, /superseded by a newer session/);
    }
    assert.equal(other.ok, true, 'calls other than recommend are kept');
    assert.deepEqual(newest.ok.items.map((i) => i.id), outcome.alone.items.map((i) => i.id));
  }
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the wasm and the model download in parallel, with monotonic progress and real totals', async () => {
  const sizes = { wasm: (await stat(join(ROOT, 'pkg/awrsr_bg.wasm'))).size, model: (await stat(join(ROOT, MODEL.slice(1)))).size };
  const slow = await serve({
    files: { '/client.html': PAGE, '/nolength.awrsr': await readFile(join(ROOT, MODEL.slice(1))) },
    slow: { '/pkg/awrsr_bg.wasm': { ms: 800 }, [MODEL]: { ms: 800 }, '/nolength.awrsr': { ms: 400, length: false } },
  });
  try {
    const page = await clientPage(withoutGpu, slow.url);
    for (const worker of [true, false]) {
      const events = await page.evaluate(async ([worker, model]) => {
        const { load } = await import('/pkg/client.js');
        const events = [];
        const rec = await load(model, { backend: 'cpu', worker, onProgress: (p) => events.push(p) });
        rec.free();
        return events;
      }, [worker, MODEL]);
      assert.ok(events.length > 8, `worker ${worker}: ${events.length} events`);
      for (let i = 1; i < events.length; i++) {
        for (const key of ['loaded', 'wasm', 'model']) {
          const [before, now] = [events[i - 1], events[i]].map((p) => (key === 'loaded' ? p.loaded : p[key].loaded));
          assert.ok(now >= before, `worker ${worker}: ${key} went back at event ${i}`);
        }
        assert.equal(events[i].loaded, events[i].wasm.loaded + events[i].model.loaded);
      }
      const last = events.at(-1);
      assert.deepEqual(last, { loaded: sizes.wasm + sizes.model, total: sizes.wasm + sizes.model, wasm: { loaded: sizes.wasm, total: sizes.wasm }, model: { loaded: sizes.model, total: sizes.model } });
      const between = (part) => part.loaded > 0 && part.loaded < part.total;
      assert.ok(events.some((p) => between(p.wasm) && between(p.model)), `worker ${worker}: no moment with both downloads part-way`);
      // The server saw the two responses overlap in time.
      const [wasm, model] = ['/pkg/awrsr_bg.wasm', MODEL].map((path) => slow.log.findLast((e) => e.path === path));
      assert.ok(wasm.start < model.end && model.start < wasm.end, JSON.stringify({ wasm, model }));
    }

    // Without a Content-Length the model's total stays null until the end.
    const unsized = await page.evaluate(async () => {
      const { load } = await import('/pkg/client.js');
      const events = [];
      (await load('/nolength.awrsr', { backend: 'cpu', onProgress: (p) => events.push(p) })).free();
      return events;
    });
    assert.ok(unsized.slice(0, -1).every((p) => p.model.total === null && p.total === null));
    assert.ok(unsized.some((p) => p.model.loaded > 0 && p.model.loaded < sizes.model));
    assert.deepEqual(unsized.at(-1).model, { loaded: sizes.model, total: sizes.model });

    // An AbortSignal stops a load under way, in both modes.
    for (const worker of [true, false]) {
      const aborted = await page.evaluate(async (worker) => {
        const { load } = await import('/pkg/client.js');
        const controller = new AbortController();
        const onProgress = (p) => { if (p.loaded > 0) controller.abort(); };
        try { await load('/www/model.awrsr', { backend: 'cpu', worker, onProgress, signal: controller.signal }); return null; }
        catch (e) { return { isError: e instanceof Error, name: e.name }; }
      }, worker);
      assert.deepEqual(aborted, { isError: true, name: 'AbortError' }, `worker ${worker}`);
    }
    assert.deepEqual(page.errors, []);
    await page.close();
  } finally {
    await slow.close();
  }
});

test('bad input rejects with a clear Error in both modes, and the model keeps working', async () => {
  const page = await clientPage(withoutGpu);
  for (const worker of [true, false]) {
    const loads = [
      [`return load('${MODEL}', { worker: ${worker}, backnd: 'cpu' })`, /unknown option 'backnd'/],
      [`return load('${MODEL}', { worker: 'yes' })`, /worker must be true, false or 'auto'/],
      [`return load('${MODEL}', { worker: ${worker}, backend: 'gpu' })`, /backend must be 'auto', 'webgpu' or 'cpu'/],
      [`return load('/no/such/model.awrsr', { worker: ${worker} })`, /cannot load model from http:\/\/127\.0\.0\.1:\d+\/no\/such\/model\.awrsr: HTTP 404/],
      [`return load(new Uint8Array([1, 2, 3]), { worker: ${worker} })`, /not an awrsr model bundle/],
      [`return load(new Uint8Array(500).buffer, { worker: ${worker} })`, /not an awrsr model bundle/],
      [`return load(42, { worker: ${worker} })`, /the model must be a URL/],
      [`return load('http://[bad', { worker: ${worker} })`, /the model URL is not a valid URL: http:\/\/\[bad/],
      [`return load('${MODEL}', { worker: ${worker}, backend: 'webgpu' })`, /WebGPU is not available/],
    ];
    for (const [body, pattern] of loads) {
      const error = await rejection(page, '/pkg', body);
      assert.ok(error?.isError, `worker ${worker}: ${body}: ${JSON.stringify(error)}`);
      assert.match(error.message, pattern, body);
    }
    await load(page, '/pkg', MODEL, { backend: 'cpu', worker });
    const calls = [
      ['return rec.recommend(["1"], { k: 0 })', /k must be a positive integer/],
      ['return rec.recommend(["1"], { topK: 3 })', /invalid recommend options: unknown field `topK`/],
      ['return rec.recommend("1,2", {})', /session must be an array/],
      ['return rec.recommend(["1"], 7)', /recommend options must be an object/],
      ['return rec.recommend(["1"], { supersede: "yes" })', /supersede must be a boolean/],
      ['return rec.recommend(["1"], { exclude: [() => 1] })', /arguments cannot be copied/],
      ['return rec.hasItem(1)', /item id must be a string/],
      ['return rec.hasItems("260")', /ids must be an array/],
    ];
    for (const [body, pattern] of calls) {
      const error = await rejection(page, '/pkg', body);
      assert.ok(error?.isError, `worker ${worker}: ${body}: ${JSON.stringify(error)}`);
      assert.match(error.message, pattern, body);
    }
    const still = await page.evaluate(() => rec.recommend(['1'], { k: 3 }));
    assert.equal(still.items.length, 3, `worker ${worker}`);
  }
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('after free() every unanswered and later call rejects', async () => {
  const page = await clientPage(withoutGpu);
  for (const worker of [true, false]) {
    await load(page, '/pkg', MODEL, { backend: 'cpu', worker });
    const outcome = await page.evaluate(async () => {
      const settle = (p) => p.then(() => 'resolved', (e) => (e instanceof Error ? e.message : 'not an Error'));
      const unanswered = [rec.recommend(['1'], { k: 3 }), rec.recommend(['50'], { k: 3 }), rec.title('1')].map(settle);
      rec.free();
      rec.free(); // a second free does nothing
      const later = [rec.recommend(['1']), rec.hasItem('1'), rec.itemIds()].map(settle);
      return { unanswered: await Promise.all(unanswered), later: await Promise.all(later) };
    });
    for (const message of [...outcome.unanswered, ...outcome.later]) assert.match(message, /this model has been freed/, `worker ${worker}`);
    await page.evaluate(() => { window.rec = null; });
  }
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a worker that dies rejects the pending and every later call with an Error saying so', async () => {
  const page = await clientPage(withoutGpu);
  await load(page, '/broken', MODEL, { backend: 'cpu', worker: true });
  const outcome = await page.evaluate(async () => {
    const settle = (p) => p.then(() => 'resolved', (e) => (e instanceof Error ? e.message : 'not an Error'));
    const first = await settle(rec.recommend(['1'], { k: 3 }));
    const pending = [rec.recommend(['crash'], { k: 3 }), rec.recommend(['1'], { k: 3 })].map(settle);
    return { first, pending: await Promise.all(pending), later: await settle(rec.hasItem('1')) };
  });
  assert.equal(outcome.first, 'resolved', JSON.stringify(outcome));
  for (const message of [...outcome.pending, outcome.later]) assert.match(message, /the worker stopped: .*simulated crash/);
  await page.close();
});

test('a model given as bytes (a Uint8Array view, an ArrayBuffer) loads, and the caller keeps its bytes', async () => {
  const page = await clientPage(withoutGpu);
  for (const worker of [true, false]) {
    const out = await page.evaluate(async ([model, worker]) => {
      const { load } = await import('/pkg/client.js');
      const bytes = new Uint8Array(await (await fetch(model)).arrayBuffer());
      const padded = new Uint8Array(bytes.length + 16);
      padded.set(bytes, 8);
      const view = padded.subarray(8, 8 + bytes.length);
      const results = [];
      for (const source of [view, bytes.buffer]) {
        const rec = await load(source, { backend: 'cpu', worker });
        results.push({ inWorker: rec.inWorker, ids: (await rec.recommend(['1', '50'], { k: 5 })).items.map((i) => i.id) });
        rec.free();
      }
      return { results, kept: [view.length, bytes.buffer.byteLength, padded[8] === bytes[0]], length: bytes.length };
    }, [MODEL, worker]);
    assert.deepEqual(out.results.map((r) => r.inWorker), [worker, worker]);
    assert.equal(out.results[0].ids.length, 5);
    assert.deepEqual(out.results[1].ids, out.results[0].ids);
    assert.deepEqual(out.kept, [out.length, out.length, true], 'not detached');
  }
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("a page whose CSP forbids workers: 'auto' runs in the page, true rejects", async () => {
  const page = await clientPage(withoutGpu);
  await page.goto(`${server.url}/no-workers.html`);
  await page.waitForFunction(() => window.ready === true);
  const auto = await load(page, '/pkg', MODEL, { backend: 'cpu' });
  assert.equal(auto.inWorker, false);
  assert.equal((await page.evaluate(() => rec.recommend(['1'], { k: 3 }))).items.length, 3);
  const error = await rejection(page, '/pkg', `return load('${MODEL}', { backend: 'cpu', worker: true })`);
  assert.ok(error?.isError, JSON.stringify(error));
  assert.match(error.message, /worker/);
  await page.close();
});

test('worker mode makes no network request after load, however many calls', async () => {
  const page = await clientPage(withGpu);
  await load(page, '/pkg', MODEL, { backend: 'cpu', worker: true });
  const seen = server.requests.length;
  const count = await page.evaluate(async () => {
    const ids = await rec.itemIds();
    let n = 0;
    for (let i = 0; i < 60; i++) {
      const session = ids.slice(i * 7, i * 7 + 1 + (i % 12));
      n += (await rec.recommend(session, { k: 10, explain: i % 2 === 0, exclude: [ids[i]] })).items.length;
      await rec.hasItems(session);
      await rec.title(session[0]);
    }
    return n;
  });
  assert.equal(count, 600);
  assert.equal(server.requests.length, seen, `requests after load: ${server.requests.slice(seen)}`);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a second load of the same model URL shares one engine: one Worker, one wasm and one model download; free() is counted', async () => {
  const page = await clientPage(withoutGpu);
  for (const worker of [true, false]) {
    const from = server.requests.length;
    const shared = await page.evaluate(async ([model, worker]) => {
      const { load } = await import('/pkg/client.js');
      const ids = async (rec) => (await rec.recommend(['1', '50'], { k: 5 })).items.map((i) => i.id);
      // Two at once (the URL absolute and relative), then a third once they have loaded.
      window.recs = await Promise.all([load(model, { worker }), load(model.slice(1), { worker })]);
      recs.push(await load(model, { worker }));
      const first = await ids(recs[0]);
      recs[0].free();
      const afterOne = await Promise.all([ids(recs[1]), ids(recs[2])]);
      recs[1].free();
      return { first, afterOne, last: await ids(recs[2]), freed: await recs[0].hasItem('1').then(() => 'resolved', (e) => e.message) };
    }, [MODEL, worker]);
    assert.deepEqual(shared.afterOne, [shared.first, shared.first], `worker ${worker}`);
    assert.deepEqual(shared.last, shared.first);
    assert.match(shared.freed, /this model has been freed/);
    const asked = server.requests.slice(from);
    assert.deepEqual([MODEL, '/pkg/awrsr_bg.wasm'].map((path) => asked.filter((p) => p === path).length), [1, 1], `worker ${worker}: ${asked.join(' ')}`);
    assert.equal(page.workers().length, worker ? 1 : 0, `worker ${worker}: one Worker for three loads`);
    // The last free ends the engine (and its worker); a later load starts a new one.
    await page.evaluate(() => recs[2].free());
    for (let i = 0; i < 50 && page.workers().length > 0; i++) await new Promise((ok) => setTimeout(ok, 20));
    assert.equal(page.workers().length, 0, `worker ${worker}: the last free() ends the Worker`);
    const again = await page.evaluate(async ([model, worker]) => {
      const { load } = await import('/pkg/client.js');
      const rec = await load(model, { worker });
      const n = (await rec.recommend(['1'], { k: 3 })).items.length;
      rec.free();
      return n;
    }, [MODEL, worker]);
    assert.equal(again, 3);
  }
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a shared load aborted by one caller goes on for the others', async () => {
  const page = await clientPage(withoutGpu);
  const from = server.requests.length;
  const outcome = await page.evaluate(async (model) => {
    const { load } = await import('/pkg/client.js');
    const controller = new AbortController();
    const aborted = load(model, { signal: controller.signal }).then(() => 'resolved', (e) => e.name);
    const kept = load(model);
    controller.abort();
    const rec = await kept;
    return { aborted: await aborted, items: (await rec.recommend(['1'], { k: 4 })).items.length };
  }, MODEL);
  assert.deepEqual(outcome, { aborted: 'AbortError', items: 4 });
  assert.equal(server.requests.slice(from).filter((p) => p === MODEL).length, 1);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("lean by default: 'auto' runs the CPU build on a software adapter and without WebGPU, and says why; the WebGPU build only when asked for", async () => {
  const cases = [[withGpu, {}, 'cpu', /software fallback \(.*SwiftShader/i], [withoutGpu, {}, 'cpu', /no WebGPU adapter/], [withGpu, { backend: 'webgpu' }, 'webgpu', null]];
  for (const [context, options, backend, reason] of cases) {
    const label = JSON.stringify(options) + (context === withGpu ? ' with WebGPU' : ' without');
    const page = await clientPage(context);
    const from = server.requests.length;
    const facts = await load(page, '/pkg', MODEL, options);
    assert.equal(facts.backend, backend, label);
    if (reason) assert.match(facts.fallbackReason, reason, label);
    else assert.equal(facts.fallbackReason, null, label);
    const wasm = server.requests.slice(from).filter((p) => p.endsWith('.wasm'));
    assert.deepEqual(wasm, [backend === 'webgpu' ? '/pkg/webgpu/awrsr_bg.wasm' : '/pkg/awrsr_bg.wasm'], label);
    assert.deepEqual(page.errors, []);
    await page.close();
  }
});

test("builds.js: 'auto' moves to the WebGPU build only on a real adapter with a catalogue of at least WEBGPU_MIN_ITEMS items", () => {
  const bundle = (items) => writeSafetensors({ 'awrsr.format': 'awrsr-bundle', 'awrsr.config': JSON.stringify({ num_items: items, max_len: 50 }) }, {});
  const cpu = requestedBuild(undefined);
  assert.equal(cpu.name, 'cpu');
  assert.equal(requestedBuild('cpu').name, 'cpu');
  assert.equal(requestedBuild('webgpu').name, 'webgpu');
  assert.equal(itemCount(bundle(9724)), 9724);
  for (const bad of [new Uint8Array(0), new Uint8Array(12), new TextEncoder().encode('<!doctype html><html>')]) assert.equal(itemCount(bad), null);
  const real = { real: true };
  assert.equal(autoBuild(cpu, real, bundle(WEBGPU_MIN_ITEMS)).build.name, 'webgpu');
  assert.equal(autoBuild(cpu, real, bundle(WEBGPU_MIN_ITEMS)).reason, null);
  const small = autoBuild(cpu, real, bundle(WEBGPU_MIN_ITEMS - 1));
  assert.equal(small.build.name, 'cpu');
  assert.match(small.reason, new RegExp(`catalogue is of ${WEBGPU_MIN_ITEMS - 1} items, under the ${WEBGPU_MIN_ITEMS}`));
  assert.match(autoBuild(cpu, real, new Uint8Array(4)).reason, /catalogue is of unknown size/);
  const software = autoBuild(cpu, { real: false, reason: 'the WebGPU adapter is a software fallback (x)' }, bundle(10 * WEBGPU_MIN_ITEMS));
  assert.deepEqual([software.build.name, software.reason], ['cpu', 'the WebGPU adapter is a software fallback (x)']);
  assert.deepEqual(autoBuild(cpu, null, bundle(10 * WEBGPU_MIN_ITEMS)), { build: cpu, reason: null }, 'another backend asked for: no move');
});

test('builds.js: only a real adapter counts; a fallback adapter, a software driver, none or a failing request do not', async () => {
  const adapters = [
    [{ info: { vendor: 'nvidia', architecture: 'hopper', isFallbackAdapter: false } }, { real: true }],
    [{ info: { vendor: 'google', architecture: 'swiftshader' } }, /software fallback \(google swiftshader\)/],
    [{ info: { vendor: 'mesa', description: 'llvmpipe (LLVM 17)' } }, /software fallback/],
    [{ info: { isFallbackAdapter: true } }, /software fallback \(unnamed\)/],
    [{ isFallbackAdapter: true, info: { vendor: 'x' } }, /software fallback \(x\)/],
    [null, /no WebGPU adapter/],
  ];
  const before = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  const useGpu = (gpu) => Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  try {
    for (const [adapter, want] of adapters) {
      useGpu({ requestAdapter: async () => adapter });
      const got = await probeAdapter('auto');
      if (want instanceof RegExp) assert.match(got.reason, want, JSON.stringify(adapter));
      else assert.deepEqual(got, want);
    }
    useGpu({ requestAdapter: async () => { throw new Error('blocked'); } });
    assert.match((await probeAdapter(undefined)).reason, /no WebGPU adapter/);
    assert.equal(await probeAdapter('cpu'), null, 'not asked when a backend is chosen');
  } finally {
    if (before) Object.defineProperty(globalThis, 'navigator', before);
    else delete globalThis.navigator;
  }
});
