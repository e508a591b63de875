// The page API: the `awrsr` global and its command queue. A classic script may fill
// `window.awrsr` with commands before the widget module has loaded; `installGlobal` (called
// by the entry, awrsr-widget.js) replays them in order and puts the API in its place.
import { session, view } from './session.js';
import { config } from './settings.js';
import { catalogue, loadCatalogue } from './catalogue.js';
import { convert, forgetTracked } from './analytics.js';
import { variant } from './ab.js';

/** Forgets the visitor's session (and which items were shown and clicked; the A/B arm stays). */
export function forget() {
  forgetTracked();
  session.clear();
}

const commands = { view, forget, config, catalogue, convert };

/**
 * Runs queued commands: `['view', id]`, `['forget']`, `['config', { pkg, backend, worker, ab }]`,
 * `['catalogue', data or URL]`, `['convert', id]`. Unknown commands are reported on the console.
 * @param {...Array<unknown>} entries
 * @returns {number} how many were given
 */
export function push(...entries) {
  for (const entry of entries) {
    try {
      run(entry);
    } catch (error) {
      console.error('awrsr: a queued command failed', entry, error); // the rest still run
    }
  }
  return entries.length;
}

function run(entry) {
  const [name, ...args] = Array.isArray(entry) ? entry : [];
  if (name === 'catalogue' && (typeof args[0] === 'string' || args[0] instanceof URL)) loadCatalogue(args[0]);
  else if (Object.hasOwn(commands, name)) commands[name](...args);
  else console.warn('awrsr: unknown command', entry);
}

/** The page API, as `window.awrsr` once the widget module has loaded. */
export const api = { push, view, forget, config, catalogue, convert, variant, session };

/** Replaces `window.awrsr` with the API, after running the commands queued in it. */
export function installGlobal() {
  const queued = window.awrsr;
  window.awrsr = api;
  if (Array.isArray(queued)) push(...queued);
  else if (queued && typeof queued === 'object' && queued !== api) console.warn('awrsr: window.awrsr was set to something else; replaced');
}
