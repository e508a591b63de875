// Code that hostile.test.mjs defines in its pages (with page.evaluate): `hx`, which runs a
// call or a bundle with a time limit and reports how it ended, and `hostile`, wrong values
// of every kind to pass to the module.

/** Helpers defined in each page: settling with a time limit, checking results. */
export const PAGE_HELPERS = `
window.hx = {
  /** How a promise (or a function returning one) ends, within ms. */
  async settle(start, ms) {
    let timer;
    const timeout = new Promise((ok) => { timer = setTimeout(() => ok({ status: 'timeout' }), ms); });
    try {
      const promise = typeof start === 'function' ? start() : start;
      if (!(promise instanceof Promise)) return { status: 'sync', value: promise };
      return await Promise.race([
        promise.then((value) => ({ status: 'resolved', value }), (e) => hx.failure(e)),
        timeout,
      ]);
    } catch (e) {
      return { ...hx.failure(e), sync: true };
    } finally {
      clearTimeout(timer);
    }
  },
  failure(e) {
    let message;
    try { message = String(e?.message); } catch { message = '(unreadable)'; }
    return { status: 'rejected', isError: e instanceof Error, name: e?.constructor?.name, length: message.length, message: message.slice(0, 300) };
  },
  /** Whether every number in a recommend result is finite. */
  finite(out) {
    const ok = (x) => typeof x === 'number' && Number.isFinite(x);
    return out.items.every((i) => ok(i.score) && (i.because ?? []).every((b) => ok(b.weight)))
      && (out.attention?.weights ?? []).every((row) => row.every(ok));
  },
  /** Loads bytes; when they load, recommends for a few sessions and frees the model. */
  async tryBundle(bytes, backend, ms) {
    const started = performance.now();
    const loaded = await hx.settle(() => awrsr.Recommender.load(bytes, { backend }), ms);
    const took = Math.round(performance.now() - started);
    if (loaded.status !== 'resolved') return { ...loaded, value: undefined, took };
    const rec = loaded.value;
    const result = { status: 'loaded', warnings: rec.warnings, itemCount: rec.itemCount, outs: [], took };
    try {
      // (Loading has run the network on the empty session already.)
      const session = rec.hasItem('1') ? ['1', '50', '260'] : rec.itemIds().slice(0, 3);
      const out = await hx.settle(() => rec.recommend(session, { k: 10, explain: true }), ms);
      if (out.status === 'resolved') {
        result.outs.push({ finite: hx.finite(out.value), ids: out.value.items.map((i) => i.id) });
      } else {
        result.outs.push({ ...out, value: undefined });
      }
    } finally {
      rec.free();
    }
    return result;
  },
  /**
   * tryBundle over mutations of the bundle at \`url\`: each a list of operations, applied in
   * order to a copy (flip [at, bit], byte [at, value], f32 [at, value], u64 [at, value],
   * truncate [length], insert [at, bytes], remove [at, count]; writes past the end are
   * skipped). Stops at the first hang.
   */
  async tryMutations(url, mutations, backend, ms) {
    const original = new Uint8Array(await (await fetch(url)).arrayBuffer());
    const results = [];
    for (const operations of mutations) {
      let bytes = original.slice();
      for (const [op, at, value] of operations) {
        if (op === 'flip') bytes[at] ^= 1 << value;
        else if (op === 'byte') bytes[at] = value;
        else if (op === 'f32') { if (at + 4 <= bytes.length) new DataView(bytes.buffer).setFloat32(at, value, true); }
        else if (op === 'u64') { if (at + 8 <= bytes.length) new DataView(bytes.buffer).setBigUint64(at, BigInt(value), true); }
        else if (op === 'truncate') bytes = bytes.slice(0, at);
        else if (op === 'insert' || op === 'remove') {
          const [cut, added] = op === 'insert' ? [0, Uint8Array.from(value)] : [value, new Uint8Array(0)];
          const out = new Uint8Array(bytes.length - Math.min(cut, bytes.length - at) + added.length);
          out.set(bytes.subarray(0, at));
          out.set(added, at);
          out.set(bytes.subarray(at + cut), at + added.length);
          bytes = out;
        }
      }
      const result = await hx.tryBundle(bytes, backend, ms);
      results.push(result);
      if (result.status === 'timeout' || result.outs?.some((o) => o.status === 'timeout')) break;
    }
    return results;
  },
  /** tryBundle over a list of URLs; stops at the first hang. */
  async tryUrls(urls, backend, ms) {
    const results = [];
    for (const url of urls) {
      const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
      const result = await hx.tryBundle(bytes, backend, ms);
      results.push(result);
      if (result.status === 'timeout' || result.outs?.some((o) => o.status === 'timeout')) break;
    }
    return results;
  },
  /** Runs each body (async function text) and reports how it ended. */
  async run(bodies, ms) {
    const results = [];
    for (const body of bodies) {
      const result = { body, ...(await hx.settle(new Function('return (async () => { ' + body + ' })()'), ms)), value: undefined };
      results.push(result);
      if (result.status === 'timeout') break;
    }
    return results;
  },
};
`;

/** Hostile values in the page: `hostile.<name>` evaluates to a fresh one each time. */
export const HOSTILE_VALUES = `
window.hostile = {
  throwingGetters: () => new Proxy({}, { get() { throw new Error('trap get'); }, has() { throw new Error('trap has'); }, ownKeys() { throw new Error('trap keys'); }, getPrototypeOf() { throw new Error('trap proto'); }, getOwnPropertyDescriptor() { throw new Error('trap desc'); } }),
  revoked: (target = []) => { const { proxy, revoke } = Proxy.revocable(target, {}); revoke(); return proxy; },
  arrayProxy: (values) => new Proxy(values, { get(t, k) { if (k === '0') throw new Error('trap index'); return t[k]; } }),
  throwingIndex: (values) => { const a = [...values]; Object.defineProperty(a, 0, { get() { throw new Error('getter'); } }); return a; },
  throwingToJSON: (values) => { const a = [...values]; a.toJSON = () => { throw new Error('toJSON'); }; return a; },
  cyclic: () => { const o = {}; o.self = o; return o; },
  cyclicArray: () => { const a = ['1']; a.push(a); return a; },
  deep: (n) => { let a = ['1']; for (let i = 0; i < n; i++) a = [a]; return a; },
  sparse: (n) => { const a = []; a.length = n; return a; },
  badToString: () => ({ toString() { throw new Error('toString'); }, valueOf() { throw new Error('valueOf'); } }),
};
`;
