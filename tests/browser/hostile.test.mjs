// Hostile input in the browser (issue 10): no bundle, argument or JS call may trap the wasm
// module, leave a promise unsettled or poison the page. Every crafted bundle and wrong
// argument must be refused with an `Error` (or, for a bundle, load and recommend finite
// scores), on the CPU path and on WebGPU; after every batch a model loaded before still
// gives the same top 10, a fresh load works, and the page has raised no error.
//
// The crafted bundles are made in Node from www/model.awrsr by hostile-bundles.mjs (with
// widen.mjs's safetensors helpers and the checksum of src/bundle/checksum.rs, recomputed in
// JS); what runs in the pages (`hx`, the `hostile` values) is hostile-page.mjs. A bounded fuzz
// ends the file: AWRSR_BROWSER_FUZZ_CASES random mutations (default 300; every one on the
// CPU path, a third on WebGPU). AWRSR_PKG=pkg-cpu runs the file against the CPU-only build.
// About 90 s at the default size.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ROOT, serve, launch, apiPage } from './harness.mjs';
import { writeSafetensors, f32Bundle } from './widen.mjs';
import { random, decompose, compose, checksumCases, tinyModel, rawSafetensors, dataStart } from './hostile-bundles.mjs';
import { PAGE_HELPERS, HOSTILE_VALUES } from './hostile-page.mjs';

const MODEL = '/www/model.awrsr';
/** Another build of the package to test in place of pkg/ (e.g. pkg-cpu, the CPU-only one). */
const PKG = process.env.AWRSR_PKG ? resolve(ROOT, process.env.AWRSR_PKG) : null;
/** The wasm build the pages load: another package's own, or pkg/'s WebGPU + CPU build (apiPage's default). */
const BUILD = PKG ? '/pkg' : undefined;
const FUZZ_CASES = Number(process.env.AWRSR_BROWSER_FUZZ_CASES ?? 300);
/** Longest a load or a recommend may take before it counts as a hang (ms). */
const LIMIT = 20_000;
const SESSIONS = [[], ['1', '50', '260'], ['2571', '4993', '5952', '7153', '318'], ['296']];

// ---------------------------------------------------------------------------------------
// The pages, and the checks made after every batch.

let server, files, withGpu, withoutGpu, pages, shipped, sealed, unsealed, pristine, native;
before(async () => {
  // The crafted bundles start from the shipped model's weights in f32 (it ships as int8).
  shipped = f32Bundle(new Uint8Array(await readFile(join(ROOT, MODEL))));
  const { metadata, tensors } = decompose(shipped);
  // Resealed here (the checksum computed in JS), and without a checksum (as older bundles).
  sealed = compose(metadata, tensors, { seal: true });
  delete metadata['awrsr.checksum'];
  unsealed = compose(metadata, tensors);
  pristine = decompose(sealed);
  files = { '/hostile/sealed.awrsr': sealed, '/hostile/unsealed.awrsr': unsealed };
  server = await serve({ files, mounts: PKG ? { '/pkg/': `${PKG}/` } : {} });
  withGpu = await launch({ webgpu: true });
  withoutGpu = await launch({ webgpu: false });
  // The CPU path in a browser without WebGPU, and WebGPU (SwiftShader here) in one with it
  // (unless the package is the CPU-only build).
  pages = [
    { page: await apiPage(withoutGpu, server.url, BUILD), backend: 'cpu' },
    { page: await apiPage(withGpu, server.url, BUILD), backend: 'webgpu' },
  ];
  for (const { page } of pages) await page.evaluate(PAGE_HELPERS + HOSTILE_VALUES);
  const cpuOnly = await pages[1].page.evaluate(() => awrsr.Recommender.load('/www/model.awrsr', { backend: 'webgpu' }).then((r) => r.free(), (e) => /CPU-only build/.test(e.message)));
  if (cpuOnly === true) pages.pop();
  const bin = process.env.AWRSR_BIN ?? join(ROOT, 'target/debug/awrsr');
  native = SESSIONS.map((session) => {
    const out = execFileSync(bin, ['recommend', '--model', join(ROOT, MODEL), '--session', session.join(','), '-k', '10', '--json'], { stdio: ['ignore', 'pipe', 'ignore'] });
    return JSON.parse(out).items.map((i) => i.id);
  });
});
after(async () => {
  await withGpu?.close();
  await withoutGpu?.close();
  await server?.close();
});

/** Top 10 ids of the page's long-lived model `window.base` for each session. */
const baseTop10 = (page) =>
  page.evaluate(async (sessions) => {
    const out = [];
    for (const s of sessions) out.push((await base.recommend(s, { k: 10 })).items.map((i) => i.id));
    return out;
  }, SESSIONS);

/**
 * After a batch: the model loaded before still answers as the native CLI does, a new load of
 * the shipped model works (and recommends the same), and the page raised no error.
 */
async function assertHealthy({ page, backend }, what) {
  assert.deepEqual(page.errors, [], `${backend}: page errors after ${what}`);
  const state = await page.evaluate(() => hx.settle(async () => {
    return { backend: base.backend, items: base.itemCount };
  }, 5000));
  assert.equal(state.status, 'resolved', `${backend}: the loaded model is unusable after ${what}: ${JSON.stringify(state)}`);
  assert.deepEqual(await baseTop10(page), native, `${backend}: the loaded model answers differently after ${what}`);
  const fresh = await page.evaluate(async ([model, backend, ms]) => {
    const r = await hx.settle(() => awrsr.Recommender.load(model, { backend }), ms);
    if (r.status !== 'resolved') return { ...r, value: undefined };
    const out = await r.value.recommend(['1', '50', '260'], { k: 10 });
    r.value.free();
    return { status: 'ok', ids: out.items.map((i) => i.id) };
  }, [MODEL, backend, LIMIT]);
  assert.deepEqual(fresh, { status: 'ok', ids: native[1] }, `${backend}: a new load fails after ${what}`);
  assert.deepEqual(page.errors, [], `${backend}: page errors after ${what}`);
}

/** Registers bundles with the server for the duration of `body`; returns their URLs. */
async function served(bundles, body) {
  const urls = bundles.map(([name], i) => `/hostile/${i}-${encodeURIComponent(name).replace(/%/g, '_')}.bin`);
  bundles.forEach(([, bytes], i) => { files[urls[i]] = bytes; });
  try {
    return await body(urls);
  } finally {
    for (const url of urls) delete files[url];
  }
}

/**
 * Loads every bundle on both backends. Each must reject with an Error, or (when `mayLoad`
 * says it may) load and give finite scores or an Error for every recommendation. Returns
 * the outcomes per backend.
 */
async function tryBundles(allBundles, { mayLoad = () => false, what, healthy = true, skip = {} } = {}) {
  const all = {};
  await served(allBundles, async (allUrls) => {
    for (const target of pages) {
      const bundles = allBundles.slice(0, allBundles.length - (skip[target.backend] ?? 0));
      const urls = allUrls.slice(0, bundles.length);
      const results = await target.page.evaluate(([urls, backend, ms]) => hx.tryUrls(urls, backend, ms), [urls, target.backend, LIMIT]);
      assert.deepEqual(target.page.errors, [], `${target.backend}: page errors after ${what}`);
      results.forEach((result, i) => checkOutcome(bundles[i][0], result, target.backend, mayLoad(bundles[i][0])));
      assert.equal(results.length, bundles.length, `${target.backend}: stopped after ${bundles[results.length - 1]?.[0]}`);
      all[target.backend] = results;
      if (healthy) await assertHealthy(target, what);
    }
  });
  return all;
}

