// Loading the engine and models: client.js is imported at run time from the package folder,
// once per folder, and each model once per URL and settings, shared by every widget that
// asks for it. The first model loaded decides which viewed ids are known (session.js).
import { store } from './store.js';
import { folderUrl } from './settings.js';
import { adoptChecker } from './session.js';

/** The client.js module of a package folder, imported once (again after a failure). */
function importClient(folder) {
  const { clients } = store;
  if (!clients.has(folder)) {
    // Resolved at run time, not by a bundler: the engine stays out of the page's bundle.
    const module = import(/* webpackIgnore: true */ /* @vite-ignore */ new URL('client.js', folder).href);
    clients.set(folder, module);
    module.catch(() => clients.delete(folder));
  }
  return clients.get(folder);
}

/**
 * Loads the engine (client.js from the package folder) once and a model once per URL and
 * settings; several widgets share it. `onProgress` receives client.js's progress objects
 * `{ loaded, total, wasm, model }` (totals null when unknown). Resolves to the client's
 * recommender, whose methods are all async.
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
    entry = { listeners: new Set(), last: null };
    const report = (p) => { entry.last = p; for (const listener of entry.listeners) listener(p); };
    entry.promise = importClient(folder).then((client) => client.load(modelUrl, { backend, worker, onProgress: report }));
    models.set(key, entry);
    entry.promise.then(adoptChecker, () => models.delete(key));
  }
  if (onProgress) listen(entry, onProgress);
  return entry.promise;
}

function listen(entry, onProgress) {
  entry.listeners.add(onProgress);
  if (entry.last) onProgress(entry.last);
  const stop = () => entry.listeners.delete(onProgress);
  entry.promise.then(stop, stop);
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
