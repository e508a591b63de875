// awrsr's embeddable widget and page API, one ES module that lives in the package beside
// client.js:
//
//   <script>window.awrsr = window.awrsr || []; awrsr.push(['view', 'SKU-1']);</script>
//   <script type="module" src="/static/awrsr/awrsr-widget.js"></script>
//   <awrsr-recommendations model="/static/awrsr/model.awrsr" k="8" loading="lazy"></awrsr-recommendations>
//
// It defines <awrsr-recommendations>, keeps the visitor's session (localStorage only),
// replays the `awrsr` command queue a classic script may have filled before this module
// loaded, and exports the helpers the demo storefront shares. Recommendations are computed
// in this browser, in a Worker where one exists (client.js); after the engine, the model and
// the shop's catalogue have loaded, nothing here makes a network request.

// ---------------------------------------------------------------------------------------
// Settings

/** Where client.js is looked for unless a `pkg` attribute or `config({ pkg })` says otherwise. */
const HERE = new URL('./', import.meta.url).href;
const settings = { pkg: HERE, backend: 'auto', worker: 'auto', ab: null };

/** A package folder as an absolute URL ending in '/'. */
function folderUrl(pkg) {
  const url = new URL(String(pkg), document.baseURI);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url.href;
}

/**
 * Page-wide settings: `pkg` (the folder holding client.js and the engine), `backend`
 * ('auto' | 'webgpu' | 'cpu'), `worker` ('auto' | true | false) and `ab` (an A/B split,
 * `{ name, share, holdout, control }`, see "A/B split" below; `null` ends it). Applies to
 * models and widgets started afterwards; returns the settings now in force.
 */
export function config(options = {}) {
  if (options.ab !== undefined) settings.ab = options.ab === null || options.ab === false ? null : checkedAb(options.ab);
  if (options.pkg != null) settings.pkg = folderUrl(options.pkg);
  if (options.backend != null) settings.backend = String(options.backend);
  if (options.worker != null) settings.worker = options.worker;
  return { ...settings, ab: copyAb(settings.ab) };
}

// ---------------------------------------------------------------------------------------
// The visitor's session

const STORAGE_KEY = 'awrsr.session';
/** Views kept per visitor (the model reads the newest ones anyway). */
const MAX_SESSION = 200;

