// Page-wide settings: where the engine comes from, which backend, whether a Worker, and the
// A/B split (`awrsr.config(…)` or `['config', …]` in the queue).
import { store } from './store.js';
import { checkedAb, copyAb } from './ab.js';

/** A package folder as an absolute URL ending in '/'. */
export function folderUrl(pkg) {
  const url = new URL(String(pkg), document.baseURI);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url.href;
}

/**
 * Page-wide settings: `pkg` (the folder holding client.js and the engine, to serve them
 * from elsewhere than this package; by default this package's own), `backend`
 * ('auto' | 'webgpu' | 'cpu'), `worker` ('auto' | true | false) and `ab` (an A/B split,
 * `{ name, share, holdout, control }`, see ab.js; `null` ends it). Applies to models and
 * widgets started afterwards; returns the settings now in force.
 * @param {{ pkg?: string | URL, backend?: string, worker?: 'auto' | boolean, ab?: object | null | false }} [options]
 */
export function config(options = {}) {
  const { settings } = store;
  if (options.ab !== undefined) settings.ab = options.ab === null || options.ab === false ? null : checkedAb(options.ab);
  if (options.pkg != null) settings.pkg = folderUrl(options.pkg);
  if (options.backend != null) settings.backend = String(options.backend);
  if (options.worker != null) settings.worker = options.worker;
  return { ...settings, ab: copyAb(settings.ab) };
}
