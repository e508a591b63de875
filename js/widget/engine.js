// Loading the engine and models: client.js is imported when a rail first needs it (this
// package's own, which a bundler follows, or the one in a folder `config({ pkg })` names), and
// each model once per URL and settings, shared by every widget that asks for it; client.js
// shares that engine in turn with the page's own `load` of the same URL. The first model
// loaded decides which viewed ids are known (session.js).
import { store } from './store.js';
import { folderUrl } from './settings.js';
import { adoptChecker } from './session.js';
import { progressFanOut } from '../progress.js';

/** The client.js module of a package folder (null: this package's), imported once (again after a failure). */
function importClient(folder) {
  const { clients } = store;
  if (!clients.has(folder)) {
    const module = folder === null
      ? import('../client.js')
      // Resolved at run time, not by a bundler: the page chose where the engine is served.
      : import(/* webpackIgnore: true */ /* @vite-ignore */ new URL('client.js', folder).href);
    clients.set(folder, module);
    module.catch(() => clients.delete(folder));
  }
  return clients.get(folder);
}

/**
 * Loads the engine (client.js) once and a model once per URL and settings; several widgets
 * share it. `onProgress` receives client.js's progress objects `{ loaded, total, wasm, model }`
 * (totals null when unknown). Resolves to the client's recommender, whose methods are all async.
 * @param {string | URL} url
 * @param {{ backend?: string, worker?: 'auto' | boolean, pkg?: string | URL, onProgress?: (progress: object) => void }} [options]
 */
export function loadModel(url, { backend = store.settings.backend, worker = store.settings.worker, pkg, onProgress } = {}) {
  const folder = pkg != null ? folderUrl(pkg) : store.settings.pkg;
  const modelUrl = new URL(String(url), document.baseURI).href; // a Worker would resolve it against client.js
  const key = JSON.stringify([folder, modelUrl, backend, worker]);
  const { models } = store;
  let entry = models.get(key);
  if (!entry) {
    const progress = progressFanOut();
    const promise = importClient(folder).then((client) => client.load(modelUrl, { backend, worker, onProgress: progress.report }));
    entry = { progress, promise };
    models.set(key, entry);
    promise.then(adoptChecker, () => models.delete(key));
  }
  if (onProgress) {
    const unlisten = entry.progress.listen(onProgress);
    entry.promise.then(unlisten, unlisten);
  }
  return entry.promise;
}

/**
 * The share of a progress report that has arrived, from 0 to 1, or null when the size is unknown.
 * @param {{ loaded?: number, total?: number | null } | null | undefined} progress
 * @returns {number | null}
 */
export function progressFraction(progress) {
  const { loaded, total } = progress ?? {};
  return total > 0 ? Math.min(1, loaded / total) : null;
}