/** A list of ids kept in localStorage under `key` (an empty list when storage is blocked or damaged). */
function storedIds(key) {
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

// ---------------------------------------------------------------------------------------
// Loading the engine and models

const clients = new Map(); // package folder -> Promise of the client.js module
const models = new Map(); // JSON [folder, model URL, backend, worker] -> { promise, listeners, last }

function importClient(folder) {
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
 */
export function loadModel(url, { backend = settings.backend, worker = settings.worker, pkg, onProgress } = {}) {
  const folder = pkg != null ? folderUrl(pkg) : settings.pkg;
  const modelUrl = new URL(String(url), document.baseURI).href; // a Worker would resolve it against client.js
  const key = JSON.stringify([folder, modelUrl, backend, worker]);
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

/** The share of a progress report that has arrived, from 0 to 1, or null when the size is unknown. */
export function progressFraction(progress) {
  const { loaded, total } = progress ?? {};
  return total > 0 ? Math.min(1, loaded / total) : null;
}

// ---------------------------------------------------------------------------------------
// Views, and ids the model does not know

/** The first model loaded on this page: it decides which viewed ids are known. */
let checker = null;
let checks = Promise.resolve();

function serially(task) {
  const done = checks.then(task);
  checks = done.catch(() => {});
  return done;
}

function adoptChecker(rec) {
  if (checker) return;
  checker = rec;
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
    [known] = await checker.hasItems([id]);
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
 */
export function view(id) {
  if (id == null || id === '') {
    console.warn('awrsr: view() needs a product id');
    return Promise.resolve(false);
  }
  const text = String(id);
  if (!checker) {
    session.add(text);
    return Promise.resolve(true);
  }
  return serially(() => checkedAdd(text));
}

/** Records a view of an item the model recommended (known by construction): at once, so a link can navigate. */
function viewRecommended(id) {
  session.add(id);
}

/** Forgets the visitor's session (and which items were shown and clicked; the A/B arm stays). */
export function forget() {
  forgetTracked();
  session.clear();
}

// ---------------------------------------------------------------------------------------
// A/B split: each visitor is put, once and at random, in one arm of an experiment
//
// `awrsr.config({ ab: { name, share, holdout, control } })` or the element's attributes
// `ab`, `ab-share`, `ab-holdout`, `ab-control`. Arms: 'awrsr' (the model's rail), 'control'
// (the shop's list, by default the model's empty-session list, i.e. its best sellers) and
// 'holdout' (no rail). The arm is drawn with crypto.getRandomValues, never from anything
// about the visitor, and kept in localStorage under `awrsr.ab.<name>`: a new name draws anew.

/** The arms a visitor can be in. */
const ARMS = ['awrsr', 'control', 'holdout'];
const AB_KEY = 'awrsr.ab.';
const AB_OPTIONS = ['name', 'share', 'holdout', 'control'];
/** Arms drawn on this page when localStorage is blocked (then stable for this page only). */
const drawnArms = new Map();

/** A share of visitors, checked: a number from 0 to 1. */
function fraction(value, what) {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new TypeError(`awrsr ab: ${what} must be a number from 0 to 1`);
  return value;
}

/** The control list, checked: 'bestsellers' or a list of the shop's item ids. */
function controlOf(control) {
  if (control === 'bestsellers') return control;
  if (Array.isArray(control) && control.length && control.every((id) => typeof id === 'string' || Number.isFinite(id))) return control.map(String);
  throw new TypeError("awrsr ab: control must be 'bestsellers' or a non-empty list of item ids");
}

/** An experiment's settings, checked, with defaults: `{ name: 'ab', share: 0.5, holdout: 0, control: 'bestsellers' }`. */
function checkedAb(ab) {
  if (ab === null || typeof ab !== 'object' || Array.isArray(ab)) throw new TypeError('awrsr config: ab must be an object { name, share, holdout, control }');
  const unknown = Object.keys(ab).filter((key) => !AB_OPTIONS.includes(key));
  if (unknown.length) throw new TypeError(`awrsr ab: unknown option ${unknown.join(', ')} (known: ${AB_OPTIONS.join(', ')})`);
  const { name = 'ab', share = 0.5, holdout = 0, control = 'bestsellers' } = ab;
  if (typeof name !== 'string' || !name.trim()) throw new TypeError('awrsr ab: name must be a non-empty string');
  return Object.freeze({ name: name.trim(), share: fraction(share, 'share'), holdout: fraction(holdout, 'holdout'), control: controlOf(control) });
}

/** A copy the caller may change. */
function copyAb(ab) {
  return ab && { ...ab, control: Array.isArray(ab.control) ? [...ab.control] : ab.control };
}

/** Elements whose wrong `ab*` attributes were reported (once each). */
const warnedAb = new WeakSet();

/** An element's own experiment from its `ab*` attributes, or null without an `ab` attribute or when they are wrong. */
function abFromAttributes(node) {
  const name = node.getAttribute('ab');
  if (name == null) return null;
  const number = (attribute) => (node.hasAttribute(attribute) ? Number(node.getAttribute(attribute)) : undefined);
  const control = node.getAttribute('ab-control')?.trim();
  try {
    return checkedAb({
      name, share: number('ab-share'), holdout: number('ab-holdout'),
      control: control == null || control === 'bestsellers' ? undefined : control.split(/[\s,]+/).filter(Boolean),
    });
  } catch (error) {
    if (!warnedAb.has(node)) console.warn(`awrsr: the element's ab attributes are ignored: ${error.message}`);
    warnedAb.add(node);
    return null;
  }
}

/** A fresh random arm: 'holdout' with probability `holdout`, else 'awrsr' with probability `share`, else 'control'. */
function drawArm({ share, holdout }) {
  const u = crypto.getRandomValues(new Uint32Array(1))[0] / 2 ** 32; // uniform in [0, 1)
  if (u < holdout) return 'holdout';
  return u < holdout + (1 - holdout) * share ? 'awrsr' : 'control';
}

/** The visitor's arm in experiment `ab`: the stored one, else drawn now and stored; 'awrsr' without an experiment. */
function armOf(ab) {
  if (!ab) return 'awrsr';
  const key = AB_KEY + ab.name;
  let arm;
  try { arm = localStorage.getItem(key); } catch { /* blocked: fall back to this page's draw */ }
  if (ARMS.includes(arm)) return arm;
  arm = drawnArms.get(key) ?? drawArm(ab);
  drawnArms.set(key, arm);
  try { localStorage.setItem(key, arm); } catch { /* storage full or blocked: stable for this page only */ }
  return arm;
}

/** The page's experiment: the `ab` setting, else the first widget on the page with `ab` attributes, else null. */
function pageExperiment() {
  if (settings.ab) return settings.ab;
  for (const widget of widgets) {
    const ab = abFromAttributes(widget);
    if (ab) return ab;
  }
  return null;
}

/**
 * The visitor's arm in the page's experiment ('awrsr', 'control' or 'holdout'; 'awrsr' when
 * there is no A/B setting). The first call for an experiment draws it; later calls, on any
 * page and after reloads, give the same arm.
 */
export function variant() {
  return armOf(pageExperiment());
}

/** The list a control rail shows: the shop's ids, or the model's answer for an empty session. */
async function controlList(rec, ab, k) {
  if (Array.isArray(ab.control)) return shopList(rec, ab.control.slice(0, k));
  // An empty session (no `supersede`): a widget's newer recommendation may still abort it while it waits.
  for (let tries = 1; ; tries++) {
    try {
      return await rec.recommend([], { k, explain: true });
    } catch (error) {
      if (error?.name !== 'AbortError' || tries >= 20) throw error;
    }
  }
}

/** The shop's own ids as a result, in the shop's order: no score, no reasons; ids the model does not know are listed in `unknown` (and still shown). */
async function shopList(rec, ids) {
  const started = performance.now();
  const [known, found] = await Promise.all([rec.hasItems(ids), Promise.all(ids.map((id) => rec.title(id)))]);
  ids.forEach((id, i) => { if (found[i] != null) titles.set(id, found[i]); });
  return {
    items: ids.map((id) => ({ id, because: [] })),
    unknown: ids.filter((_, i) => !known[i]),
    backend: rec.backend,
    ms: performance.now() - started,
  };
}

// ---------------------------------------------------------------------------------------
// Analytics events: awrsr:impression, awrsr:click (on the element), awrsr:conversion (on
// the document). DOM events only: nothing is sent anywhere. Which ids were shown (seen in
// the viewport) and clicked is kept beside the session in localStorage, the newest
// MAX_TRACKED of each, so a later conversion can say whether a rail led to it.

const SHOWN_KEY = 'awrsr.shown';
const CLICKED_KEY = 'awrsr.clicked';
/** Ids kept per list (shown, clicked). */
const MAX_TRACKED = 500;
/** Share of the rail that must be in the viewport for an impression. */
const IMPRESSION_RATIO = 0.5;

/** Adds ids to a tracked list (newest last, each once, at most MAX_TRACKED). */
function track(key, ids) {
  const added = new Set(ids);
  const kept = storedIds(key).filter((id) => !added.has(id));
  try { localStorage.setItem(key, JSON.stringify([...kept, ...added].slice(-MAX_TRACKED))); } catch { /* storage full or blocked */ }
}

function forgetTracked() {
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

// ---------------------------------------------------------------------------------------
// The shop's catalogue: titles, links and images

const products = new Map(); // id -> { title?, url?, image? }
const catalogueFiles = new Map(); // URL -> Promise

/**
 * A URL safe to put in `href` or `src`: http(s), or relative (resolved against the page);
 * anything else (`javascript:`, `data:`, …) gives null.
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
  for (const [id, entry] of entriesOf(data)) products.set(id, { ...products.get(id), ...productOf(entry) });
  for (const widget of widgets) widget.redraw();
}

/** Fetches a catalogue file (JSON, as for `catalogue`) once per URL. A failure is logged, not fatal. */
export function loadCatalogue(url) {
  const href = new URL(String(url), document.baseURI).href;
  if (!catalogueFiles.has(href)) {
    catalogueFiles.set(href, fetch(href)
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`catalogue ${href}: HTTP ${r.status}`))))
      .then(catalogue, (error) => console.error('awrsr: the catalogue did not load', error)));
  }
  return catalogueFiles.get(href);
}

/** A product's details from the shop's catalogue (`{}` when it has none). */
export function product(id) {
  return products.get(id) ?? {};
}

// ---------------------------------------------------------------------------------------
// Drawing helpers, shared with the demo

/** Builds an element with text content only (never HTML). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value == null) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c != null));
  return node;
}

/**
 * "Because you viewed A" or "… A and B": a recommendation's own strongest `because` ids
 * (by weight, which need not sum to 1; B only when it weighs at least half as much as A).
 */
export function becauseText(item, nameOf) {
  const reasons = (item?.because ?? [])
    .filter((b) => b && Number.isFinite(b.weight) && b.weight > 0)
    .sort((a, b) => b.weight - a.weight);
  const top = reasons.slice(0, 2).filter((b, i) => i === 0 || (b.id !== reasons[0].id && b.weight >= reasons[0].weight / 2));
  const names = top.map((b) => nameOf(b.id));
  return names.length ? `Because you viewed ${names.join(' and ')}` : 'Popular right now';
}

/** A cover tile drawn from the id and title: colours from a hash, the initials on top. */
export function cover(id, title) {
  let h = 0;
  for (const c of String(id)) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const initials = String(title ?? id).split(/\s+/).map((w) => /^[\p{L}\p{N}]/u.exec(w)?.[0]).filter(Boolean).slice(0, 2).join('').toUpperCase();
  const tile = el('span', { class: 'awrsr-cover', 'aria-hidden': 'true', text: initials });
  tile.style.background = `linear-gradient(135deg, hsl(${h % 360} 60% 45%), hsl(${(h >> 8) % 360} 65% 30%))`;
  return tile;
}

const FOCUSABLE = 'a[href], button, input, select, textarea, [tabindex]';

function focusTarget(node) {
  return node?.matches(FOCUSABLE) ? node : node?.querySelector(FOCUSABLE);
}

/**
 * Runs `render()`, which rebuilds `container`, keeping keyboard focus when it was inside:
 * on the control of the same item (`data-id`) if still there, else on the first item,
 * else on `fallback` (made focusable). Focus never drops to the page's body.
 */
export function keepFocus(container, render, fallback = container) {
  const active = document.activeElement;
  const inside = active && active !== container && container.contains(active);
  const id = inside ? active.closest('[data-id]')?.dataset.id : undefined;
  render();
  if (!inside || container.contains(document.activeElement)) return;
  const items = [...container.querySelectorAll('[data-id]')];
  const same = items.find((node) => node.dataset.id === id);
  const target = focusTarget(same) ?? focusTarget(items[0]);
  if (target) return target.focus();
  if (!fallback.matches(FOCUSABLE)) fallback.tabIndex = -1;
  fallback.focus();
}

/** The sentence a polite live region says after a rail update. */
export function updateMessage(items, nameOf) {
  if (!items.length) return 'Recommendations updated: nothing to recommend yet.';
  return `Recommendations updated: ${items.length} item${items.length === 1 ? '' : 's'}, first: ${nameOf(items[0].id)}.`;
}

// ---------------------------------------------------------------------------------------
// The widget's own stylesheet: zero specificity (:where), scoped to the element

const STYLE = `
:where(awrsr-recommendations) { display: block; --awrsr-accent: #4338ca; --awrsr-line: #d1d5db; --awrsr-card: #fff; --awrsr-muted: #4b5563; }
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
function injectStyle() {
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

// ---------------------------------------------------------------------------------------
// <awrsr-recommendations>

/** Every connected widget. */
const widgets = new Set();
/** Widgets per recommender: one recommendation call per update, with their largest k. */
const groups = new Map();

function groupOf(rec) {
  if (!groups.has(rec)) groups.set(rec, { rec, widgets: new Set(), scheduled: false, ticket: 0 });
  return groups.get(rec);
}

function schedule(group) {
  if (group.scheduled) return;
  group.scheduled = true;
  queueMicrotask(() => {
    group.scheduled = false;
    update(group);
  });
}

async function update(group) {
  const members = [...group.widgets].filter((w) => w.isConnected);
  if (!members.length) return;
  const ticket = ++group.ticket;
  const k = Math.max(...members.map((w) => w.k));
  try {
    const out = await group.rec.recommend(session.get(), { k, explain: true, supersede: true });
    await learnTitles(group.rec, out);
    if (ticket === group.ticket) for (const widget of members) widget.show(out);
  } catch (error) {
    if (error?.name !== 'AbortError') for (const widget of members) widget.fail(error);
  }
}

const titles = new Map(); // id -> the model's title, for "because you viewed" names

async function learnTitles(rec, out) {
  for (const item of out.items) if (item.title != null) titles.set(item.id, item.title);
  const missing = [...new Set(out.items.flatMap((i) => (i.because ?? []).map((b) => b.id)))]
    .filter((id) => !products.get(id)?.title && !titles.has(id));
  const found = await Promise.all(missing.map((id) => rec.title(id)));
  missing.forEach((id, i) => titles.set(id, found[i] ?? id));
}

/** The name shown for an item: the shop's title, else the model's, else the id. */
export function nameOf(id) {
  return products.get(id)?.title ?? titles.get(id) ?? id;
}

document.addEventListener('awrsr:session', () => groups.forEach(schedule));

function intAttribute(node, name, fallback) {
  const value = Number.parseInt(node.getAttribute(name) ?? '', 10);
  return Number.isFinite(value) && value > 0 ? Math.min(value, 100) : fallback;
}

/** The fields a card template may show; `href` and `image` are URLs, the rest text. */
function cardValues(item, widget) {
  const details = product(item.id);
  return {
    id: item.id, title: nameOf(item.id), score: Number.isFinite(item.score) ? item.score.toFixed(3) : '',
    because: widget.because(item), href: details.url, image: details.image,
  };
}

function fillField(node, field, values) {
  if (field === 'href') {
    if (values.href) node.setAttribute('href', values.href);
    else node.removeAttribute('href');
  } else if (field === 'image') {
    if (values.image) node.setAttribute('src', values.image);
    else node.removeAttribute('src');
    if (!node.hasAttribute('alt')) node.setAttribute('alt', '');
  } else {
    node.textContent = values[field] ?? '';
  }
}

/**
 * `<awrsr-recommendations>`: a rail of recommendations for the visitor's session, updated
 * on every view. Attributes: `model` (URL, default "model.awrsr"), `k` (default 8),
 * `backend`, `pkg` (package folder), `catalogue` (JSON URL), `loading="lazy"`, `label`
 * (the list's accessible name), and an A/B split: `ab` (the experiment's name), `ab-share`,
 * `ab-holdout`, `ab-control`. A `<template>` child renders each card. Fires
 * `awrsr:recommendations` after each update, `awrsr:error` (then hides) when it cannot
 * work, `awrsr:impression` when a list is seen and `awrsr:click` when a card is followed.
 */
export class AwrsrRecommendations extends HTMLElement {
  /** How many items this widget shows. */
  get k() {
    return intAttribute(this, 'k', 8);
  }

  /** The visitor's arm for this widget: 'awrsr', 'control' or 'holdout' (fixed once the widget starts). */
  get variant() {
    return this.arm ?? armOf(abFromAttributes(this) ?? settings.ab);
  }

  connectedCallback() {
    widgets.add(this);
    if (!this.ui) this.build();
    if (this.group) this.group.widgets.add(this);
    if (this.last) this.watchImpressions();
    if (this.started) return;
    if (this.getAttribute('loading') === 'lazy' && 'IntersectionObserver' in window) this.startWhenNear();
    else this.start();
  }

  disconnectedCallback() {
    widgets.delete(this);
    this.group?.widgets.delete(this);
    this.observer?.disconnect();
    this.observer = null;
    this.sight?.disconnect();
    this.sight = null;
  }

  build() {
    injectStyle();
    this.template = this.querySelector(':scope > template');
    this.ui = {
      progress: el('progress', { class: 'awrsr-progress', max: '1', 'aria-label': 'Loading recommendations', hidden: '' }),
      message: el('p', { class: 'awrsr-message' }),
      live: el('p', { class: 'awrsr-visually-hidden', role: 'status', 'aria-live': 'polite' }),
      rail: el('div', { class: 'awrsr-rail', role: 'list', 'aria-label': this.getAttribute('label') ?? 'Recommendations' }),
    };
    const { progress, message, live, rail } = this.ui;
    this.replaceChildren(...[this.template, progress, message, live, rail].filter(Boolean));
  }

  startWhenNear() {
    this.observer = new IntersectionObserver((entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      this.observer?.disconnect();
      this.observer = null;
      this.start();
    }, { rootMargin: '200px' });
    this.observer.observe(this);
  }

  async start() {
    this.started = true;
    this.ui.progress.hidden = false;
    this.ui.message.textContent = 'Loading recommendations…';
    // `customElements.define` below starts the elements already on the page while this module
    // is still being evaluated, before the module that imported it runs: wait for that, so
    // that a `config({ pkg })` written right after the import applies to them too.
    await null;
    this.arm = this.variant;
    if (this.arm === 'holdout') return this.holdOut();
    const file = this.getAttribute('catalogue');
    try {
      this.model = new URL(this.getAttribute('model') ?? 'model.awrsr', document.baseURI).href;
      const [rec] = await Promise.all([
        loadModel(this.model, {
          backend: this.getAttribute('backend') ?? undefined,
          pkg: this.getAttribute('pkg') ?? undefined,
          onProgress: (p) => this.progress(p),
        }),
        file ? loadCatalogue(file) : null,
      ]);
      this.modelId = rec.modelHash ?? this.model;
      if (this.arm === 'control') return this.show(await controlList(rec, abFromAttributes(this) ?? settings.ab, this.k));
      this.group = groupOf(rec);
      if (this.isConnected) this.group.widgets.add(this);
      schedule(this.group);
    } catch (error) {
      this.fail(error);
    }
  }

  progress(p) {
    const fraction = progressFraction(p);
    if (fraction == null) this.ui.progress.removeAttribute('value');
    else this.ui.progress.value = fraction;
  }

  /** Draws a result; the first one quietly, later ones announced in the live region. */
  show(out) {
    const items = out.items.slice(0, this.k);
    const announce = this.last !== undefined;
    this.last = { ...out, items };
    this.ui.progress.hidden = true;
    this.redraw();
    if (announce) this.ui.live.textContent = updateMessage(items, nameOf);
    this.dispatchEvent(new CustomEvent('awrsr:recommendations', { detail: this.last, bubbles: true }));
    this.watchImpressions();
  }

  /** Draws the last result again (after the catalogue grew). */
  redraw() {
    if (!this.last) return;
    const { items } = this.last;
    this.ui.message.textContent = items.length ? '' : 'Nothing to recommend yet.';
    keepFocus(this.ui.rail, () => this.ui.rail.replaceChildren(...items.map((item, i) => this.card(item, i + 1))), this);
  }

  /** Hides the widget and reports why, to the page's code and the console only. */
  fail(error) {
    console.error('awrsr: recommendations are unavailable', error);
    this.hidden = true;
    const message = String(error?.message ?? error);
    this.dispatchEvent(new CustomEvent('awrsr:error', { bubbles: true, detail: { message } }));
  }

  because(item) {
    return becauseText(item, nameOf);
  }

  /** A card for `item`, at 1-based `position` in the rail. */
  card(item, position) {
    const values = cardValues(item, this);
    return this.template ? this.fromTemplate(item, values, position) : this.defaultCard(item, values, position);
  }

  defaultCard(item, values, position) {
    const picture = values.image
      ? el('img', { class: 'awrsr-image', src: values.image, alt: '', loading: 'lazy' })
      : cover(item.id, values.title);
    const parts = [picture, el('span', { class: 'awrsr-card-title', text: values.title }), el('span', { class: 'awrsr-card-because', text: values.because })];
    const follow = () => {
      this.followed(item.id, position);
      viewRecommended(item.id);
    };
    const control = values.href
      ? el('a', { class: 'awrsr-card-button', href: values.href, 'data-id': item.id, onclick: follow }, ...parts)
      : el('button', { type: 'button', class: 'awrsr-card-button', 'data-id': item.id, onclick: follow }, ...parts);
    return el('div', { role: 'listitem', class: 'awrsr-card' }, control);
  }

  fromTemplate(item, values, position) {
    const card = this.template.content.cloneNode(true);
    for (const node of card.querySelectorAll('[data-field]')) fillField(node, node.dataset.field, values);
    for (const node of card.querySelectorAll('[data-action="view"]')) node.addEventListener('click', () => viewRecommended(item.id));
    const wrapper = el('div', { role: 'listitem', class: 'awrsr-card', 'data-id': item.id });
    wrapper.append(card);
    // A card is followed by a click on its link or on its data-action="view" control (once, if both).
    wrapper.addEventListener('click', (event) => {
      const target = event.target instanceof Element ? event.target.closest('[data-action="view"], a[href]') : null;
      if (target && wrapper.contains(target)) this.followed(item.id, position);
    });
    return wrapper;
  }

  // -------------------------------------------------------------------------------------
  // A/B arms and analytics events (see "A/B split" and "Analytics events" above)

  /** The holdout arm: no rail, nothing loaded; conversions still carry the arm. */
  holdOut() {
    this.hidden = true;
    this.ui.progress.hidden = true;
    this.ui.message.textContent = '';
  }

  /** Watches the rail anew after each drawing: an impression when at least half of it is in the viewport. */
  watchImpressions() {
    if (!('IntersectionObserver' in window)) return;
    this.inView = false;
    this.sight?.disconnect();
    // Observing anew gives a first report on the layout as drawn now.
    this.sight = new IntersectionObserver((entries) => {
      const entry = entries.at(-1);
      this.inView = entry.isIntersecting && entry.intersectionRatio >= IMPRESSION_RATIO;
      this.impress();
    }, { threshold: IMPRESSION_RATIO });
    this.sight.observe(this.ui.rail);
  }

  /** Fires `awrsr:impression` once per distinct list of items seen in the viewport, and tracks the ids as shown. */
  impress() {
    const items = this.last?.items ?? [];
    if (!this.inView || this.hidden || !items.length) return;
    const ids = items.map((item) => item.id);
    const key = JSON.stringify(ids);
    this.impressed ??= new Set();
    if (this.impressed.has(key)) return;
    this.impressed.add(key);
    track(SHOWN_KEY, ids);
    const detail = { items: ids.map((id, i) => ({ id, position: i + 1 })), variant: this.variant, model: this.modelId };
    this.dispatchEvent(new CustomEvent('awrsr:impression', { bubbles: true, detail }));
  }

  /** A card was followed: tracks the id as clicked and fires `awrsr:click`. */
  followed(id, position) {
    track(CLICKED_KEY, [id]);
    this.dispatchEvent(new CustomEvent('awrsr:click', { bubbles: true, detail: { id, position, variant: this.variant, model: this.modelId } }));
  }
}

// ---------------------------------------------------------------------------------------
// The `awrsr` global and its command queue

const commands = { view, forget, config, catalogue, convert };

/**
 * Runs queued commands: `['view', id]`, `['forget']`, `['config', { pkg, backend, worker, ab }]`,
 * `['catalogue', data or URL]`, `['convert', id]`. Unknown commands are reported on the console.
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

/** The page API, as `window.awrsr` once this module has loaded. */
export const api = { push, view, forget, config, catalogue, convert, variant, session };

function installGlobal() {
  const queued = window.awrsr;
  window.awrsr = api;
  if (Array.isArray(queued)) push(...queued);
  else if (queued && typeof queued === 'object' && queued !== api) console.warn('awrsr: window.awrsr was set to something else; replaced');
}

installGlobal();
document.addEventListener('awrsr:view', (event) => view(event.detail?.id));
if (!customElements.get('awrsr-recommendations')) customElements.define('awrsr-recommendations', AwrsrRecommendations);
