// The shop's catalogue (titles, links and images, from `catalogue(data)` or a JSON file) and
// the model's titles it learns along the way: together they name an item wherever one is
// shown (`nameOf`). The demo storefront shares these helpers.
import { store } from './store.js';

/**
 * A URL safe to put in `href` or `src`: http(s), or relative (resolved against the page);
 * anything else (`javascript:`, `data:`, …) gives null.
 * @param {unknown} raw
 * @returns {string | null}
 */
export function safeUrl(raw) {
  if (typeof raw !== 'string' && !(raw instanceof URL)) return null;
  const text = String(raw).trim();
  if (!text) return null;
  const compact = text.replace(/[\u0000-\u0020\u007f]/g, ''); // what URL parsing skips inside a scheme
  const scheme = /^([a-z][a-z\d+.-]*):/i.exec(compact)?.[1].toLowerCase();
  if (scheme && scheme !== 'http' && scheme !== 'https') return null;
  try {
    return new URL(text, document.baseURI).href;
  } catch {
    return null;
  }
}

function entriesOf(data) {
  if (Array.isArray(data)) return data.filter((e) => e && e.id != null).map((e) => [String(e.id), e]);
  return data && typeof data === 'object' ? Object.entries(data) : [];
}

function productOf(entry) {
  const product = {};
  if (typeof entry?.title === 'string') product.title = entry.title;
  const url = safeUrl(entry?.url ?? entry?.href);
  if (url) product.url = url;
  const image = safeUrl(entry?.image);
  if (image) product.image = image;
  return product;
}

/**
 * Adds product details: `{ 'SKU-1': { title, url, image } }` or `[{ id, title, url, image }]`.
 * Unsafe URLs are dropped. Widgets already shown are drawn again with them.
 */
export function catalogue(data) {
  const { products } = store;
  for (const [id, entry] of entriesOf(data)) products.set(id, { ...products.get(id), ...productOf(entry) });
  for (const widget of store.widgets) widget.redraw();
}

/**
 * Fetches a catalogue file (JSON, as for `catalogue`) once per URL. A failure is logged, not fatal.
 * @param {string | URL} url
 * @returns {Promise<void>}
 */
export function loadCatalogue(url) {
  const href = new URL(String(url), document.baseURI).href;
  const files = store.catalogueFiles;
  if (!files.has(href)) {
    files.set(href, fetch(href)
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`catalogue ${href}: HTTP ${r.status}`))))
      .then(catalogue, (error) => console.error('awrsr: the catalogue did not load', error)));
  }
  return files.get(href);
}

/**
 * A product's details from the shop's catalogue (`{}` when it has none).
 * @param {string} id
 * @returns {{ title?: string, url?: string, image?: string }}
 */
export function product(id) {
  return store.products.get(id) ?? {};
}

/**
 * Keeps the model's titles of items (`{ id, title }`; items without a title are skipped), for `nameOf`.
 * @param {Iterable<{ id: string, title?: string | null }>} items
 */
export function rememberTitles(items) {
  for (const item of items) if (item.title != null) store.titles.set(item.id, item.title);
}

/**
 * Learns the names a result needs: its items' titles, and, for each `because` id the shop's
 * catalogue does not name, the model's title (asked of `rec`; the id itself when it has none).
 * @param {{ title(id: string): Promise<string | undefined> }} rec
 * @param {{ items: Array<{ id: string, title?: string | null, because?: Array<{ id: string }> }> }} out
 */
export async function learnTitles(rec, out) {
  const { titles } = store;
  rememberTitles(out.items);
  const missing = [...new Set(out.items.flatMap((i) => (i.because ?? []).map((b) => b.id)))]
    .filter((id) => !store.products.get(id)?.title && !titles.has(id));
  const found = await Promise.all(missing.map((id) => rec.title(id)));
  missing.forEach((id, i) => titles.set(id, found[i] ?? id));
}

/**
 * The name shown for an item: the shop's title, else the model's, else the id.
 * @param {string} id
 * @returns {string}
 */
export function nameOf(id) {
  return store.products.get(id)?.title ?? store.titles.get(id) ?? id;
}
