// The widget's own stylesheet: zero specificity (:where), scoped to the element, added once
// per document as a constructed stylesheet (no style-src 'unsafe-inline' needed), or as a
// <style> element in browsers without adoptedStyleSheets.
import { el } from './render.js';

const STYLE = `
:where(awrsr-recommendations) { display: block; --awrsr-accent: #4338ca; --awrsr-line: #d1d5db; --awrsr-card: #fff; --awrsr-muted: #4b5563; --awrsr-error: #b91c1c; }
:where(awrsr-recommendations[hidden]) { display: none; }
:where(awrsr-recommendations .awrsr-rail) {
  display: grid; grid-auto-flow: column; grid-auto-columns: minmax(140px, 180px); gap: .75rem;
  overflow-x: auto; padding: 6px; list-style: none;
}
:where(awrsr-recommendations .awrsr-card) { display: block; min-width: 0; }
:where(awrsr-recommendations .awrsr-card-button) {
  box-sizing: border-box; display: flex; flex-direction: column; gap: .3rem; width: 100%; height: 100%; min-height: 44px;
  padding: .5rem; margin: 0; text-align: left; font: inherit; color: inherit; text-decoration: none;
  background: var(--awrsr-card); border: 1px solid var(--awrsr-line); border-radius: 8px; cursor: pointer;
}
:where(awrsr-recommendations .awrsr-card-button:hover) { border-color: var(--awrsr-accent); }
:where(awrsr-recommendations :focus-visible) { outline: 3px solid var(--awrsr-accent); outline-offset: 2px; }
:where(awrsr-recommendations .awrsr-cover, awrsr-recommendations .awrsr-image) {
  display: flex; align-items: center; justify-content: center; width: 100%; aspect-ratio: 2 / 3; border-radius: 6px;
  object-fit: cover; color: #fff; font-weight: 700; font-size: 1.5rem; text-shadow: 0 1px 3px rgb(0 0 0 / .35);
}
:where(awrsr-recommendations .awrsr-card-title) { font-weight: 600; font-size: .9rem; line-height: 1.25; }
:where(awrsr-recommendations .awrsr-card-because) { color: var(--awrsr-muted); font-size: .75rem; }
:where(awrsr-recommendations .awrsr-message) { margin: 0 0 .5rem; color: var(--awrsr-muted); font-size: .85rem; }
:where(awrsr-recommendations .awrsr-message.awrsr-error) { color: var(--awrsr-error); overflow-wrap: anywhere; }
:where(awrsr-recommendations .awrsr-progress) { display: block; width: 100%; max-width: 16rem; height: .5rem; }
:where(awrsr-recommendations .awrsr-message:empty, awrsr-recommendations .awrsr-progress[hidden]) { display: none; }
:where(awrsr-recommendations .awrsr-visually-hidden) {
  position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}`;

/** Marks the widget's constructed sheet (shared by every copy of this module on the page). */
const SHEET = Symbol.for('awrsr.stylesheet');

/** A constructed stylesheet with STYLE, or null where the browser cannot adopt one. */
function constructedSheet() {
  if (!('adoptedStyleSheets' in Document.prototype) || typeof CSSStyleSheet !== 'function' || typeof CSSStyleSheet.prototype.replaceSync !== 'function') return null;
  try {
    const sheet = new CSSStyleSheet(); // "Illegal constructor" in older browsers
    sheet.replaceSync(STYLE);
    sheet[SHEET] = true;
    return sheet;
  } catch {
    return null;
  }
}

/**
 * Adds the widget's stylesheet once per document: a constructable stylesheet adopted by the
 * document (CSSOM, so a CSP without style-src 'unsafe-inline' allows it), appended to the
 * page's own adopted sheets; else, in browsers without adoptedStyleSheets, a <style> element.
 */
export function injectStyle() {
  const adopted = document.adoptedStyleSheets;
  if (adopted?.some((sheet) => sheet[SHEET]) || document.querySelector('style[data-awrsr]')) return;
  const sheet = constructedSheet();
  if (sheet) {
    document.adoptedStyleSheets = [...adopted, sheet];
    return;
  }
  const style = el('style', { 'data-awrsr': '' });
  style.textContent = STYLE;
  document.head.prepend(style); // first, so the shop's own rules win ties
}
