// The demo storefront: a searchable catalogue, a "Recommended for you" rail that follows
// every click, the session, and the refined attention as a heat map. Everything runs in
// this page; after the engine, model and catalogue have loaded, no request is made.
import { loadModel, session, view, forget, el, cover, becauseText } from './awrsr-widget.js';

const params = new URLSearchParams(location.search);
const MODEL = params.get('model') ?? 'model.awrsr';
const CATALOGUE = params.get('catalogue') ?? 'catalogue.json';
const BACKEND = params.get('backend') ?? 'auto';
const PAGE = 48;
const $ = (id) => document.getElementById(id);

let movies = new Map();
let rec;
let shown = PAGE;
let latest = 0;

function progress(fraction, label) {
  $('loading-bar').style.width = `${Math.round(fraction * 100)}%`;
  $('loading').setAttribute('aria-valuenow', String(Math.round(fraction * 100)));
  $('loading-label').textContent = label;
}

function name(id) {
  const movie = movies.get(id);
  return movie?.title ?? rec?.title(id) ?? id;
}

function movieButton(id, extra) {
  const movie = movies.get(id);
  const meta = movie ? [movie.year, movie.genres.slice(0, 2).join(' · ')].filter(Boolean).join(' — ') : '';
  return el('div', { role: 'listitem', class: 'item' },
    el('button', { type: 'button', class: 'item-button', 'data-id': id, onclick: () => view(id) },
      cover(id, name(id)),
      el('span', { class: 'item-title', text: name(id) }),
      el('span', { class: 'item-meta', text: meta }),
      extra ? el('span', { class: 'item-because', text: extra }) : null));
}

function renderCatalogue() {
  const query = $('search').value.trim().toLowerCase();
  const genre = $('genre').value;
  const matches = [...movies.values()].filter((m) =>
    (!query || m.title.toLowerCase().includes(query)) && (!genre || m.genres.includes(genre)));
  $('count').textContent = `(${matches.length.toLocaleString()})`;
  $('grid').replaceChildren(...matches.slice(0, shown).map((m) => movieButton(m.id)));
  $('more').hidden = matches.length <= shown;
}

function renderSession(ids) {
  $('session').replaceChildren(...[...ids].reverse().slice(0, 30).map((id) => el('li', { text: name(id) })));
  $('forget').disabled = ids.length === 0;
}

function renderHeatmap(attention) {
  const canvas = $('heatmap');
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!attention || attention.ids.length === 0) {
    $('heat-caption').textContent = 'View a few movies to see how the model relates them.';
    return;
  }
  const ids = attention.ids.slice(-20);
  const offset = attention.ids.length - ids.length;
  const cell = canvas.width / ids.length;
  ids.forEach((_, i) => ids.forEach((__, j) => {
    const w = attention.weights[offset + i][offset + j] ?? 0;
    ctx.fillStyle = j > i ? '#f3f4f6' : `rgba(79, 70, 229, ${Math.min(1, 0.08 + w * 1.6)})`;
    ctx.fillRect(j * cell, i * cell, cell - 1, cell - 1);
  }));
  $('heat-caption').textContent = `Rows and columns, oldest first: ${ids.map(name).join(' → ')}`;
}

async function refresh() {
  const ids = session.get();
  renderSession(ids);
  const ticket = ++latest;
  const out = await rec.recommend(ids, { k: 10, explain: true });
  if (ticket !== latest) return; // a newer click is already being answered
  $('rail').replaceChildren(...out.items.map((item) => movieButton(item.id, becauseText(item, name))));
  $('rail-hint').textContent = ids.length
    ? `Based on the ${Math.min(ids.length, rec.maxLength)} latest of your ${ids.length} view${ids.length === 1 ? '' : 's'}.`
    : 'Click any movie to view it — recommendations follow, computed in this browser.';
  renderHeatmap(out.attention);
  const label = out.backend === 'webgpu' ? 'WebGPU' : 'CPU';
  $('badge').textContent = `${label} · ${out.ms.toFixed(1)} ms`;
  $('badge').title = rec.fallbackReason ? `CPU fallback: ${rec.fallbackReason}` : `Running on ${label}`;
  $('badge').dataset.backend = out.backend;
}

async function start() {
  try {
    const [list, model] = await Promise.all([
      fetch(CATALOGUE).then((r) => (r.ok ? r.json() : Promise.reject(new Error(`catalogue: HTTP ${r.status}`)))),
      loadModel(MODEL, { backend: BACKEND, onProgress: progress }),
    ]);
    rec = model;
    // Only the movies the model can rank, asked in one call for the whole catalogue.
    const ids = list.map((m) => String(m.id));
    const known = rec.hasItems(ids);
    movies = new Map(list.filter((_, i) => known[i]).map((m) => [String(m.id), m]));
  } catch (error) {
    $('loading-label').textContent = `The store could not start: ${error.message}`;
    return;
  }
  const genres = [...new Set([...movies.values()].flatMap((m) => m.genres))].sort();
  $('genre').append(...genres.map((g) => el('option', { value: g, text: g })));
  $('search').addEventListener('input', () => { shown = PAGE; renderCatalogue(); });
  $('genre').addEventListener('change', () => { shown = PAGE; renderCatalogue(); });
  $('more').addEventListener('click', () => { shown += PAGE; renderCatalogue(); });
  $('forget').addEventListener('click', () => forget());
  document.addEventListener('awrsr:session', () => refresh());
  if (rec.fallbackReason) $('badge').classList.add('fallback');
  renderCatalogue();
  await refresh();
  $('loading').hidden = true;
  document.body.dataset.ready = 'true';
}

start();
