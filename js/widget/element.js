// <awrsr-recommendations>: the element, and how its rails update. Widgets that share a
// recommender are updated together, one recommendation call per session change with their
// largest k. Defining the element (customElements.define) is left to the entry, awrsr-widget.js.
import { store } from './store.js';
import { session } from './session.js';
import { loadModel, progressFraction } from './engine.js';
import { loadCatalogue, learnTitles, nameOf } from './catalogue.js';
import { abFromAttributes, armOf, controlList } from './ab.js';
import { track, SHOWN_KEY, CLICKED_KEY, IMPRESSION_RATIO } from './analytics.js';
import { el, becauseText, keepFocus, updateMessage } from './render.js';
import { card } from './cards.js';
import { injectStyle } from './style.js';

// ---------------------------------------------------------------------------------------
// Updates: one call per recommender

function groupOf(rec) {
  const { groups } = store;
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

/** Updates every started widget: the listener of `awrsr:session` (added by the entry). */
export function updateAll() {
  store.groups.forEach(schedule);
}

/** Writes `text` to the console as a warning, once per page. */
function warnOnce(text) {
  if (store.warned.has(text)) return;
  store.warned.add(text);
  console.warn(text);
}

// ---------------------------------------------------------------------------------------
// The element

function intAttribute(node, name, fallback) {
  const value = Number.parseInt(node.getAttribute(name) ?? '', 10);
  return Number.isFinite(value) && value > 0 ? Math.min(value, 100) : fallback;
}

/**
 * `<awrsr-recommendations>`: a rail of recommendations for the visitor's session, updated
 * on every view. Attributes: `model` (URL, default "model.awrsr"), `k` (default 8),
 * `backend`, `pkg` (package folder), `catalogue` (JSON URL), `loading="lazy"`, `label`
 * (the list's accessible name), and an A/B split: `ab` (the experiment's name), `ab-share`,
 * `ab-holdout`, `ab-control`, and `show-errors` (say why in the widget instead of hiding).
 * A `<template>` child renders each card. Fires `awrsr:recommendations` after each update,
 * `awrsr:error` (then hides, or shows why) when it cannot work, `awrsr:impression` when a
 * list is seen and `awrsr:click` when a card is followed.
 */
export class AwrsrRecommendations extends HTMLElement {
  /** How many items this widget shows. */
  get k() {
    return intAttribute(this, 'k', 8);
  }

  /** The visitor's arm for this widget: 'awrsr', 'control' or 'holdout' (fixed once the widget starts). */
  get variant() {
    return this.arm ?? armOf(abFromAttributes(this) ?? store.settings.ab);
  }

  connectedCallback() {
    store.widgets.add(this);
    if (!this.ui) this.build();
    if (this.group) this.group.widgets.add(this);
    if (this.last) this.watchImpressions();
    if (this.started) return;
    if (this.getAttribute('loading') === 'lazy' && 'IntersectionObserver' in window) this.startWhenNear();
    else this.start();
  }

  disconnectedCallback() {
    store.widgets.delete(this);
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
    // The entry's `customElements.define` starts the elements already on the page while the
    // entry is still being evaluated, before the module that imported it runs: wait for that,
    // so that a `config({ pkg })` written right after the import applies to them too.
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
      if (this.arm === 'control') return this.show(await controlList(rec, abFromAttributes(this) ?? store.settings.ab, this.k));
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
    this.ui.message.classList.remove('awrsr-error');
    keepFocus(this.ui.rail, () => this.ui.rail.replaceChildren(...items.map((item, i) => this.card(item, i + 1))), this);
  }

  /**
   * Reports why the widget cannot work: one console warning naming the model URL and the
   * cause (once per page for the same model and cause), `awrsr:error` for the page's code, and
   * a short message in the widget with `show-errors`; without it the widget hides.
   */
  fail(error) {
    const message = String(error?.message ?? error);
    const model = this.model ?? this.getAttribute('model') ?? 'model.awrsr';
    warnOnce(`awrsr: no recommendations from the model ${model}: ${message}`);
    this.ui.progress.hidden = true;
    if (this.hasAttribute('show-errors')) {
      this.ui.rail.replaceChildren();
      this.ui.message.textContent = `Recommendations are unavailable: ${message}`;
      this.ui.message.classList.add('awrsr-error');
    } else {
      this.hidden = true;
    }
    this.dispatchEvent(new CustomEvent('awrsr:error', { bubbles: true, detail: { message } }));
  }

  because(item) {
    return becauseText(item, nameOf);
  }

  /** A card for `item`, at 1-based `position` in the rail (cards.js). */
  card(item, position) {
    return card(item, position, this);
  }

  // -------------------------------------------------------------------------------------
  // A/B arms (ab.js) and analytics events (analytics.js)

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
