// awrsr's page-side entry point: `load(model, options)` downloads the wasm module and the
// model bundle in parallel (streamed, with progress in real bytes), then runs the model in a
// module Worker (worker.js) or, where there is none, in the page. Either way every call
// returns a Promise and calls are answered in call order: one request at a time goes to the
// engine, the rest wait in a queue, and `recommend(…, { supersede: true })` drops the
// waiting recommendations (a visitor clicked again: only the newest session matters).
//
// This file never imports awrsr.js itself except for the in-page engine: in worker mode the
// main thread downloads and runs nothing. worker.js imports `startEngine` from here, so both
// modes run the same loading and calling code.

const LOAD_OPTIONS = ['backend', 'worker', 'onProgress', 'signal'];
const METHODS = ['recommend', 'hasItem', 'hasItems', 'title', 'itemIds'];

/**
 * Loads the wasm module and a model bundle, in a Worker where there is one (see client.d.ts
 * for the option and result types). Resolves to a {@link Client}; rejects with an `Error`
 * naming the problem (an HTTP status, a bad bundle, an unknown option).
 */
export async function load(model, options = {}) {
  const { backend, worker = 'auto', onProgress, signal } = checkLoadOptions(options);
  const source = modelSource(model);
  signal?.throwIfAborted();
  const progress = safely(onProgress);
  const useWorker = worker === true || (worker === 'auto' && typeof Worker === 'function');
  if (!useWorker) return new Client(await startEngine(source, { backend, onProgress: progress, signal }), false);
  try {
    return new Client(await WorkerEngine.start(source, { backend, onProgress: progress, signal }), true);
  } catch (error) {
    // 'auto' runs in the page when the Worker itself cannot start (e.g. a CSP without
    // worker-src); a refusal from the engine (a bad bundle, an HTTP error) stands.
    if (worker !== 'auto' || !error.workerFailed) throw error;
    return new Client(await startEngine(source, { backend, onProgress: progress, signal }), false);
  }
}

/** The options of `load`, checked: unknown keys and wrong types are Errors. */
function checkLoadOptions(options) {
  if (options === null || typeof options !== 'object') throw new TypeError('awrsr load options must be an object');
  const unknown = Object.keys(options).filter((key) => !LOAD_OPTIONS.includes(key));
  if (unknown.length) throw new TypeError(`awrsr load options: unknown option ${unknown.map((k) => `'${k}'`).join(', ')} (known: ${LOAD_OPTIONS.join(', ')})`);
  const { worker, onProgress, signal } = options;
  if (worker !== undefined && worker !== true && worker !== false && worker !== 'auto') {
    throw new TypeError("awrsr load options: worker must be true, false or 'auto'");
  }
  if (onProgress !== undefined && typeof onProgress !== 'function') throw new TypeError('awrsr load options: onProgress must be a function');
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError('awrsr load options: signal must be an AbortSignal');
  return options;
}

/**
 * The model as something a Worker can take: an absolute URL string (a relative one is
 * resolved against the page, not against the worker's script), or a private copy of the bytes.
 */
function modelSource(model) {
  if (typeof model === 'string' || model instanceof URL) {
    const base = globalThis.document?.baseURI ?? globalThis.location?.href;
    try {
      return new URL(model, base).href;
    } catch {
      throw new TypeError(`awrsr: the model URL is not a valid URL: ${String(model).slice(0, 200)}`);
    }
  }
  if (model instanceof ArrayBuffer) return new Uint8Array(model.slice(0));
  if (model instanceof Uint8Array) return model.slice();
  throw new TypeError('awrsr: the model must be a URL (string or URL), a Uint8Array or an ArrayBuffer');
}

/** A progress callback that cannot break loading: what it throws is reported, not passed on. */
function safely(onProgress) {
  return (progress) => {
    try { onProgress?.(progress); } catch (error) { setTimeout(() => { throw error; }); }
  };
}

