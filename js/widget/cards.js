// A widget's cards: the default card (a button, or a link when the catalogue gives the item
// a URL), or one cloned from the widget's own <template>, filled with text and safe URLs only.
import { el, cover } from './render.js';
import { nameOf, product } from './catalogue.js';
import { viewRecommended } from './session.js';

/**
 * The widget a card belongs to, as cards need it.
 * @typedef {object} CardOwner
 * @property {HTMLTemplateElement | null} template The widget's card template, if any.
 * @property {(item: object) => string} because The "because you viewed" text of an item.
 * @property {(id: string, position: number) => void} followed Reports that a card was followed.
 */

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
 * A card for `item`, at 1-based `position` in `widget`'s rail.
 * @param {{ id: string, score?: number, because?: Array<{ id: string, weight: number }> }} item
 * @param {number} position
 * @param {CardOwner} widget
 * @returns {HTMLElement}
 */
export function card(item, position, widget) {
  const values = cardValues(item, widget);
  return widget.template ? templateCard(item, values, position, widget) : defaultCard(item, values, position, widget);
}

function defaultCard(item, values, position, widget) {
  const picture = values.image
    ? el('img', { class: 'awrsr-image', src: values.image, alt: '', loading: 'lazy' })
    : cover(item.id, values.title);
  const parts = [picture, el('span', { class: 'awrsr-card-title', text: values.title }), el('span', { class: 'awrsr-card-because', text: values.because })];
  const follow = () => {
    widget.followed(item.id, position);
    viewRecommended(item.id);
  };
  const control = values.href
    ? el('a', { class: 'awrsr-card-button', href: values.href, 'data-id': item.id, onclick: follow }, ...parts)
    : el('button', { type: 'button', class: 'awrsr-card-button', 'data-id': item.id, onclick: follow }, ...parts);
  return el('div', { role: 'listitem', class: 'awrsr-card' }, control);
}

function templateCard(item, values, position, widget) {
  const content = widget.template.content.cloneNode(true);
  for (const node of content.querySelectorAll('[data-field]')) fillField(node, node.dataset.field, values);
  for (const node of content.querySelectorAll('[data-action="view"]')) node.addEventListener('click', () => viewRecommended(item.id));
  const wrapper = el('div', { role: 'listitem', class: 'awrsr-card', 'data-id': item.id });
  wrapper.append(content);
  // A card is followed by a click on its link or on its data-action="view" control (once, if both).
  wrapper.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target.closest('[data-action="view"], a[href]') : null;
    if (target && wrapper.contains(target)) widget.followed(item.id, position);
  });
  return wrapper;
}