/** One bundle's outcome is acceptable: an Error, or a load with finite (or refused) answers. */
function checkOutcome(name, result, backend, mayLoad) {
  const where = `${backend}: ${name}: ${JSON.stringify(result).slice(0, 400)}`;
  assert.notEqual(result.status, 'timeout', `hang: ${where}`);
  if (result.status === 'rejected') {
    assert.ok(result.isError, `not an Error: ${where}`);
    assert.ok(!result.sync, `thrown, not rejected: ${where}`);
    assert.ok(result.length > 0 && result.length < 600, `message: ${where}`);
    return;
  }
  assert.equal(result.status, 'loaded', where);
  assert.ok(mayLoad, `loaded, but should have been refused: ${where}`);
  for (const out of result.outs) {
    if ('finite' in out) assert.ok(out.finite, `non-finite scores: ${where}`);
    else assert.ok(out.status === 'rejected' && out.isError && !out.sync, `recommend: ${where}`);
  }
}

// ---------------------------------------------------------------------------------------

test('setup: both backends load the shipped model and agree with the native CLI', async () => {
  for (const { page, backend } of pages) {
    const facts = await page.evaluate(async (backend) => {
      window.base = await awrsr.Recommender.load('/www/model.awrsr', { backend });
      return { backend: base.backend, warnings: base.warnings };
    }, backend);
    assert.equal(facts.backend, backend);
    assert.deepEqual(await baseTop10(page), native);
    // The sealed copy (checksum computed here, in JS) loads without warnings: the JS
    // checksum is the Rust one, so the stale-checksum cases below test what they claim.
    const copies = await page.evaluate(async (backend) => {
      const out = {};
      for (const copy of ['sealed', 'unsealed']) {
        const rec = await awrsr.Recommender.load(`/hostile/${copy}.awrsr`, { backend });
        out[copy] = { warnings: rec.warnings.join(), ids: (await rec.recommend(['1', '50', '260'], { k: 10 })).items.map((i) => i.id) };
        rec.free();
      }
      return out;
    }, backend);
    assert.deepEqual(copies.sealed, { warnings: '', ids: native[1] });
    assert.match(copies.unsealed.warnings, /no checksum/);
    assert.deepEqual(copies.unsealed.ids, native[1]);
    await assertHealthy({ page, backend }, 'setup');
  }
});

/** Runs `tryBundles` over `bundles` in groups (to bound the memory they take here). */
async function tryInGroups(bundles, options, size = 40) {
  const all = Object.fromEntries(pages.map(({ backend }) => [backend, []]));
  for (let i = 0; i < bundles.length; i += size) {
    const got = await tryBundles(bundles.slice(i, i + size), { ...options, healthy: i + size >= bundles.length });
    for (const [backend, results] of Object.entries(got)) all[backend].push(...results);
  }
  return all;
}

/** How many of `results` loaded and how many were refused (and how long each took), for the log. */
const tally = (results) => {
  const loaded = results.filter((r) => r.status === 'loaded');
  const refused = results.filter((r) => r.status === 'rejected');
  const ms = (list) => Math.round(list.reduce((s, r) => s + r.took, 0) / Math.max(1, list.length));
  return `${loaded.length} loaded (${ms(loaded)} ms each), ${refused.length} refused (${ms(refused)} ms each)`;
};

/**
 * Runs bodies (async function text, with `rec` the page's loaded model) on both backends:
 * each must end in an Error, thrown synchronously only where `syncOk` allows, and leave the
 * page healthy. Returns the outcomes per backend.
 */
async function assertRefused(bodies, { what, syncOk = false, deadOk = false, expect = {} }) {
  const all = {};
  for (const target of pages) {
    const results = await target.page.evaluate(([bodies, ms]) => {
      window.rec = base;
      return hx.run(bodies, ms);
    }, [bodies, LIMIT]);
    assert.deepEqual(target.page.errors, [], `${target.backend}: page errors after ${what}`);
    const problems = [];
    for (const result of results) {
      const where = `${target.backend}: ${result.body}: ${JSON.stringify({ ...result, body: undefined }).slice(0, 300)}`;
      if (result.status !== 'rejected') problems.push(`not refused: ${where}`);
      else if (!result.isError) problems.push(`not an Error: ${where}`);
      // The module's errors are plain Errors; a TypeError or RangeError came from elsewhere.
      else if (result.name !== 'Error') problems.push(`not the module's Error: ${where}`);
      else if (!syncOk && result.sync) problems.push(`thrown, not rejected: ${where}`);
      else if (!(result.length > 0 && result.length < 600)) problems.push(`message length: ${where}`);
      else if (/unreachable|memory access|recursive use/.test(result.message)) problems.push(`trap: ${where}`);
      else if (!deadOk && /null pointer passed|moved value|freed/.test(result.message)) problems.push(`dead object: ${where}`);
      else if (expect[result.body] && !expect[result.body].test(result.message)) problems.push(`message ${expect[result.body]}: ${where}`);
    }
    assert.equal(results.length, bodies.length, `${target.backend}: hung at ${bodies[results.length - 1]}`);
    assert.deepEqual(problems, [], `${target.backend}: ${what}`);
    all[target.backend] = results;
    await assertHealthy(target, what);
  }
  return all;
}