/** An `Error` with a given name (worker errors cross as `{ name, message }`). */
function named(name, message) {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** An engine error as plain data for postMessage. */
export function errorData(error) {
  return { name: error?.name ?? 'Error', message: error?.message ?? String(error) };
}

// ---------------------------------------------------------------------------------------
// Loading: both downloads at once, each streamed, with progress in bytes.

/** Reads a response's body as a stream into one Uint8Array, reporting `(loaded, total)`. */
async function readBody(response, report) {
  const encoded = (response.headers.get('content-encoding') ?? 'identity') !== 'identity';
  const length = Number(response.headers.get('content-length'));
  let total = !encoded && response.headers.has('content-length') && Number.isSafeInteger(length) ? length : null;
  let loaded = 0;
  report(loaded, total);
  if (!response.body) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    report(bytes.length, bytes.length);
    return bytes;
  }
  const chunks = [];
  const reader = response.body.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    chunks.push(r.value);
    loaded += r.value.length;
    if (total !== null && loaded > total) total = loaded;
    report(loaded, total);
  }
  return join(chunks, loaded);
}

/** Concatenates chunks (no copy when there is one). */
function join(chunks, length) {
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) { bytes.set(chunk, at); at += chunk.length; }
  return bytes;
}

/**
 * Fetches a URL as bytes; an HTTP or network error, or an HTML page where a file was
 * expected, names the URL.
 */
async function download(url, what, signal, report) {
  try {
    const response = await fetch(url, { signal });
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
    refuseHtml(response.headers.get('content-type'));
    const bytes = await readBody(response, report);
    refuseHtml(null, bytes);
    return bytes;
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw new Error(`cannot load ${what} from ${url}: ${error.message}`);
  }
}

const HTML_TYPE = /^\s*(text\/html|application\/xhtml\+xml)\s*(;|$)/i;
const HTML_START = /^\uFEFF?\s*<(!doctype\s+html|html)[\s>]/i;

/**
 * Throws when a response is a web page (`type`: its Content-Type) or its body starts as
 * one (`bytes`): what a server sends for a missing file when it answers every path with its
 * index page (a single-page app's fallback, `vite preview`), with status 200. Neither the
 * wasm module nor a bundle can start so (a bundle's first 8 bytes are its header length).
 */
function refuseHtml(type, bytes) {
  if (type && HTML_TYPE.test(type)) throw new Error(`the server returned ${type.split(';')[0].trim().toLowerCase()}: is the path right?`);
  if (bytes && HTML_START.test(new TextDecoder().decode(bytes.subarray(0, 64)))) throw new Error('the server returned an HTML page: is the path right?');
}

/** A signal that aborts with `outer` and when `abort()` is called (one download failed). */
function linkedAbort(outer) {
  const controller = new AbortController();
  if (outer?.aborted) controller.abort(outer.reason);
  outer?.addEventListener('abort', () => controller.abort(outer.reason), { once: true });
  return controller;
}

/** Tracks both downloads and reports their sum: monotonic, total null while one is unknown. */
function progressTracker(onProgress) {
  const parts = { wasm: { loaded: 0, total: null }, model: { loaded: 0, total: null } };
  const emit = () => {
    const { wasm, model } = parts;
    const total = wasm.total === null || model.total === null ? null : wasm.total + model.total;
    onProgress({ loaded: wasm.loaded + model.loaded, total, wasm: { ...wasm }, model: { ...model } });
  };
  const reporter = (name) => (loaded, total) => { parts[name] = { loaded, total }; emit(); };
  /** The last report: every byte is in, so each total is what arrived. */
  const finish = () => {
    for (const part of Object.values(parts)) part.total = part.loaded;
    emit();
  };
  return { reporter, finish };
}

/** The wasm module of this realm, instantiated once (a second in-page load skips the download). */
let wasmModule = null;

/**
 * Downloads what is missing (the wasm, the model) in parallel, instantiates the module and
 * loads the model with `Recommender.load`. Resolves to `{ facts, call(method, args) }`, the
 * engine behind a Client; used in the page and by worker.js.
 */
