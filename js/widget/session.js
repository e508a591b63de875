// The visitor's session: the ids of the products viewed, oldest first, in localStorage only.
// Once a model has loaded, a view of an id it does not know is reported and left out; views
// made before are checked when it loads.
import { store } from './store.js';

const STORAGE_KEY = 'awrsr.session';
/** Views kept per visitor (the model reads the newest ones anyway). */
const MAX_SESSION = 200;

/**
 * A list of ids kept in localStorage under `key` (an empty list when storage is blocked or damaged).
 * @param {string} key
 * @returns {string[]}
 */
export function storedIds(key) {
  try {
    const ids = JSON.parse(localStorage.getItem(key) ?? '[]');
    return Array.isArray(ids) ? ids.filter((id) => typeof id === 'string') : [];
  } catch {
    return [];
  }
}

/** The visitor's session: viewed item ids, oldest first, in localStorage. */
export const session = {
  /** The stored ids, oldest first (an empty list when storage is blocked or damaged). */
  get() {
    return storedIds(STORAGE_KEY);
  },
  /** Appends one id (unchecked: use `view` to report a view). */
  add(id) {
    this.save([...this.get(), String(id)].slice(-MAX_SESSION));
  },
  /** Empties the session. */
  clear() {
    this.save([]);
  },
  /** Stores `ids` and fires `awrsr:session` on the document. */
  save(ids) {
    try { localStorage.setItem(STORAGE_KEY, JSON.stringify(ids)); } catch { /* storage full or blocked: keep going */ }
    document.dispatchEvent(new CustomEvent('awrsr:session', { detail: { ids } }));
  },
};

/**
 * Runs `task` after every check queued before it.
 * @template T
 * @param {() => T | Promise<T>} task
 * @returns {Promise<T>}
 */
function serially(task) {
  const done = store.checks.then(task);
  store.checks = done.catch(() => {});
  return done;
}

/** Makes the first model loaded on the page the one that decides which viewed ids are known. */
export function adoptChecker(rec) {
  if (store.checker) return;
  store.checker = rec;
  serially(() => dropUnknown(rec));
}

/** Views made before a model was loaded are checked when it loads. */
async function dropUnknown(rec) {
  const ids = session.get();
  if (!ids.length) return;
  const known = await rec.hasItems(ids);
  const unknown = new Set(ids.filter((_, i) => !known[i]));
  if (!unknown.size) return;
  session.save(session.get().filter((id) => !unknown.has(id)));
  reportUnknown([...unknown]);
}

function reportUnknown(ids) {
  console.warn(`awrsr: unknown product id${ids.length === 1 ? '' : 's'} not recorded: ${ids.join(', ')}`);
  document.dispatchEvent(new CustomEvent('awrsr:unknown', { bubbles: true, detail: { ids } }));
}

async function checkedAdd(id) {
  let known = true;
  try {
    [known] = await store.checker.hasItems([id]);
  } catch (error) {
    console.error('awrsr: could not check a viewed id', error);
  }
  if (!known) {
    reportUnknown([id]);
    return false;
  }
  session.add(id);
  return true;
}

/**
 * Reports that the visitor viewed a product: every widget on the page updates. Resolves to
 * whether the id was recorded: once a model has loaded, ids it does not know are reported
 * (`awrsr:unknown`, a console warning) and left out; earlier views are checked when it loads.
 * @param {string} id
 * @returns {Promise<boolean>}
 */
export function view(id) {
  if (id == null || id === '') {
    console.warn('awrsr: view() needs a product id');
    return Promise.resolve(false);
  }
  const text = String(id);
  if (!store.checker) {
    session.add(text);
    return Promise.resolve(true);
  }
  return serially(() => checkedAdd(text));
}

/** Records a view of an item the model recommended (known by construction): at once, so a link can navigate. */
export function viewRecommended(id) {
  session.add(id);
}