test('Recommender.load: sources and options of every wrong type reject with an Error', async () => {
  const load = (source, options = '{ backend: "cpu" }') => `return awrsr.Recommender.load(${source}, ${options})`;
  const model = 'new Uint8Array(await (await fetch("/www/model.awrsr")).arrayBuffer())';
  const sources = [
    'undefined', 'null', '0', '42', 'NaN', '-1', 'Infinity', 'true', 'Symbol("x")', '10n', '{}', '[]', '[1, 2, 3]',
    '() => 1', 'new Date()', 'new Map()', 'Promise.resolve(new Uint8Array(8))',
    'hostile.throwingGetters()', 'hostile.revoked({})', 'hostile.revoked(new Uint8Array(8))', 'hostile.cyclic()',
    'hostile.badToString()', 'new String("/www/model.awrsr")',
    // Looks like bytes or a URL without being one.
    'Object.create(Uint8Array.prototype)', 'Object.create(ArrayBuffer.prototype)', 'Object.create(URL.prototype)',
    'new Proxy(new Uint8Array(16), {})', 'new Proxy({}, { getPrototypeOf: () => Uint8Array.prototype, get() { throw new Error("x"); } })',
    'new Proxy({}, { getPrototypeOf: () => ArrayBuffer.prototype, get() { throw new Error("x"); } })',
    'new Proxy({}, { getPrototypeOf: () => URL.prototype, get() { throw new Error("x"); } })',
    '(() => { const b = new Uint8Array(64); Object.defineProperty(b, "length", { get() { throw new Error("length"); } }); Object.defineProperty(b, "byteLength", { get() { throw new Error("byteLength"); } }); Object.defineProperty(b, "buffer", { get() { throw new Error("buffer"); } }); return b; })()',
    '(() => { const b = new Uint8Array(64); Object.defineProperty(b, "length", { value: 1e12 }); Object.defineProperty(b, "byteLength", { value: 1e12 }); return b; })()',
    '(() => { const b = new Uint8Array(64); Object.defineProperty(b, "length", { value: 8 }); Object.defineProperty(b, "byteLength", { value: 8 }); return b; })()',
    '(() => { class Evil extends Uint8Array { get length() { throw new Error("sub"); } get byteLength() { throw new Error("sub"); } get buffer() { throw new Error("sub"); } } return new Evil(64); })()',
    'new Float32Array(16)', 'new DataView(new ArrayBuffer(16))', 'new Int8Array(16)', 'new Uint8ClampedArray(16)',
    // Detached and empty buffers, directly and as views.
    '(() => { const b = new ArrayBuffer(64); structuredClone(b, { transfer: [b] }); return b; })()',
    '(() => { const b = new Uint8Array(64); structuredClone(b.buffer, { transfer: [b.buffer] }); return b; })()',
    `await (async () => { const b = ${model}; const view = b.subarray(10); structuredClone(b.buffer, { transfer: [b.buffer] }); return view; })()`,
    'new ArrayBuffer(0)', 'new Uint8Array(0)', 'new Uint8Array(new ArrayBuffer(64), 64)',
    // Huge buffers (zero-filled lazily): refused before they are copied.
    'new Uint8Array(2 ** 31)', 'new ArrayBuffer(2 ** 31 + 8)', 'new Uint8Array(2 ** 32 + 64)',
    // URLs that are not bundles.
    '""', '"/"', '"/www/"', '"/pkg/awrsr_bg.wasm"', '"/no/such/file"', '"http://["', '"javascript:void 0"',
    '"data:,hello"', '"data:application/octet-stream;base64,AAAAAAAAAAA="', '"x".repeat(1e6)', '"\\ud800"',
    'new URL("/no/such/file", location.href)', 'new URL("blob:null/nothing")',
    'URL.createObjectURL(new Blob([new Uint8Array(300)]))',
  ];
  const options = [
    '7', '"cpu"', '[]', 'true', '() => 1', 'Symbol("o")', '10n', '{ backend: 5 }', '{ backend: "CPU" }',
    '{ backend: "gpu" }', '{ backend: ["cpu"] }', '{ backend: { toString() { return "cpu"; } } }',
    '{ backend: "cpu", extra: 1 }', '{ Backend: "cpu" }', 'hostile.throwingGetters()', 'hostile.revoked({})',
    'hostile.cyclic()', '{ get backend() { throw new Error("getter"); } }',
    '{ toJSON() { throw new Error("toJSON"); } }', '{ backend: 10n }', '{ backend: "x".repeat(1e6) }',
    'new Proxy({ backend: "cpu" }, { ownKeys() { throw new Error("keys"); } })',
  ];
  const bodies = [
    ...sources.map((s) => load(s)),
    ...options.map((o) => load('"/www/model.awrsr"', o)),
    ...options.map((o) => load('new Uint8Array(16)', o)),
    'return awrsr.Recommender.load()',
    // A model given with a bad option is refused too, in a batch loaded concurrently with
    // good ones (which resolve; freed).
    `const b = ${model};
     const all = await Promise.allSettled(Array.from({ length: 24 }, (_, i) =>
       awrsr.Recommender.load(i % 3 ? b.slice(0, 100 * i) : b, i % 2 ? { backend: "nope" } : { backend: "cpu" })));
     const loaded = all.filter((r) => r.status === "fulfilled").map((r) => r.value);
     loaded.forEach((r) => r.free());
     if (loaded.length !== 4 || all.some((r) => r.status === "rejected" && !(r.reason instanceof Error))) return "wrong outcomes";
     throw new Error("done")`,
  ];
  const expect = {
    [load('null')]: /model source must be/,
    [load('new Uint8Array(2 ** 31)')]: /too large|larger/,
    [load('new Uint8Array(0)')]: /empty/,
    [load('"/www/model.awrsr"', '{ backend: "CPU" }')]: /backend must be/,
    [load('"/www/model.awrsr"', '{ backend: "cpu", extra: 1 }')]: /unknown field `extra`/,
  };
  await assertRefused(bodies, { what: 'wrong load arguments', expect });
  // Sources that are bundles however they are wrapped load and recommend as the file does.
  const good = await pages[0].page.evaluate(async () => {
    const bytes = new Uint8Array(await (await fetch('/www/model.awrsr')).arrayBuffer());
    const padded = new Uint8Array(bytes.length + 13);
    padded.set(bytes, 7);
    const resizable = new ArrayBuffer(bytes.length, { maxByteLength: bytes.length * 2 });
    new Uint8Array(resizable).set(bytes);
    const sources = {
      view: padded.subarray(7, 7 + bytes.length), buffer: bytes.slice().buffer, resizable,
      url: new URL('/www/model.awrsr', location.href), blob: URL.createObjectURL(new Blob([bytes])),
      data: `data:application/octet-stream;base64,${btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(''))}`,
    };
    const out = {};
    for (const [name, source] of Object.entries(sources)) {
      const rec = await awrsr.Recommender.load(source, { backend: 'cpu' });
      out[name] = (await rec.recommend(['1', '50', '260'], { k: 10 })).items.map((i) => i.id);
      rec.free();
    }
    return out;
  });
  for (const [name, ids] of Object.entries(good)) assert.deepEqual(ids, native[1], name);
});

