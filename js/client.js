// awrsr's page-side entry point: `load(model, options)` downloads the wasm module and the
// model bundle in parallel (streamed, with progress in real bytes), then runs the model in a
// module Worker (worker.js) or, where there is none, in the page. Either way every call
// returns a Promise and calls are answered in call order: one request at a time goes to the
// engine, the rest wait in a queue, and `recommend(…, { supersede: true })` drops the
// waiting recommendations (a visitor clicked again: only the newest session matters).
//
// One engine per model URL and settings: a second `load` of the same URL (the page's own
// code, every widget) gets a new Client over the same Worker, wasm and model, and the engine
// ends when the last of them is freed. Which wasm build runs it (the CPU build by default,
// the WebGPU build when asked for or faster) is builds.js's choice.
//
// This file never imports awrsr.js itself except for the in-page engine: in worker mode the
// main thread downloads and runs nothing. worker.js imports `startEngine` from here, so both
// modes run the same loading and calling code.
import { progressFanOut } from './progress.js';
import { requestedBuild, probeAdapter, autoBuild } from './builds.js';

const LOAD_OPTIONS = ['backend', 'worker', 'onProgress', 'signal'];
const METHODS = ['recommend', 'hasItem', 'hasItems', 'title', 'itemIds'];

/**
 * Loads the wasm module and a model bundle, in a Worker where there is one (see client.d.ts
 * for the option and result types). Resolves to a {@link Client}; rejects with an `Error`
 * naming the problem (an HTTP status, a bad bundle, an unknown option). A model URL already
 * loading or loaded with the same `backend` and `worker` settings is shared, not loaded again.
 */
export async function load(model, options = {}) {
  const { backend, worker = 'auto', onProgress, signal } = checkLoadOptions(options);
  const source = modelSource(model);
  signal?.throwIfAborted();
  const settings = { backend, worker };
  // Shared: a model URL; not shared: bytes, or a backend that is not even a string (refused by the engine).
  if (typeof source === 'string' && (backend === undefined || typeof backend === 'string')) {
    return SharedEngine.for(source, settings).join(safely(onProgress), signal);
  }
  const { engine, inWorker } = await start(source, { ...settings, onProgress: safely(onProgress), signal });
  return new Client(engine, inWorker, () => engine.free());
}

/**
 * Starts an engine: in a Worker where `worker` asks for one and one can start, else in the
 * page. Resolves to `{ engine, inWorker }`.
 */
