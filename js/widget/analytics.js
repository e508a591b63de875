// Analytics events: awrsr:impression, awrsr:click (on the element, fired by element.js),
// awrsr:conversion (on the document, here). DOM events only: nothing is sent anywhere. Which
// ids were shown (seen in the viewport) and clicked is kept beside the session in
// localStorage, the newest MAX_TRACKED of each, so a later conversion can say whether a rail
// led to it.
import { storedIds } from './session.js';
import { variant } from './ab.js';

/** localStorage keys of the ids rails showed and the ids followed from a rail. */
export const SHOWN_KEY = 'awrsr.shown';
export const CLICKED_KEY = 'awrsr.clicked';
/** Ids kept per list (shown, clicked). */
const MAX_TRACKED = 500;
/** Share of the rail that must be in the viewport for an impression. */
export const IMPRESSION_RATIO = 0.5;

/**
 * Adds ids to a tracked list (newest last, each once, at most MAX_TRACKED).
 * @param {string} key SHOWN_KEY or CLICKED_KEY
 * @param {string[]} ids
 */
export function track(key, ids) {
  const added = new Set(ids);
  const kept = storedIds(key).filter((id) => !added.has(id));
  try { localStorage.setItem(key, JSON.stringify([...kept, ...added].slice(-MAX_TRACKED))); } catch { /* storage full or blocked */ }
}

/** Forgets which ids were shown and clicked. */
export function forgetTracked() {
  try {
    localStorage.removeItem(SHOWN_KEY);
    localStorage.removeItem(CLICKED_KEY);
  } catch { /* blocked */ }
}

/**
 * Reports a purchase or add-to-cart of item `id`: fires `awrsr:conversion` on the document
 * (bubbling) with `{ id, variant, recommended, clicked }`: the visitor's arm, whether a rail
 * showed the item to this visitor and whether they followed it from a rail. Returns the
 * detail (null without an id). Nothing is sent anywhere.
 * @param {string} id
 */
export function convert(id) {
  if (id == null || id === '') {
    console.warn('awrsr: convert() needs a product id');
    return null;
  }
  const text = String(id);
  const detail = { id: text, variant: variant(), recommended: storedIds(SHOWN_KEY).includes(text), clicked: storedIds(CLICKED_KEY).includes(text) };
  document.dispatchEvent(new CustomEvent('awrsr:conversion', { bubbles: true, detail: { ...detail } }));
  return detail;
}