test('recommend: sessions and options of every wrong type reject with an Error', async () => {
  const call = (session, options = '{ k: 3 }') => `return rec.recommend(${session}, ${options})`;
  const sessions = [
    'undefined', 'null', '"1,50"', '42', 'NaN', 'true', 'Symbol("s")', '10n', '{}', '{ length: 2, 0: "1", 1: "50" }',
    'new Set(["1"])', 'new Uint8Array(3)', '() => ["1"]', 'new String("1")',
    '[1]', '[null]', '[undefined]', '[{}]', '[["1"]]', '[Symbol("s")]', '[10n]', '["1", 50]', '["1", NaN]',
    '[, "1"]', 'hostile.throwingGetters()', 'hostile.revoked()', 'hostile.revoked(["1"])', 'hostile.arrayProxy(["1", "50"])',
    'hostile.throwingIndex(["1", "50"])', 'hostile.throwingToJSON(["1"])', 'hostile.cyclicArray()', 'hostile.deep(200)', 'hostile.deep(100000)',
    'hostile.sparse(2 ** 32 - 1)', 'hostile.sparse(20000000)', 'Array.from({ length: 10000001 }, () => "1")',
    // Too large as JSON (each id is known or not; the argument is simply too big to copy in).
    'Array.from({ length: 9 }, (_, i) => String(i).repeat(8000000))', '["x".repeat(70000000)]',
    '(() => { const a = ["1"]; a.toJSON = () => "1"; return a; })()', '(() => { const a = ["1"]; a.toJSON = () => undefined; return a; })()',
  ];
  const options = [
    '7', '"k"', '[]', 'true', '() => 1', 'Symbol("o")', '10n', 'hostile.throwingGetters()', 'hostile.revoked({})', 'hostile.cyclic()',
    '{ get k() { throw new Error("getter"); } }', '{ toJSON() { throw new Error("toJSON"); } }', '{ toJSON() { return 5; } }',
    '{ k: NaN }', '{ k: Infinity }', '{ k: -Infinity }', '{ k: -1 }', '{ k: 0 }', '{ k: -0 }', '{ k: 0.5 }', '{ k: 2.5 }',
    '{ k: 1e300 }', '{ k: 2 ** 53 }', '{ k: 2 ** 64 }', '{ k: 10001 }', '{ k: "3" }', '{ k: true }', '{ k: [3] }', '{ k: {} }',
    '{ k: 10n }', '{ k: { valueOf() { return 3; } } }',
    '{ excludeSeen: "yes" }', '{ excludeSeen: 1 }', '{ explain: "true" }', '{ explain: 1 }',
    '{ exclude: "1" }', '{ exclude: 5 }', '{ exclude: {} }', '{ exclude: [1] }', '{ exclude: [null] }', '{ exclude: [["1"]] }',
    '{ exclude: hostile.throwingIndex(["1"]) }', '{ exclude: hostile.revoked(["1"]) }', '{ exclude: hostile.arrayProxy(["1"]) }',
    '{ include: "1" }', '{ include: 5 }', '{ include: {} }', '{ include: [1] }', '{ include: [[]] }',
    '{ include: hostile.throwingToJSON(["1"]) }', '{ include: ["x".repeat(70000000)] }',
    '{ topK: 3 }', '{ k: 3, extra: true }', '{ K: 3 }', '{ "x".repeat(1e6): 1 }'.replace('"x".repeat(1e6)', '["x".repeat(1e6)]'),
  ];
  const bodies = [
    ...sessions.map((s) => call(s)),
    ...options.map((o) => call('["1", "50"]', o)),
    'return rec.recommend()',
    // Many at once, good and bad interleaved: the good ones answer, the bad ones reject.
    `const all = await Promise.allSettled(Array.from({ length: 60 }, (_, i) =>
       rec.recommend(i % 2 ? ["1", "50", "260"] : ["1", i], { k: 1 + (i % 7), explain: i % 3 === 0 })));
     const good = all.filter((r, i) => i % 2);
     const bad = all.filter((r, i) => !(i % 2));
     if (!good.every((r) => r.status === "fulfilled" && r.value.items.length === 1 + (all.indexOf(r) % 7))) return "wrong answers";
     if (!bad.every((r) => r.status === "rejected" && r.reason instanceof Error)) return "wrong refusals";
     throw new Error("done")`,
  ];
  const expect = {
    [call('null')]: /session must be an array/,
    [call('hostile.revoked()')]: /session must be an array/,
    [call('["1", 50]')]: /session item 1 is not a string/,
    [call('hostile.throwingIndex(["1", "50"])')]: /session cannot be read as JSON: getter/,
    [call('hostile.sparse(2 ** 32 - 1)')]: /session has 4294967295 items, the limit is 10000000/,
    [call('["x".repeat(70000000)]')]: /session is too large: 70000004 characters as JSON/,
    [call('["1", "50"]', '{ k: NaN }')]: /k must be a positive integer/,
    [call('["1", "50"]', '{ k: 10001 }')]: /k must be a positive integer up to 10000/,
    [call('["1", "50"]', '{ topK: 3 }')]: /unknown field `topK`/,
  };
  await assertRefused(bodies, { what: 'wrong recommend arguments', expect });

  // Big but valid: 100,000-id sessions (known and unknown ids), long ids, huge allow-lists.
  for (const { page, backend } of pages) {
    const facts = await page.evaluate(async () => {
      const ids = base.itemIds();
      const long = Array.from({ length: 100_000 }, (_, i) => ids[(i * 7919) % ids.length]);
      const started = performance.now();
      const a = await base.recommend(long, { k: 10, excludeSeen: false });
      const b = await base.recommend(long.slice(-base.maxLength), { k: 10, excludeSeen: false });
      const unknown = await base.recommend(Array.from({ length: 100_000 }, (_, i) => `nope-${i}`), { k: 10 });
      const empty = await base.recommend([], { k: 10 });
      const longIds = await base.recommend(['1', 'y'.repeat(10_000_000), '50', '260'], { k: 10, exclude: ['z'.repeat(1_000_000)], include: [...ids, 'w'.repeat(1_000_000)] });
      const lone = await base.recommend(['1', '\ud800'], { k: 3, exclude: ['\udfff'] });
      const all = await base.recommend(['1'], { k: 10_000, include: Array.from({ length: 1_000_000 }, (_, i) => ids[i % ids.length]) });
      return {
        same: JSON.stringify(a.items) === JSON.stringify(b.items), unknown: unknown.unknown.length,
        unknownItems: unknown.items.map((i) => i.id), empty: empty.items.map((i) => i.id),
        longIds: longIds.items.map((i) => i.id), longUnknown: longIds.unknown.map((u) => u.length),
        all: all.items.length, ms: Math.round(performance.now() - started), lone: lone.unknown,
      };
    });
    assert.ok(facts.same, backend);
    assert.equal(facts.unknown, 100_000);
    assert.deepEqual(facts.unknownItems, facts.empty);
    assert.deepEqual(facts.longIds, native[1]);
    assert.deepEqual(facts.longUnknown, [10_000_000]);
    assert.equal(facts.all, 9723);
    assert.deepEqual(facts.lone, ['\ufffd'], 'a lone surrogate is an unknown id (as U+FFFD)');
    console.log(`# ${backend}: big arguments answered in ${facts.ms} ms`);
  }
});

test('hasItem, hasItems, title, itemIds: wrong types are Errors, long and odd ids are just unknown', async () => {
  const bad = ['1', '1.5', 'NaN', 'null', 'undefined', '{}', '[]', '["1"]', 'Symbol("i")', '10n', 'new String("1")', 'hostile.badToString()',
    'hostile.throwingGetters()', 'hostile.revoked({})', '() => "1"'];
  const badArrays = ['"1"', '1', 'null', 'undefined', '{}', '[1]', '["1", null]', '[["1"]]', 'hostile.throwingGetters()', 'hostile.revoked()',
    'hostile.revoked(["1"])', 'hostile.arrayProxy(["1", "2"])', 'hostile.throwingIndex(["1"])', 'hostile.throwingToJSON(["1"])', 'hostile.cyclicArray()',
    'hostile.sparse(2 ** 32 - 1)', 'hostile.deep(1000)', '["x".repeat(70000000)]', 'new Set(["1"])', '{ length: 1, 0: "1" }'];
  const bodies = [
    ...bad.flatMap((id) => [`return rec.hasItem(${id})`, `return rec.title(${id})`]),
    ...badArrays.map((ids) => `return rec.hasItems(${ids})`),
  ];
  // Synchronous members throw (they return no promise); the page must stay healthy.
  await assertRefused(bodies, { what: 'wrong ids', syncOk: true, expect: {
    'return rec.hasItem(1)': /item id must be a string/,
    'return rec.hasItems(hostile.revoked())': /ids must be an array/,
    'return rec.hasItems(["x".repeat(70000000)])': /ids is too large/,
  } });
  for (const { page, backend } of pages) {
    const facts = await page.evaluate(async () => {
      const long = 'x'.repeat(100_000_000);
      return {
        hasLong: base.hasItem(long), titleLong: base.title(long), many: base.hasItems([long.slice(0, 10_000_000), '1', '\ud800', '']),
        lone: base.hasItem('\ud800'), count: base.itemCount, ids: base.itemIds().length,
        top: (await base.recommend(['1', '50', '260'], { k: 10 })).items.map((i) => i.id),
      };
    });
    assert.deepEqual(facts, { hasLong: false, titleLong: undefined, many: [false, true, false, false], lone: false, count: 9724, ids: 9724, top: native[1] }, backend);
  }
});