async function start(source, { backend, worker, onProgress, signal }) {
  const inPage = async () => ({ engine: await startEngine(source, { backend, onProgress, signal }), inWorker: false });
  if (!(worker === true || (worker === 'auto' && typeof Worker === 'function'))) return inPage();
  try {
    return { engine: await WorkerEngine.start(source, { backend, onProgress, signal }), inWorker: true };
  } catch (error) {
    // 'auto' runs in the page when the Worker itself cannot start (e.g. a CSP without
    // worker-src); a refusal from the engine (a bad bundle, an HTTP error) stands.
    if (worker !== 'auto' || !error.workerFailed) throw error;
    return inPage();
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

/**
 * Tracks both downloads and reports their sum: monotonic, total null while one is unknown.
 * `reporter(name)` reports one part; `more(name)` a second download of it, counted after the
 * first (the WebGPU build, when `'auto'` moves to it after the CPU build).
 */
function progressTracker(onProgress) {
  const parts = { wasm: { loaded: 0, total: null }, model: { loaded: 0, total: null } };
  const emit = () => {
    const { wasm, model } = parts;
    const total = wasm.total === null || model.total === null ? null : wasm.total + model.total;
    onProgress({ loaded: wasm.loaded + model.loaded, total, wasm: { ...wasm }, model: { ...model } });
  };
  const reporter = (name, before = 0) => (loaded, total) => {
    parts[name] = { loaded: before + loaded, total: total === null ? null : before + total };
    emit();
  };
  const more = (name) => reporter(name, parts[name].loaded);
  /** The last report: every byte is in, so each total is what arrived. */
  const finish = () => {
    for (const part of Object.values(parts)) part.total = part.loaded;
    emit();
  };
  return { reporter, more, finish };
}

/** Each wasm build of this realm, instantiated once: build name → Promise of its instantiation. */
const instances = new Map();

/** A build's glue module and, unless this realm has it instantiated already, its wasm's bytes. */
async function fetchBuild(build, signal, report) {
  const bytes = instances.has(build.name) ? (report(0, 0), null)
    : download(build.wasm(), 'the awrsr wasm module', signal, report);
  const [glue, wasm] = await Promise.all([build.glue(), bytes]);
  return { build, glue, wasm };
}

/** Instantiates a fetched build, once per realm; resolves to its glue module. */
async function instantiate({ build, glue, wasm }) {
  if (!instances.has(build.name)) {
    const ready = glue.default({ module_or_path: wasm });
    instances.set(build.name, ready);
    ready.catch(() => instances.delete(build.name));
  }
  await instances.get(build.name);
  return glue;
}

/**
 * Downloads what is missing (a wasm build, the model) in parallel, instantiates the module and
 * loads the model with `Recommender.load`. The build is builds.js's choice: the one asked
 * for, and for `'auto'` the CPU build unless the model turns out to be worth the WebGPU
 * build. Resolves to `{ facts, call(method, args), free() }`, the engine behind a Client;
 * used in the page and by worker.js.
 */
export async function startEngine(source, { backend, onProgress, signal }) {
  const { reporter, more, finish } = progressTracker(onProgress);
  const downloads = linkedAbort(signal);
  const adapter = probeAdapter(backend);
  const modelReport = reporter('model');
  const modelBytes = typeof source === 'string'
    ? download(source, 'model', downloads.signal, modelReport)
    : (modelReport(source.length, source.length), source);
  const wasmBuild = fetchBuild(requestedBuild(backend), downloads.signal, reporter('wasm'));
  const [first, bytes] = await Promise.all([wasmBuild, modelBytes]).catch((error) => {
    downloads.abort(error); // the other download is of no use now
    throw error;
  });
  const choice = autoBuild(first.build, await adapter, bytes);
  const chosen = choice.build === first.build ? first : await fetchBuild(choice.build, downloads.signal, more('wasm'));
  finish();
  const awrsr = await instantiate(chosen);
  signal?.throwIfAborted();
  const hashing = modelDigest(bytes);
  const recommender = await awrsr.Recommender.load(bytes, backend === undefined ? {} : { backend });
  if (signal?.aborted) { recommender.free(); throw signal.reason; }
  return engine(recommender, await hashing, choice.reason);
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

/**
 * The calls a Client may make on a loaded Recommender, all answered asynchronously.
 * `autoReason` (builds.js's) replaces the engine's `fallbackReason` when `'auto'` kept to the
 * CPU build although the package has a WebGPU one.
 */
function engine(recommender, modelHash, autoReason) {
  const { backend, fallbackReason, itemCount, maxLength, warnings } = recommender;
  return {
    facts: { backend, fallbackReason: autoReason ?? fallbackReason, itemCount, maxLength, warnings, modelHash },
    async call(method, args) {
      if (!METHODS.includes(method)) throw new Error(`awrsr: unknown method ${String(method)}`);
      return recommender[method](...args);
    },
    free() { recommender.free(); },
  };
}

// ---------------------------------------------------------------------------------------
// One engine per model URL: shared by every `load` of it, freed with the last Client.

/** The engines of this page, loading or loaded: JSON [model URL, backend, worker] → SharedEngine. */
const engines = new Map();

/**
 * One model URL's engine and the Clients using it: started by the first `load`, joined by the
 * next ones (each with its own progress listener and signal), ended when the last Client is
 * freed or the last waiting `load` is aborted.
 */
class SharedEngine {
  #key;
  #users = 0;
  #progress = progressFanOut();
  #stop = new AbortController();
  #ready;
  #engine = null;

  /** The shared engine of a model URL and settings: the one there is, unless it failed, or a new one. */
  static for(url, { backend, worker }) {
    const key = JSON.stringify([url, backend ?? 'auto', worker]);
    const known = engines.get(key);
    if (known && !known.#engine?.failed) return known;
    const shared = new SharedEngine(key, url, { backend, worker });
    engines.set(key, shared);
    return shared;
  }

  constructor(key, url, settings) {
    this.#key = key;
    this.#ready = start(url, { ...settings, onProgress: this.#progress.report, signal: this.#stop.signal });
    this.#ready.then(({ engine }) => { this.#engine = engine; }, () => this.#forget());
  }

  /** Waits for the engine (reporting progress, until `signal` aborts) and resolves to a new Client of it. */
  async join(onProgress, signal) {
    this.#users++;
    const unlisten = this.#progress.listen(onProgress);
    try {
      const { engine, inWorker } = await untilAborted(this.#ready, signal);
      return new Client(engine, inWorker, () => this.#release());
    } catch (error) {
      this.#release();
      throw error;
    } finally {
      unlisten();
    }
  }

  /** One user fewer; after the last, the load is aborted or the engine freed. */
  #release() {
    if (--this.#users > 0) return;
    this.#forget();
    this.#stop.abort(named('AbortError', 'awrsr: loading was aborted'));
    this.#ready.then(({ engine }) => engine.free(), () => {});
  }

  /** Takes this engine off the page's list (a later `load` starts afresh). */
  #forget() {
    if (engines.get(this.#key) === this) engines.delete(this.#key);
  }
}

/** `promise`, or a rejection with the signal's reason as soon as `signal` aborts. */
function untilAborted(promise, signal) {
  if (!signal) return promise;
  return new Promise((resolve, reject) => {
    const abort = () => reject(signal.reason ?? named('AbortError', 'awrsr: loading was aborted'));
    if (signal.aborted) abort();
    signal.addEventListener('abort', abort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
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

  /** Whether the worker has stopped (failed or freed): its calls all reject. */
  get failed() {
    return this.#failure !== null;
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
  #release;
  #queue = [];
  #running = null;
  #freed = false;

  /** A Client of `engine`; `release` is called once, by `free()` (the engine may have other Clients). */
  constructor(engine, inWorker, release) {
    this.#engine = engine;
    this.#release = release;
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

  /**
   * Frees this Client: its unanswered and later calls reject. The model (and the worker) ends
   * with the last Client of it.
   */
  free() {
    if (this.#freed) return;
    this.#freed = true;
    const freed = new Error('awrsr: this model has been freed');
    for (const entry of this.#queue.splice(0)) entry.reject(freed);
    this.#running?.reject(freed);
    this.#running = null;
    this.#release();
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
