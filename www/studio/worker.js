// awrsr studio's module Worker, started by studio.js (`new Worker(new URL('./worker.js',
// import.meta.url), { type: 'module' })`). It loads the studio's wasm build (pkg-studio/:
// the CPU build plus training) as soon as it starts, holds the one `Studio` (the dropped
// files, what was read, the model being trained), and does all the heavy work off the page's
// thread: reading the files, training, writing the bundle, and the example recommendations
// (through the inference class of the same build, loaded from the bundle's bytes).
//
// Messages out, first: `{ type: 'ready' }` once the engine has loaded, or `{ type: 'refused',
// error }` if it cannot. Messages in: `{ type: 'call', id, method, args }`, answered in call
// order by `{ type: 'result', id, value }` or `{ type: 'error', id, error }`; while the
// method 'train' runs it also posts `{ type: 'progress', id, progress }` after each slice of
// training. `{ type: 'stop' }` is not queued: it ends the training under way at once (the best
// model so far is kept, and 'train' then answers as usual). Errors cross as `{ name, message,
// fatal }`; `fatal` means the wasm module itself trapped, so this worker should be replaced.
//
// Methods: `files(files: File[])` (a fresh Studio holding them; answers their names and
// sizes), `read(name, options)` (answers the Summary), `train(settings, precision, examples)`
// (answers `{ plan, last, report, examples, bundle, catalogue }`: `report` is what
// `studio.finish(precision)` measured, `bundle` the model.awrsr bytes as an ArrayBuffer,
// moved, not copied), `finish(precision)` (the best model stored again at another precision:
// `{ report, bundle }`).
//
// Nothing here makes a network request except loading the engine's own two files.
import init, { Studio, Recommender } from '../../pkg-studio/awrsr.js';

/** How long each `studio.step` trains before the worker looks at its messages again (ms). */
const STEP_MS = 150;
/** How many recommendations each example session shows. */
const EXAMPLE_K = 5;

/** The engine: a promise of the initialised module (every call waits for it). */
const engine = init({ module_or_path: new URL('../../pkg-studio/awrsr_bg.wasm', import.meta.url) });
/** The current `Studio`, or null before the first files. */
let studio = null;
/** Whether the training under way has been asked to stop. */
let stopping = false;
/** The calls, one at a time, in order: each link waits for the one before. */
let queue = Promise.resolve();

engine.then(
  () => self.postMessage({ type: 'ready' }),
  (error) => self.postMessage({ type: 'refused', error: errorData(error) }),
);

self.addEventListener('message', ({ data }) => {
  if (data?.type === 'stop') stopTraining();
  else if (data?.type === 'call') queue = queue.then(() => answer(data));
});

/** The `Error` data that crosses to the page: name, message, and whether the module trapped. */
function errorData(error) {
  const message = typeof error?.message === 'string' ? error.message : String(error);
  return { name: typeof error?.name === 'string' ? error.name : 'Error', message, fatal: error instanceof WebAssembly.RuntimeError };
}

/** Runs one call and posts its answer (or its error). */
async function answer({ id, method, args }) {
  try {
    await engine;
    const { value, transfer = [] } = await METHODS[method](id, ...(args ?? []));
    self.postMessage({ type: 'result', id, value }, transfer);
  } catch (error) {
    self.postMessage({ type: 'error', id, error: errorData(error) });
  }
}

/** The methods the page may call; each resolves to `{ value, transfer? }`. */
const METHODS = {
  files: (_id, files) => addFiles(files),
  read: async (_id, name, options) => ({ value: current().read(name, options) }),
  train: (id, settings, precision, examples) => train(id, settings, precision, examples),
  finish: async (_id, precision) => {
    const s = current();
    const report = s.finish(precision);
    const bytes = s.bundle();
    return { value: { report, bundle: bytes.buffer }, transfer: [bytes.buffer] };
  },
};

/** The Studio holding the files; an Error before any file was given. */
function current() {
  if (!studio) throw new Error('No file has been given yet.');
  return studio;
}

/**
 * Replaces the Studio by a fresh one holding these files (each read whole here, in the
 * worker, and copied into the module). Answers `[{ name, size }]`.
 */
async function addFiles(files) {
  studio?.free();
  studio = null;
  const fresh = new Studio();
  try {
    for (const file of files) {
      let bytes;
      try {
        bytes = new Uint8Array(await file.arrayBuffer());
      } catch (error) {
        throw new Error(`${file.name}: the browser could not read the file (${error?.message ?? error})`);
      }
      fresh.addFile(file.name, bytes);
    }
  } catch (error) {
    fresh.free();
    throw error;
  }
  studio = fresh;
  return { value: files.map((f) => ({ name: f.name, size: f.size })) };
}

/** Asks the training under way to end now, keeping the best model so far. */
function stopTraining() {
  stopping = true;
  try {
    studio?.stop();
  } catch {
    // Not training (any more): nothing to stop.
  }
}

/** Lets the worker's event loop run (a 'stop' message is seen here). */
const breathe = () => new Promise((ok) => setTimeout(ok, 0));

/**
 * Trains with `settings` until the Studio says it is done (epochs run, early stop, or
 * stopped), posting progress after every slice; then gathers the result: the best model
 * stored at `precision` and measured on the test cases beside the baselines, its bundle,
 * the catalogue skeleton and `exampleCount` example sessions with their recommendations
 * and reasons.
 */
async function train(id, settings, precision, exampleCount) {
  const s = current();
  stopping = false;
  const plan = await s.start(settings);
  self.postMessage({ type: 'progress', id, plan });
  let last = null;
  for (;;) {
    await breathe();
    if (stopping) {
      // stop() has ended the training; one more step reports where it ended.
      try {
        last = await s.step(0);
      } catch {
        last = { ...(last ?? {}), done: true, reason: 'stopped' };
      }
      if (!last?.done) last = { ...last, done: true, reason: 'stopped' };
    } else {
      last = await s.step(STEP_MS);
    }
    self.postMessage({ type: 'progress', id, progress: last });
    if (last.done) break;
  }
  stopping = false;
  const report = s.finish(precision);
  const bytes = s.bundle();
  const catalogue = s.catalogue();
  const examples = await explainExamples(bytes, s.examples(exampleCount));
  return { value: { plan, last, report, examples, bundle: bytes.buffer, catalogue }, transfer: [bytes.buffer] };
}

/**
 * Loads the bundle's bytes into the build's inference class (the same code the widget
 * runs) and recommends for each example session, with each item's reasons: `[{ session:
 * [{ id, title }], items: [{ id, title, score, because: [{ id, title, weight }] }], unknown }]`.
 */
async function explainExamples(bytes, sessions) {
  const rec = await Recommender.load(bytes.slice(), { backend: 'cpu' });
  try {
    /** An item's title from the bundle, or null. */
    const title = (id) => rec.title(id) ?? null;
    const out = [];
    for (const session of sessions) {
      const answer = await rec.recommend(session, { k: EXAMPLE_K, explain: true });
      out.push({
        session: session.map((id) => ({ id, title: title(id) })),
        items: answer.items.map((item) => ({
          id: item.id, title: item.title ?? title(item.id), score: item.score,
          because: (item.because ?? []).map((b) => ({ id: b.id, title: title(b.id), weight: b.weight })),
        })),
        unknown: answer.unknown,
      });
    }
    return out;
  } finally {
    rec.free();
  }
}