// A freed model (or an object that never was one) must throw an Error on every use, however
// often, and a second free() must do nothing. wasm-bindgen's glue passes the null pointer of
// a freed object into the module, whose "null pointer passed to rust" is thrown from inside
// it and leaks its shadow stack: some 65,000 such calls, or double frees, broke the module.
// scripts/build-web.sh guards the glue against this in JavaScript.
test('freed models: every use throws an Error, a second free() does nothing, the module is unharmed', async () => {
  const freed = 'const r = await awrsr.Recommender.load("/www/model.awrsr", { backend: "cpu" }); r.free();';
  const members = ['r.backend', 'r.fallbackReason', 'r.warnings', 'r.itemCount', 'r.maxLength', 'r.hasItem("1")', 'r.hasItems(["1"])',
    'r.title("1")', 'r.itemIds()', 'r.recommend(["1"], {})'];
  const bodies = [
    ...members.map((m) => `${freed} return ${m}`),
    ...members.map((m) => `const r = Object.create(awrsr.Recommender.prototype); return ${m}`),
    ...members.filter((m) => m.includes('(')).map((m) => `const [name] = ${JSON.stringify(m)}.slice(2).split("("); return awrsr.Recommender.prototype[name].call(undefined, ["1"], {})`),
    `return new awrsr.Recommender().itemIds()`,
    // Freed while it is being read: from a toJSON that JSON.stringify calls inside the call.
    `const r = await awrsr.Recommender.load("/www/model.awrsr", { backend: "cpu" });
     const ids = ["1"]; ids.toJSON = () => { r.free(); return ["1"]; };
     try { r.hasItems(ids); } catch {}
     try { await r.recommend(ids, {}); } catch {}
     return r.itemCount`,
    // Freed while a recommendation is under way: that one still answers.
    `const r = await awrsr.Recommender.load("/www/model.awrsr", { backend: "cpu" });
     const pending = r.recommend(["1", "50"], { k: 3, explain: true });
     r.free();
     const out = await pending;
     if (out.items.length !== 3) return "wrong answer";
     return r.recommend(["1"], {})`,
    // A page that keeps using a model it freed.
    `${freed} for (let i = 0; i < 100000; i++) { try { r.itemCount; } catch {} try { r.hasItem("1"); } catch {} } return r.title("1")`,
  ];
  await assertRefused(bodies, { what: 'dead objects', syncOk: true, deadOk: true });
  // Freeing twice, disposing, `start()` and `init()` again: nothing breaks.
  for (const { page, backend } of pages) {
    const top = await page.evaluate(async () => {
      const r = await awrsr.Recommender.load('/www/model.awrsr', { backend: 'cpu' });
      r.free();
      for (let i = 0; i < 100_000; i++) {
        r.free();
        r[Symbol.dispose]();
      }
      awrsr.start();
      await awrsr.default();
      return (await base.recommend(['1', '50', '260'], { k: 10 })).items.map((i) => i.id);
    });
    assert.deepEqual(top, native[1], backend);
    await assertHealthy({ page, backend }, 'double frees, start() and init() again');
  }
});

test('a hostile page: fetch and console replaced, concurrent first WebGPU loads', async () => {
  // A fresh page of its own (the globals it replaces stay there).
  const page = await apiPage(withoutGpu, server.url, BUILD);
  await page.evaluate(PAGE_HELPERS);
  const fakes = [
    '() => { throw new Error("no fetch"); }', '() => undefined', '() => Promise.reject(null)', '() => Promise.reject(undefined)',
    '() => Promise.resolve(undefined)', '() => Promise.resolve({})', '() => Promise.resolve({ ok: true })',
    '() => Promise.resolve({ ok: true, headers: null, arrayBuffer: () => 5 })',
    '() => Promise.resolve({ ok: true, headers: new Headers(), arrayBuffer: () => Promise.resolve(new Uint8Array(5)) })',
    '() => Promise.resolve({ ok: true, headers: new Headers(), arrayBuffer: () => Promise.resolve(1e12) })',
    '() => Promise.resolve({ ok: true, headers: new Headers({ "content-length": "99999999999" }), arrayBuffer: () => new ArrayBuffer(8) })',
    '() => Promise.resolve({ get ok() { throw new Error("ok"); } })',
    '() => Promise.resolve({ ok: false, get status() { throw new Error("s"); }, statusText: { toString() { throw new Error("t"); } } })',
    '() => Promise.resolve(new Proxy({}, { get() { throw new Error("proxy"); } }))',
    '() => { const p = Promise.resolve({}); Object.defineProperty(p, "constructor", { get() { throw new Error("c"); } }); return p; }',
    '() => ({ then(ok) { ok({ ok: true, headers: new Headers(), arrayBuffer: () => ({ then() { throw new Error("then"); } }) }); } })',
  ];
  const results = await page.evaluate(async ([fakes, ms]) => {
    const real = window.fetch;
    const out = [];
    for (const fake of fakes) {
      window.fetch = eval(fake);
      out.push({ fake, ...(await hx.settle(() => awrsr.Recommender.load('/www/model.awrsr', { backend: 'cpu' }), ms)), value: undefined });
    }
    window.fetch = real;
    // console.warn that throws, then no console at all, while loading a bundle that warns.
    const console_ = window.console;
    console.warn = () => { throw new Error('warn'); };
    const warned = await hx.tryBundle(new Uint8Array(await (await fetch('/hostile/unsealed.awrsr')).arrayBuffer()), 'cpu', ms);
    window.console = undefined;
    const silent = await hx.tryBundle(new Uint8Array(await (await fetch('/hostile/unsealed.awrsr')).arrayBuffer()), 'cpu', ms);
    window.console = console_;
    return { out, warned, silent };
  }, [fakes, LIMIT]);
  for (const r of results.out) {
    assert.equal(r.status, 'rejected', JSON.stringify(r));
    assert.ok(r.isError && r.name === 'Error' && !r.sync && r.length < 600, JSON.stringify(r));
  }
  for (const r of [results.warned, results.silent]) {
    assert.equal(r.status, 'loaded', JSON.stringify(r));
    assert.match(r.warnings.join(), /no checksum/);
  }
  assert.deepEqual(page.errors, []);
  await page.close();

  // The first WebGPU loads of a page, all at once: the device is set up once, for all.
  if (pages.some(({ backend }) => backend === 'webgpu')) {
    const fresh = await apiPage(withGpu, server.url, BUILD);
    const got = await fresh.evaluate(async () => {
      const loads = await Promise.allSettled(['webgpu', 'webgpu', 'auto', 'cpu', 'webgpu'].map((backend) => awrsr.Recommender.load('/www/model.awrsr', { backend })));
      const out = [];
      for (const r of loads) {
        if (r.status === 'rejected') { out.push(String(r.reason?.message)); continue; }
        out.push([r.value.backend, (await r.value.recommend(['1', '50', '260'], { k: 10 })).items.map((i) => i.id)]);
        r.value.free();
      }
      return out;
    });
    assert.deepEqual(got, [['webgpu', native[1]], ['webgpu', native[1]], ['cpu', native[1]], ['cpu', native[1]], ['webgpu', native[1]]]);
    assert.deepEqual(fresh.errors, []);
    await fresh.close();
  }
});

