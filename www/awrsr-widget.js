// awrsr's embeddable widget and page API, in one plain ES module.
//
//   <script type="module" src="/www/awrsr-widget.js"></script>
//   <awrsr-recommendations model="/www/model.awrsr" k="8"></awrsr-recommendations>
//   awrsr.view('123')   // or: document.dispatchEvent(new CustomEvent('awrsr:view', { detail: { id: '123' } }))
//
// The visitor's session lives in this browser's localStorage only; recommendations are
// computed here, on WebGPU or the CPU. After the engine and the model have loaded, the
// widget makes no network request.
import init, { Recommender } from '../pkg/awrsr.js';

const STORAGE_KEY = 'awrsr.session';
/** Clicks kept per visitor (the model reads the newest ones anyway). */
const MAX_SESSION = 200;

/** The visitor's session: viewed item ids, oldest first, in localStorage. */
export const session = {
  get() {
    try {
      const ids = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '[]');
      return Array.isArray(ids) ? ids.filter((id) => typeof id === 'string') : [];
    } catch {
      return [];
    }
  },
  add(id) {
    const ids = [...this.get(), String(id)].slice(-MAX_SESSION);
    this.save(ids);
  },
  clear() {
    this.save([]);
  },
  save(ids) {
    try { localStorage.setItem(STORAGE_KEY, JSON.stringify(ids)); } catch { /* storage full or blocked: keep going */ }
    document.dispatchEvent(new CustomEvent('awrsr:session', { detail: { ids } }));
  },
};

let engine;
const models = new Map();

/**
 * Loads the engine once and a model once per URL. `onProgress(fraction, label)` reports
 * the download. Resolves to a `Recommender`.
 */
export function loadModel(url, { backend = 'auto', onProgress = () => {} } = {}) {
  const key = `${url}|${backend}`;
  if (!models.has(key)) {
    models.set(key, (async () => {
      onProgress(0, 'Loading the recommendation engine…');
      engine ??= init();
      await engine;
      const bytes = await download(url, (f) => onProgress(0.2 + 0.7 * f, 'Loading the model…'));
      onProgress(0.95, 'Starting…');
      const rec = await Recommender.load(bytes, { backend });
      onProgress(1, 'Ready');
      return rec;
    })());
    models.get(key).catch(() => models.delete(key));
  }
  return models.get(key);
}

async function download(url, onProgress) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot load model from ${url}: HTTP ${response.status}`);
  const total = Number(response.headers.get('content-length')) || 0;
  if (!response.body || !total) return new Uint8Array(await response.arrayBuffer());
  const bytes = new Uint8Array(total);
  const reader = response.body.getReader();
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes.set(value, received);
    received += value.length;
    onProgress(received / total);
  }
  return bytes.subarray(0, received);
}

/** Reports that the visitor viewed an item; every widget on the page updates. */
export function view(id) {
  session.add(id);
}

/** Forgets the visitor's session. */
export function forget() {
  session.clear();
}

/** Builds an element with text content only (never HTML). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c != null));
  return node;
}

/** "Because you viewed A and B" from a recommendation's two strongest session items. */
export function becauseText(item, nameOf) {
  const names = (item.because ?? []).slice(0, 2).map((b) => nameOf(b.id));
  return names.length ? `Because you viewed ${names.join(' and ')}` : 'Popular right now';
}

/** A cover tile drawn from the id and title: colours from a hash, the initials on top. */
export function cover(id, title) {
  let h = 0;
  for (const c of String(id)) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const initials = String(title ?? id).split(/\s+/).filter((w) => /\w/.test(w)).slice(0, 2).map((w) => w[0]).join('').toUpperCase();
  const tile = el('span', { class: 'awrsr-cover', 'aria-hidden': 'true', text: initials });
  tile.style.background = `linear-gradient(135deg, hsl(${h % 360} 60% 45%), hsl(${(h >> 8) % 360} 65% 30%))`;
  return tile;
}

/**
 * `<awrsr-recommendations model="…" k="8" backend="auto" heading="…">`: a rail of
 * recommendations for the visitor's session, updated on every view. A `<template>` child
 * is used for each card when present: elements with `data-field="title|id|score|because"`
 * get the text, `data-action="view"` reports a view on click. It fires
 * `awrsr:recommendations` with the result after each update.
 */
class AwrsrRecommendations extends HTMLElement {
  connectedCallback() {
    this.listener = () => this.refresh();
    document.addEventListener('awrsr:session', this.listener);
    this.template = this.querySelector('template');
    this.list = el('div', { class: 'awrsr-rail', role: 'list' });
    this.status = el('p', { class: 'awrsr-status', role: 'status', text: 'Loading recommendations…' });
    this.replaceChildren(...[this.template, this.status, this.list].filter(Boolean));
    this.refresh();
  }

  disconnectedCallback() {
    document.removeEventListener('awrsr:session', this.listener);
  }

  async refresh() {
    const k = Number(this.getAttribute('k') ?? 8);
    try {
      const rec = await loadModel(this.getAttribute('model') ?? 'model.awrsr', { backend: this.getAttribute('backend') ?? 'auto' });
      const out = await rec.recommend(session.get(), { k, explain: true });
      this.render(out, rec);
      this.dispatchEvent(new CustomEvent('awrsr:recommendations', { detail: out, bubbles: true }));
    } catch (error) {
      this.status.textContent = `Recommendations are unavailable: ${error.message}`;
    }
  }

  render(out, rec) {
    this.status.textContent = out.items.length ? '' : 'Nothing to recommend yet.';
    const cards = out.items.map((item) => (this.template ? this.fromTemplate(item, rec) : this.defaultCard(item, rec)));
    this.list.replaceChildren(...cards);
  }

  because(item, rec) {
    return becauseText(item, (id) => rec.title(id) ?? id);
  }

  defaultCard(item, rec) {
    return el('div', { role: 'listitem', class: 'awrsr-card' },
      el('button', { type: 'button', class: 'awrsr-card-button', onclick: () => view(item.id) },
        cover(item.id, item.title),
        el('span', { class: 'awrsr-card-title', text: item.title ?? item.id }),
        el('span', { class: 'awrsr-card-because', text: this.because(item, rec) })));
  }

  fromTemplate(item, rec) {
    const card = this.template.content.cloneNode(true);
    const values = { id: item.id, title: item.title ?? item.id, score: item.score.toFixed(3), because: this.because(item, rec) };
    for (const node of card.querySelectorAll('[data-field]')) node.textContent = values[node.dataset.field] ?? '';
    for (const node of card.querySelectorAll('[data-action="view"]')) node.addEventListener('click', () => view(item.id));
    const wrapper = el('div', { role: 'listitem' });
    wrapper.append(card);
    return wrapper;
  }
}

if (!customElements.get('awrsr-recommendations')) customElements.define('awrsr-recommendations', AwrsrRecommendations);
document.addEventListener('awrsr:view', (event) => view(event.detail?.id));
window.awrsr = Object.assign(window.awrsr ?? {}, { view, forget, session });
