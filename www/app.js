// The demo storefront: a searchable catalogue, a "Recommended for you" rail that follows
// every view, the session, and the refined attention as a heat map (with a text list of its
// strongest links). The engine runs through the package's widget module and client.js, in a
// Worker where there is one; after the engine, model and catalogue have loaded, no request
// is made. Keyboard focus survives every re-render and rail updates are announced politely.
// Names come from the widget's own catalogue and title cache: the store's movies are given to
// it with `catalogue`, the model's titles are learned from each answer (`learnTitles`), and
// `nameOf` reads both, as the widget's cards do.
import {
  loadModel, session, view, forget, catalogue, nameOf, el, cover, becauseText, keepFocus, updateMessage, progressFraction,
} from '../pkg/awrsr-widget.js';
import { learnTitles } from '../pkg/widget/catalogue.js';

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
let updates = 0;

const megabytes = (bytes) => (bytes / 1e6).toFixed(1);

function progress(p) {
  const fraction = progressFraction(p);
  const bar = $('loading-progress');
  if (fraction == null) {
    bar.removeAttribute('aria-valuenow');
    $('loading-label').textContent = `Loading the engine and model… ${megabytes(p.loaded ?? 0)} MB`;
    return;
  }
  const percent = Math.round(fraction * 100);
  $('loading-bar').style.width = `${percent}%`;
  bar.setAttribute('aria-valuenow', String(percent));
  $('loading-label').textContent = `Loading the engine and model… ${megabytes(p.loaded)} of ${megabytes(p.total)} MB`;
}

function movieButton(id, extra) {
  const movie = movies.get(id);
  const meta = movie ? [movie.year, movie.genres.slice(0, 2).join(' · ')].filter(Boolean).join(' — ') : '';
  return el('div', { role: 'listitem', class: 'item' },
    el('button', { type: 'button', class: 'item-button', 'data-id': id, onclick: () => view(id) },
      cover(id, nameOf(id)),
      el('span', { class: 'item-title', text: nameOf(id) }),
      el('span', { class: 'item-meta', text: meta }),
      extra ? el('span', { class: 'item-because', text: extra }) : null));
}

function renderCatalogue() {
  const query = $('search').value.trim().toLowerCase();
  const genre = $('genre').value;
  const matches = [...movies.values()].filter((m) =>
    (!query || m.title.toLowerCase().includes(query)) && (!genre || m.genres.includes(genre)));
  $('count').textContent = `(${matches.length.toLocaleString()})`;
  keepFocus($('grid'), () => $('grid').replaceChildren(...matches.slice(0, shown).map((m) => movieButton(m.id))), $('catalogue-title'));
  $('more').hidden = matches.length <= shown;
}

/** "Show more": when the button goes away, focus moves to the first new movie. */
function showMore() {
  const before = shown;
  shown += PAGE;
  renderCatalogue();
  if ($('more').hidden) $('grid').querySelectorAll('[data-id]')[before]?.focus();
}

function renderSession(ids) {
  $('session').replaceChildren(...[...ids].reverse().slice(0, 30).map((id) => el('li', { text: nameOf(id) })));
  $('forget').setAttribute('aria-disabled', String(ids.length === 0));
}

/** The heat map, and its text alternative: the strongest links between different movies. */
function renderHeatmap(attention) {
  const canvas = $('heatmap');
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!attention || attention.ids.length === 0) {
    $('heat-caption').textContent = 'View a few movies to see how the model relates them.';
    canvas.setAttribute('aria-label', 'Attention heat map: no views yet');
    $('heat-links').replaceChildren();
    return;
  }
  const ids = attention.ids.slice(-20);
  const offset = attention.ids.length - ids.length;
  const weight = (i, j) => attention.weights[offset + i]?.[offset + j] ?? 0;
  const cell = canvas.width / ids.length;
  ids.forEach((_, i) => ids.forEach((__, j) => {
    ctx.fillStyle = j > i ? '#f3f4f6' : `rgba(79, 70, 229, ${Math.min(1, 0.08 + weight(i, j) * 1.6)})`;
    ctx.fillRect(j * cell, i * cell, cell - 1, cell - 1);
  }));
  $('heat-caption').textContent = `Rows and columns, oldest first: ${ids.map(nameOf).join(' → ')}`;
  const links = strongestLinks(ids, weight, 5);
  canvas.setAttribute('aria-label', `Attention heat map of ${ids.length} viewed movie${ids.length === 1 ? '' : 's'}; ` +
    (links.length ? `strongest link: ${links[0].text}` : 'no links between different movies yet'));
  $('heat-links').replaceChildren(...links.map((link) => el('li', { text: link.text })));
}