test('crafted bundles: huge, overflowing and odd configuration numbers are refused', async () => {
  const numbers = ['0', '-1', '1e5', '100000', '1000000000', '4294967296', '9223372036854775807', '18446744073709551615',
    '18446744073709551616', '1.5', '"50"', 'null'];
  const fields = ['num_items', 'max_len', 'd_model', 'layers', 'heads'];
  const replace = (field, value) => (metadata) => {
    const config = metadata['awrsr.config'];
    const edited = config.replace(new RegExp(`"${field}":[^,}]*`), `"${field}":${value}`);
    assert.notEqual(edited, config);
    metadata['awrsr.config'] = edited;
  };
  const edits = [
    ...fields.flatMap((field) => numbers.map((value) => [`${field} = ${value}`, replace(field, value)])),
    ...[['dropout', '1'], ['dropout', '-0.1'], ['dropout', '1e400'], ['refine_scale', '1e39'], ['refine_scale', '-1001'],
      ['refinement', '"bogus"'], ['activation', '"swish"'], ['heads', '3']].map(([f, v]) => [`${f} = ${v}`, replace(f, v)]),
    ['an unknown config field', (m) => { m['awrsr.config'] = m['awrsr.config'].replace('{', '{"evil":1,'); }],
    ['config missing a field', (m) => { m['awrsr.config'] = m['awrsr.config'].replace(/"layers":[^,]*,/, ''); }],
    ['config not JSON', (m) => { m['awrsr.config'] = '{"num_items":'; }],
    ['config an array', (m) => { m['awrsr.config'] = '[9724, 50, 64]'; }],
    ['config nested 100,000 deep', (m) => { m['awrsr.config'] = '['.repeat(100_000) + ']'.repeat(100_000); }],
    ['config a 10 MB string', (m) => { m['awrsr.config'] = JSON.stringify('x'.repeat(10_000_000)); }],
    ['config missing', (m) => { delete m['awrsr.config']; }],
  ];
  // A stale checksum is refused first whatever the edit: a few suffice.
  const bundles = edits.flatMap(([name, edit], i) => checksumCases(pristine, name, edit).filter(([n]) => i % 12 === 0 || !n.includes('stale')));
  // ~300-byte files of the earlier attack: a huge configuration and one tiny tensor.
  for (const [field, value] of [['max_len', '100000'], ['d_model', '1000000000'], ['layers', '9223372036854775807'],
    ['num_items', '18446744073709551615'], ['max_len', '4096'], ['d_model', '4096']]) {
    const config = JSON.stringify({ num_items: 1, max_len: 1, d_model: 1, layers: 1, heads: 1, dropout: 0, refinement: 'none', refine_scale: 1, activation: 'gelu' })
      .replace(new RegExp(`"${field}":[^,}]*`), `"${field}":${value}`);
    const metadata = { 'awrsr.format': 'awrsr-bundle', 'awrsr.version': '1', 'awrsr.config': config, 'awrsr.items': '["a"]' };
    const tensors = { 'items.weight': { shape: [2, 1], values: new Float32Array(2) } };
    bundles.push([`300-byte file, ${field} = ${value}`, compose(metadata, tensors)]);
    bundles.push([`300-byte file, ${field} = ${value}, sealed`, compose(metadata, tensors, { seal: true })]);
  }
  const results = await tryInGroups(bundles, { what: 'configuration bundles' });
  for (const [backend, list] of Object.entries(results)) {
    list.forEach((r, i) => assert.equal(r.status, 'rejected', `${backend}: ${bundles[i][0]}`));
    const stale = list.filter((r, i) => bundles[i][0].includes('stale'));
    assert.ok(stale.length > 4 && stale.every((r) => /corrupted: checksum/.test(r.message)), `${backend}: a stale checksum is named`);
    console.log(`# ${backend}: ${bundles.length} configuration bundles: ${tally(list)}`);
  }
});

test('crafted bundles: NaN, infinite and overflowing weights', async () => {
  const targets = [['items.weight', 0], ['items.weight', 64 * 9724 + 5], ['positions.weight', 70], ['blocks.0.attention.refiner.w_query', 0],
    ['blocks.1.attention.refiner.w_key', 1234], ['final_norm.gamma', 3], ['blocks.0.ffn_in.bias', 0], ['blocks.1.attention.value.weight', 99]];
  const bundles = [];
  const edit = (name, index, value) => (_, tensor) => { tensor(name).values[index] = value; };
  targets.forEach(([name, index], i) => {
    for (const value of [NaN, Infinity, -Infinity]) {
      // Checksum removed; and recomputed for some (the weights check is not the checksum).
      bundles.push(...checksumCases(pristine, `${name}[${index}] = ${value}`, edit(name, index, value)).filter(([n]) => !n.includes('stale') && (i < 2 || !n.includes('recomputed'))));
    }
  });
  // Finite but huge: may load, but then must answer finite scores (or refuse).
  for (const [name, index] of targets.slice(0, 6)) {
    for (const value of [3.4e38, -1e30]) bundles.push(checksumCases(pristine, `${name}[${index}] = ${value}`, edit(name, index, value))[2]);
  }
  bundles.push(checksumCases(pristine, 'items.weight[70] = 1e-45, positions.weight[0] = -0', (_, tensor) => { tensor('items.weight').values[70] = 1e-45; tensor('positions.weight').values[0] = -0; })[2]);
  for (const [name, value, from, to] of [['items.weight', 1e30], ['positions.weight', 3e38], ['blocks.0.attention.query.weight', 1e19], ['items.weight', 1e37, 17 * 64, 18 * 64]]) {
    bundles.push(checksumCases(pristine, `${name}[${from ?? 0}..${to ?? 'end'}] = ${value}`, (_, tensor) => { tensor(name).values.fill(value, from, to); })[2]);
  }
  const nonFinite = (name) => /= (NaN|Infinity|-Infinity) /.test(name);
  const results = await tryInGroups(bundles, { what: 'weight bundles', mayLoad: (name) => !nonFinite(name) });
  for (const [backend, list] of Object.entries(results)) {
    list.forEach((r, i) => {
      if (nonFinite(bundles[i][0])) assert.match(r.message, /non-finite weight/, `${backend}: ${bundles[i][0]}`);
    });
    console.log(`# ${backend}: ${bundles.length} weight bundles: ${tally(list)}`);
  }
});

/**
 * Runs mutations of the bundle at `url` (see hx.tryMutations) on the backends named in
 * `backends` (each with a share of the cases: 1 = all); checks each outcome as tryBundles
 * does; returns the outcomes per backend.
 */
async function tryMutations(url, mutations, { what, mayLoad = () => true, shares = { cpu: 1, webgpu: 1 } }) {
  const all = {};
  for (const target of pages) {
    const share = shares[target.backend] ?? 1;
    const picked = mutations.filter((_, i) => i % Math.round(1 / share) === 0);
    const results = await target.page.evaluate(([url, picked, backend, ms]) => hx.tryMutations(url, picked, backend, ms), [url, picked, target.backend, LIMIT]);
    assert.deepEqual(target.page.errors, [], `${target.backend}: page errors after ${what}`);
    results.forEach((result, i) => checkOutcome(`${what} #${i} ${JSON.stringify(picked[i]).slice(0, 200)}`, result, target.backend, mayLoad(picked[i], result)));
    assert.equal(results.length, picked.length, `${target.backend}: ${what}: hung at ${JSON.stringify(picked[results.length - 1])}`);
    all[target.backend] = { mutations: picked, results };
    await assertHealthy(target, what);
  }
  return all;
}