export async function startEngine(source, { backend, onProgress, signal }) {
  const { reporter, finish } = progressTracker(onProgress);
  const wasmReport = reporter('wasm');
  const modelReport = reporter('model');
  const downloads = linkedAbort(signal);
  const glue = import('./awrsr.js');
  const wasmBytes = wasmModule ? (wasmReport(0, 0), null)
    : download(new URL('./awrsr_bg.wasm', import.meta.url).href, 'the awrsr wasm module', downloads.signal, wasmReport);
  const modelBytes = typeof source === 'string'
    ? download(source, 'model', downloads.signal, modelReport)
    : (modelReport(source.length, source.length), source);
  const [awrsr, wasm, bytes] = await Promise.all([glue, wasmBytes, modelBytes]).catch((error) => {
    downloads.abort(error); // the other download is of no use now
    throw error;
  });
  finish();
  wasmModule ??= awrsr.default({ module_or_path: wasm });
  await wasmModule.catch((error) => { wasmModule = null; throw error; });
  signal?.throwIfAborted();
  const hashing = modelDigest(bytes);
  const recommender = await awrsr.Recommender.load(bytes, backend === undefined ? {} : { backend });
  if (signal?.aborted) { recommender.free(); throw signal.reason; }
  return engine(recommender, await hashing);
}

/**
 * The model's identity for analytics: `sha256:` and the SHA-256 of its bytes in hex, or
 * null where SubtleCrypto is missing (a page served over plain http from another host than
 * localhost) or refuses.
 */
async function modelDigest(bytes) {
  try {
    if (!globalThis.crypto?.subtle) return null;
    const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    return `sha256:${Array.from(hash, (b) => b.toString(16).padStart(2, '0')).join('')}`;
  } catch {
    return null;
  }
}

/** The calls a Client may make on a loaded Recommender, all answered asynchronously. */
function engine(recommender, modelHash) {
  const { backend, fallbackReason, itemCount, maxLength, warnings } = recommender;
  return {
    facts: { backend, fallbackReason, itemCount, maxLength, warnings, modelHash },
    async call(method, args) {
      if (!METHODS.includes(method)) throw new Error(`awrsr: unknown method ${String(method)}`);
      return recommender[method](...args);
    },
    free() { recommender.free(); },
  };
}

// ---------------------------------------------------------------------------------------
// Worker mode: the same engine behind postMessage.

const UNREADABLE_WORKER = "its script could not be loaded or run (is worker.js served beside client.js, and allowed by the page's CSP worker-src?)";

/**
 * worker.js behind the engine interface (`facts`, `call`, `free`): each call is a message,
 * answered by id. A Worker that fails (an error event, an unreadable message) rejects every
 * call then pending and all later ones with an Error saying so.
 */
class WorkerEngine {
  #worker;
  #pending = new Map();
  #nextId = 1;
  #failure = null;
  #loading = null; // { resolve, reject, onProgress } until the worker says 'loaded' or 'refused'

  /** Starts worker.js and has it download and load; resolves once the model is loaded. */
  static start(source, { backend, onProgress, signal }) {
    let worker;
    try {
      worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    } catch (error) {
      return Promise.reject(Object.assign(new Error(`awrsr: cannot start the worker: ${error.message}`), { workerFailed: true }));
    }
    const engine = new WorkerEngine(worker);
    const abort = () => engine.#stop(signal.reason ?? named('AbortError', 'awrsr: loading was aborted'));
    signal?.addEventListener('abort', abort, { once: true });
    const loaded = new Promise((resolve, reject) => { engine.#loading = { resolve, reject, onProgress }; });
    worker.postMessage({ type: 'load', source, backend }, typeof source === 'string' ? [] : [source.buffer]);
    return loaded.finally(() => signal?.removeEventListener('abort', abort));
  }

  constructor(worker) {
    this.#worker = worker;
    worker.addEventListener('message', ({ data }) => this.#receive(data));
    worker.addEventListener('messageerror', () => this.#fail('a message from it could not be read'));
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      this.#fail(event.message || UNREADABLE_WORKER);
    });
  }

  /** Sends one call; resolves or rejects with the worker's answer. */
  call(method, args) {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const id = this.#nextId++;
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ type: 'call', id, method, args });
    });
  }

  /** Ends the worker (and with it the model). */
  free() {
    this.#stop(new Error('awrsr: this model has been freed'));
  }

  /** Handles one message from the worker. */
  #receive(data) {
    if (data.type === 'progress') this.#loading?.onProgress(data.progress);
    else if (data.type === 'loaded') {
      this.facts = data.facts;
      this.#loading.resolve(this);
      this.#loading = null;
    } else if (data.type === 'refused') this.#stop(named(data.error.name, data.error.message));
    else {
      const waiting = this.#pending.get(data.id);
      this.#pending.delete(data.id);
      if (data.type === 'result') waiting?.resolve(data.value);
      else waiting?.reject(named(data.error.name, data.error.message));
    }
  }

  /** The worker failed: while loading, `load` may fall back to the page ('auto'). */
  #fail(message) {
    if (this.#failure) return;
    const error = new Error(`awrsr: the worker stopped: ${message}`);
    error.workerFailed = this.#loading !== null;
    this.#stop(error);
  }

  /** Terminates the worker; what is pending (the load, calls) and every later call get `error`. */
  #stop(error) {
    if (this.#failure) return;
    this.#failure = error;
    this.#worker.terminate();
    this.#loading?.reject(error);
    this.#loading = null;
    for (const { reject } of this.#pending.values()) reject(error);
    this.#pending.clear();
  }
}

