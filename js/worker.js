// awrsr's module Worker, started by client.js (`new Worker(new URL('./worker.js',
// import.meta.url), { type: 'module' })`): it downloads the wasm module and the model (in
// parallel, progress posted back), loads the model, and answers the client's calls one at a
// time. Messages in: `{ type: 'load', source, backend }` once, then `{ type: 'call', id,
// method, args }`. Messages out: `{ type: 'progress', progress }`, then `{ type: 'loaded',
// facts }` or `{ type: 'refused', error }`, then `{ type: 'result' | 'error', id, value |
// error }` per call. Errors cross as `{ name, message }`.
import { startEngine, errorData } from './client.js';

/** The loaded engine (a promise, so a call cannot overtake the load). */
let engine = null;

self.addEventListener('message', ({ data }) => {
  if (data?.type === 'load' && !engine) loadModel(data);
  else if (data?.type === 'call') answer(data);
});

/** Loads the model and says whether it worked. */
function loadModel({ source, backend }) {
  const onProgress = (progress) => self.postMessage({ type: 'progress', progress });
  engine = startEngine(source, { backend, onProgress });
  engine.then(
    ({ facts }) => self.postMessage({ type: 'loaded', facts }),
    (error) => self.postMessage({ type: 'refused', error: errorData(error) }),
  );
}

/** Runs one call on the engine and posts its answer (or its error). */
async function answer({ id, method, args }) {
  try {
    if (!engine) throw new Error('awrsr worker: no model loaded');
    const value = await (await engine).call(method, args);
    self.postMessage({ type: 'result', id, value });
  } catch (error) {
    self.postMessage({ type: 'error', id, error: errorData(error) });
  }
}