test('flipped bits in the length, the header and the weights: refused, or the same answers', async () => {
  const draw = random(20_260_101);
  const pick = (from, to) => from + Math.floor(draw() * (to - from));
  const flips = (bytes, count) => {
    const start = dataStart(bytes);
    return Array.from({ length: count }, (_, i) => {
      const at = i % 12 === 0 ? pick(0, 8) : i % 2 ? pick(8, start) : pick(start, bytes.length);
      return [['flip', at, pick(0, 8)]];
    });
  };
  // The shipped bundle has a checksum: a flip is refused, unless it lands where nothing
  // that matters is (metadata the checksum does not cover); then the answers are unchanged.
  const sealedFlips = flips(sealed, 200);
  const checked = await tryMutations('/hostile/sealed.awrsr', sealedFlips, {
    what: '200 bit flips in the checksummed bundle',
    mayLoad: (_, result) => result.warnings?.length === 0 && JSON.stringify(result.outs?.[0]?.ids) === JSON.stringify(native[1]),
  });
  // Without a checksum, a flipped weight loads: then every answer must be finite.
  const plainFlips = flips(unsealed, 100);
  const plain = await tryMutations('/hostile/unsealed.awrsr', plainFlips, { what: '100 bit flips in a bundle without checksum', shares: { cpu: 1, webgpu: 1 / 3 } });
  for (const [name, all] of [['checksummed', checked], ['without checksum', plain]]) {
    for (const [backend, { results }] of Object.entries(all)) console.log(`# ${backend}: ${results.length} bit flips, ${name}: ${tally(results)}`);
  }
});