function strongestLinks(ids, weight, count) {
  const links = [];
  ids.forEach((row, i) => ids.slice(0, i).forEach((column, j) => {
    if (row !== column) links.push({ w: weight(i, j), text: `${nameOf(row)} attends to ${nameOf(column)}: ${Math.round(weight(i, j) * 100)}%` });
  }));
  return links.sort((a, b) => b.w - a.w).slice(0, count);
}

function renderRail(out) {
  keepFocus($('rail'), () => $('rail').replaceChildren(...out.items.map((item) => movieButton(item.id, becauseText(item, nameOf)))), $('recommendations'));
  if (updates++ > 0) $('announce').textContent = updateMessage(out.items, nameOf); // not the first, quiet load
}

function renderBadge(out) {
  const label = out.backend === 'webgpu' ? 'WebGPU' : 'CPU';
  $('badge').textContent = `${label} · ${out.ms.toFixed(1)} ms`;
  $('badge').title = rec.fallbackReason ? `CPU fallback: ${rec.fallbackReason}` : `Running on ${label}${rec.inWorker ? ', in a worker' : ''}`;
  $('badge').dataset.backend = out.backend;
}

async function refresh() {
  const ids = session.get();
  renderSession(ids);
  const ticket = ++latest;
  let out;
  try {
    out = await rec.recommend(ids, { k: 10, explain: true, supersede: true });
    await learnTitles(rec, out); // the names of recommended items, and of reasons, the catalogue lacks
  } catch (error) {
    if (error?.name === 'AbortError') return; // a newer view is being answered
    console.error('awrsr demo: recommendations failed', error);
    $('rail-hint').textContent = 'Recommendations are unavailable right now.';
    return;
  }
  if (ticket !== latest) return;
  renderRail(out);
  $('rail-hint').textContent = ids.length
    ? `Based on the ${Math.min(ids.length, rec.maxLength)} latest of your ${ids.length} view${ids.length === 1 ? '' : 's'}.`
    : 'Choose any movie to view it — recommendations follow, computed in this browser.';
  renderHeatmap(out.attention);
  renderBadge(out);
}

async function loadStore() {
  const [list, model] = await Promise.all([
    fetch(CATALOGUE).then((r) => (r.ok ? r.json() : Promise.reject(new Error(`catalogue: HTTP ${r.status}`)))),
    loadModel(MODEL, { backend: BACKEND, onProgress: progress }),
  ]);
  rec = model;
  // Only the movies the model can rank, asked in one call for the whole catalogue.
  const ids = list.map((m) => String(m.id));
  const known = await rec.hasItems(ids);
  movies = new Map(list.filter((_, i) => known[i]).map((m) => [String(m.id), m]));
  catalogue([...movies.values()]); // their titles name them (nameOf)
}

function wire() {
  const genres = [...new Set([...movies.values()].flatMap((m) => m.genres))].sort();
  $('genre').append(...genres.map((g) => el('option', { value: g, text: g })));
  $('search').addEventListener('input', () => { shown = PAGE; renderCatalogue(); });
  $('genre').addEventListener('change', () => { shown = PAGE; renderCatalogue(); });
  $('more').addEventListener('click', showMore);
  $('forget').addEventListener('click', () => { if (session.get().length) forget(); });
  document.addEventListener('awrsr:session', () => refresh());
  if (rec.fallbackReason) $('badge').classList.add('fallback');
}

async function start() {
  try {
    await loadStore();
  } catch (error) {
    console.error('awrsr demo: the store could not start', error);
    $('loading-label').textContent = 'The store could not start. Please try again later.';
    return;
  }
  wire();
  renderCatalogue();
  await refresh();
  $('loading').hidden = true;
  for (const node of document.querySelectorAll('body > [inert]')) node.inert = false; // the page behind the overlay, inert while loading
  document.body.dataset.ready = 'true';
}

start();