// ---------------------------------------------------------------------------------------
// The Client: a FIFO in front of an engine, the same in both modes.

/**
 * A loaded model. Every method returns a Promise; calls are answered in call order.
 * The plain properties are a snapshot taken at load.
 */
export class Client {
  #engine;
  #queue = [];
  #running = null;
  #freed = false;

  constructor(engine, inWorker) {
    this.#engine = engine;
    Object.assign(this, engine.facts, { inWorker });
  }

  /**
   * Recommends for a session (item ids, oldest first); options as `Recommender.recommend`,
   * plus `supersede: true` to reject every earlier recommend still waiting with an AbortError.
   */
  recommend(session, options) {
    if (options != null && (typeof options !== 'object' || Array.isArray(options))) {
      return Promise.reject(new TypeError('recommend options must be an object'));
    }
    const { supersede = false, ...rest } = options ?? {};
    if (typeof supersede !== 'boolean') return Promise.reject(new TypeError('recommend options: supersede must be a boolean'));
    if (supersede) this.#supersede();
    return this.#enqueue('recommend', [session, rest]);
  }

  /** Whether the model knows this item id. */
  hasItem(id) { return this.#enqueue('hasItem', [id]); }

  /** For each id of `ids`, whether the model knows it. */
  hasItems(ids) { return this.#enqueue('hasItems', [ids]); }

  /** The title of an item, or `undefined`. */
  title(id) { return this.#enqueue('title', [id]); }

  /** Every item id the model knows. */
  itemIds() { return this.#enqueue('itemIds', []); }

  /** Frees the model (and ends the worker); every unanswered and later call rejects. */
  free() {
    if (this.#freed) return;
    this.#freed = true;
    const freed = new Error('awrsr: this model has been freed');
    for (const entry of this.#queue.splice(0)) entry.reject(freed);
    this.#running?.reject(freed);
    this.#running = null;
    this.#engine.free();
  }

  /** Rejects the recommendations that wait (not the one running). */
  #supersede() {
    const superseded = named('AbortError', 'awrsr: recommendation superseded by a newer session');
    const kept = [];
    for (const entry of this.#queue) {
      if (entry.method === 'recommend') entry.reject(superseded);
      else kept.push(entry);
    }
    this.#queue = kept;
  }

  /** Queues a call; its arguments are copied now (a caller may change its arrays later). */
  #enqueue(method, args) {
    if (this.#freed) return Promise.reject(new Error('awrsr: this model has been freed'));
    let copy;
    try {
      copy = structuredClone(args);
    } catch (error) {
      return Promise.reject(new TypeError(`awrsr ${method}: the arguments cannot be copied (${error.message})`));
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ method, args: copy, resolve, reject });
      if (!this.#running) this.#next();
    });
  }

  /** Sends the next waiting call to the engine. */
  async #next() {
    const entry = this.#queue.shift();
    if (!entry) return;
    this.#running = entry;
    try {
      const value = await this.#engine.call(entry.method, entry.args);
      if (this.#running === entry) entry.resolve(value);
    } catch (error) {
      if (this.#running === entry) entry.reject(error instanceof Error ? error : new Error(String(error)));
    }
    if (this.#running !== entry) return; // freed meanwhile
    this.#running = null;
    this.#next();
  }
}