test('truncated and padded files, header lengths past the end, foreign safetensors, other files', async () => {
  const start = dataStart(sealed);
  const lengths = [1, 7, 8, 9, start - 1, start, start + 1, Math.floor(sealed.length / 2), sealed.length - 4, sealed.length - 1];
  const headerLengths = [0, 1, start - 9, start - 7, sealed.length, sealed.length + 1000, 2 ** 32, 2 ** 53, 100_000_001, '9223372036854775808', '18446744073709551615'];
  const mutations = [
    ...lengths.map((n) => [['truncate', n]]),
    [['insert', sealed.length, [0]]], [['insert', sealed.length, Array(1000).fill(7)]], [['insert', start, [32, 32, 32, 32, 32, 32, 32, 32]]],
    ...headerLengths.map((n) => [['u64', 0, String(n)]]),
  ];
  await tryMutations('/hostile/sealed.awrsr', mutations, { what: 'truncations and header lengths', mayLoad: () => false });

  const tiny = tinyModel({});
  const small = decompose(tiny);
  const raw = (header, data = new Uint8Array(0)) => rawSafetensors(JSON.stringify(header), data);
  const awrsrMeta = { ...small.metadata };
  const floats = (n) => new Uint8Array(new Float32Array(n).fill(0.5).buffer);
  const bundles = [
    ['one tensor, no metadata', writeSafetensors({}, { x: { shape: [2, 2], values: new Float32Array(4) } })],
    ['a PyTorch-style safetensors', writeSafetensors({ format: 'pt' }, small.tensors)],
    ...[['awrsr.version', '2'], ['awrsr.version', '0'], ['awrsr.version', '1.0'], ['awrsr.version', ' 1'], ['awrsr.version', ''],
      ['awrsr.format', 'AWRSR-BUNDLE'], ['awrsr.format', 'x'.repeat(100_000)]].map(([k, v]) => [`${k} = ${v.slice(0, 20)}`, compose({ ...awrsrMeta, [k]: v }, small.tensors, { seal: true })]),
    ['no awrsr.version', compose(Object.fromEntries(Object.entries(awrsrMeta).filter(([k]) => k !== 'awrsr.version')), small.tensors)],
    ['an unknown awrsr key', compose({ ...awrsrMeta, 'awrsr.evil': '1' }, small.tensors, { seal: true })],
    ['checksum malformed', compose({ ...awrsrMeta, 'awrsr.checksum': 'crc32:XYZ' }, small.tensors)],
    ['checksum of another algorithm', compose({ ...awrsrMeta, 'awrsr.checksum': 'sha256:00' }, small.tensors)],
    ...[['F16', 2], ['F64', 8], ['I64', 8], ['BOOL', 1], ['U8', 1]].map(([dtype, size]) => {
      const header = { __metadata__: awrsrMeta };
      let offset = 0;
      for (const [name, { shape, values }] of Object.entries(small.tensors)) {
        const odd = name === 'positions.weight';
        const bytes = odd ? values.length * size : values.byteLength;
        header[name] = { dtype: odd ? dtype : 'F32', shape, data_offsets: [offset, offset + bytes] };
        offset += bytes;
      }
      return [`positions.weight as ${dtype}`, raw(header, new Uint8Array(offset))];
    }),
    ...checksumCases(pristine, 'an extra tensor', (m, t, all) => { all['blocks.9.evil'] = { shape: [1], values: new Float32Array(1) }; }).slice(1),
    ...checksumCases(pristine, 'a missing tensor', (m, t, all) => { delete all['final_norm.beta']; }).slice(1),
    ...checksumCases(pristine, 'a renamed tensor', (m, t, all) => { all['final_norm.bias'] = all['final_norm.beta']; delete all['final_norm.beta']; }).slice(2),
    ...checksumCases(pristine, 'a transposed shape', (m, t, all) => { all['positions.weight'] = { ...all['positions.weight'], shape: [64, 50] }; }).slice(2),
    ...checksumCases(pristine, 'one item id short', (m) => { m['awrsr.items'] = JSON.stringify(JSON.parse(m['awrsr.items']).slice(1)); }).slice(2),
    ...checksumCases(pristine, 'a duplicated item id', (m) => { const ids = JSON.parse(m['awrsr.items']); ids[5] = ids[6]; m['awrsr.items'] = JSON.stringify(ids); }).slice(2),
    ...checksumCases(pristine, 'item ids not JSON', (m) => { m['awrsr.items'] = '["1",'; }).slice(2),
    ...checksumCases(pristine, 'item ids numbers', (m) => { m['awrsr.items'] = JSON.stringify(JSON.parse(m['awrsr.items']).map(Number)); }).slice(2),
    ...checksumCases(pristine, 'titles one short', (m) => { m['awrsr.titles'] = JSON.stringify(JSON.parse(m['awrsr.titles']).slice(1)); }).slice(2),
    ...checksumCases(pristine, 'titles numbers', (m) => { m['awrsr.titles'] = JSON.stringify(JSON.parse(m['awrsr.titles']).map((_, i) => i)); }).slice(2),
    ['tensor data overlapping', raw({ __metadata__: awrsrMeta, a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, floats(3))],
    ['tensor offsets reversed', raw({ __metadata__: awrsrMeta, a: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, floats(2))],
    ['tensor offsets past the data', raw({ __metadata__: awrsrMeta, a: { dtype: 'F32', shape: [2], data_offsets: [0, 8000] } }, floats(2))],
    ['tensor offsets negative', raw({ __metadata__: awrsrMeta, a: { dtype: 'F32', shape: [2], data_offsets: [-8, 0] } }, floats(2))],
    ['tensor offsets 2^64', rawSafetensors(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551616]}}`, floats(2))],
    ['a shape of 2^62 × 4', raw({ __metadata__: awrsrMeta, 'items.weight': { dtype: 'F32', shape: [2 ** 62, 4], data_offsets: [0, 8] } }, floats(2))],
    ['a shape with a zero', raw({ __metadata__: awrsrMeta, 'items.weight': { dtype: 'F32', shape: [0, 1], data_offsets: [0, 0] } })],
    ['10,000 tiny tensors', raw(Object.fromEntries([['__metadata__', awrsrMeta], ...Array.from({ length: 10_000 }, (_, i) => [`t${i}`, { dtype: 'F32', shape: [1], data_offsets: [4 * i, 4 * i + 4] }])]), floats(10_000))],
    ['header an array', rawSafetensors('[]')],
    ['header empty', rawSafetensors('{}')],
    ['header not JSON', rawSafetensors('{"a":')],
    ['header not UTF-8', rawSafetensors(Uint8Array.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]))],
    ['metadata a number', raw({ __metadata__: 5 })],
    ['metadata values numbers', raw({ __metadata__: { 'awrsr.format': 1, 'awrsr.version': 1 } })],
    ['header nested 100,000 deep', rawSafetensors(`{"__metadata__":${'['.repeat(100_000)}${']'.repeat(100_000)}}`)],
    ['header 1 MB of spaces', rawSafetensors(`{}${' '.repeat(1_000_000)}`)],
    ['header 8-byte length only', new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0])],
    ['PNG', Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...Array(300).fill(0)])],
    ['gzip', Uint8Array.from([0x1f, 0x8b, 8, 0, ...Array(300).fill(1)])],
    ['zip', Uint8Array.from([0x50, 0x4b, 3, 4, ...Array(300).fill(2)])],
    ['text', new TextEncoder().encode('hello, this is not a model\n'.repeat(12))],
    ['UTF-16 text', Uint8Array.from([0xff, 0xfe, ...Array.from(new TextEncoder().encode('model'), (b) => [b, 0]).flat()])],
    ['JSON', new TextEncoder().encode(JSON.stringify({ __metadata__: awrsrMeta }))],
    ['0xff × 300', new Uint8Array(300).fill(0xff)],
    ['300 random bytes', Uint8Array.from({ length: 300 }, ((d) => () => Math.floor(d() * 256))(random(300)))],
  ];
  const results = await tryInGroups(bundles, { what: 'foreign and damaged files' });
  for (const [backend, list] of Object.entries(results)) console.log(`# ${backend}: ${bundles.length} foreign or damaged files: ${tally(list)}`);
  // Files of other kinds, by URL.
  await assertRefused(['/pkg/awrsr_bg.wasm', '/www/index.html', '/www/catalogue.json', '/tests/browser/hostile.test.mjs'].map((url) =>
    `return awrsr.Recommender.load(${JSON.stringify(url)}, { backend: "cpu" })`), { what: 'other files by URL' });
});

test('odd but valid models (one item, width 1, as many heads as dimensions, odd ids) load and answer', async () => {
  const odd = [
    ...['additive', 'simple', 'value', 'none'].map((refinement) => [`one item, n = d = 1, ${refinement}`, tinyModel({ num_items: 1, refinement })]),
    ['8 heads of width 1', tinyModel({ num_items: 5, max_len: 8, d_model: 8, heads: 8 })],
    ['odd ids', tinyModel({ num_items: 9, max_len: 4 }, { ids: ['', ' ', '__proto__', 'constructor', 'toString', '\u0000', 'x'.repeat(100_000), '😀', '"\\'] })],
    // On the CPU only (each new shape costs seconds of shader compiling on SwiftShader).
    ['relu, 3 layers', tinyModel({ num_items: 4, max_len: 3, d_model: 2, layers: 3, activation: 'relu' })],
    ['n = 300', tinyModel({ num_items: 50, max_len: 300, d_model: 4, layers: 2, refine_scale: -1000 })],
  ];
  const results = await tryBundles(odd, { what: 'odd models', mayLoad: () => true, skip: { webgpu: 2 } });
  for (const [backend, list] of Object.entries(results)) {
    list.forEach((r, i) => {
      const where = `${backend}: ${odd[i][0]}: ${JSON.stringify(r).slice(0, 300)}`;
      assert.equal(r.status, 'loaded', where);
      assert.ok(r.outs[0].finite, where);
      assert.ok(r.outs[0].ids.length > 0 || r.itemCount === 1, where);
    });
    console.log(`# ${backend}: odd models loaded in ${list.map((r) => r.took).join(', ')} ms`);
  }
  files['/hostile/odd.awrsr'] = odd[5][1];
  // The odd ids are ids like any other.
  const ids = await pages[0].page.evaluate(async () => {
    const rec = await awrsr.Recommender.load('/hostile/odd.awrsr', { backend: 'cpu' });
    const answer = await rec.recommend(['__proto__', 'constructor'], { k: 10 });
    const out = { has: rec.hasItems(['__proto__', '', '\u0000', 'x'.repeat(100_000), '😀', 'nope']), top: answer.items.map((i) => i.id), unknown: answer.unknown };
    rec.free();
    return out;
  }).catch((e) => e.message);
  assert.deepEqual(ids.has, [true, true, true, true, true, false]);
  assert.deepEqual(ids.unknown, []);
  assert.equal(ids.top.length, 7, JSON.stringify(ids.top).slice(0, 200));
});

test(`fuzz: ${FUZZ_CASES} random mutations of the shipped bundle load with finite answers or are refused`, async () => {
  const draw = random(0xa3b5 + FUZZ_CASES);
  const pick = (n) => Math.floor(draw() * n);
  const start = dataStart(sealed);
  // Digits of the header: changing one keeps every length and retells a number (a size in
  // the configuration, a shape, an offset) — the mutation a byte flip rarely makes.
  const digits = [];
  for (let i = 8; i < start; i++) if (sealed[i] >= 0x30 && sealed[i] <= 0x39) digits.push(i);
  const special = [NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e20, 1e-40, -0, 1e6];
  const operation = () => {
    const at = draw() < 0.5 ? 8 + pick(start - 8) : pick(sealed.length);
    switch (pick(9)) {
      case 0: case 1: return ['flip', at, pick(8)];
      case 2: return ['byte', at, [0, 0xff, 0x7f, 0x80, 0x22, 0x7b, 0x5d, 0x2d, 0x30 + pick(10), pick(256)][pick(10)]];
      case 3: case 4: return ['byte', digits[pick(digits.length)], 0x30 + pick(10)];
      case 5: return ['f32', start + 4 * pick((sealed.length - start) / 4), special[pick(special.length)]];
      case 6: return ['truncate', pick(sealed.length)];
      case 7: return ['insert', at, Array.from({ length: 1 + pick(16) }, () => pick(256))];
      default: return draw() < 0.5 ? ['remove', at, 1 + pick(16)] : ['u64', 0, String(pick(2 ** 32))];
    }
  };
  const cases = Array.from({ length: FUZZ_CASES }, () => Array.from({ length: 1 + pick(3) }, operation));
  // Odd cases on the checksummed bundle, even ones on a copy without checksum (where more load).
  const sealedCases = cases.filter((_, i) => i % 2);
  const plainCases = cases.filter((_, i) => !(i % 2));
  const started = Date.now();
  const shares = { cpu: 1, webgpu: 1 / 3 };
  const onSealed = await tryMutations('/hostile/sealed.awrsr', sealedCases, { what: 'fuzz (checksummed)', shares });
  const onPlain = await tryMutations('/hostile/unsealed.awrsr', plainCases, { what: 'fuzz (without checksum)', shares });
  for (const backend of Object.keys(onSealed)) {
    const results = [...onSealed[backend].results, ...onPlain[backend].results];
    const messages = new Set(results.filter((r) => r.status === 'rejected').map((r) => r.message.replace(/[0-9]+/g, 'N').slice(0, 60)));
    console.log(`# ${backend}: fuzz, ${results.length} cases: ${tally(results)}; ${messages.size} distinct refusals`);
  }
  console.log(`# fuzz took ${Math.round((Date.now() - started) / 1000)} s (AWRSR_BROWSER_FUZZ_CASES=${FUZZ_CASES})`);
});
