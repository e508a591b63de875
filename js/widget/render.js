// Drawing helpers, shared by the widget and the demo storefront: elements with text content
// only (never HTML), "because you viewed" texts, generated covers, keyboard focus kept across
// re-renders, and the sentence a live region says after an update. No state.

/**
 * Builds an element with text content only (never HTML): `class`, `text` (textContent),
 * `on<event>` listeners, other keys as attributes (null and undefined values skipped).
 * @param {string} tag
 * @param {Record<string, any>} [props]
 * @param {...(Node | string | null | undefined)} children
 * @returns {HTMLElement}
 */
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
 * @param {{ because?: Array<{ id: string, weight: number }> }} item
 * @param {(id: string) => string} nameOf
 * @returns {string}
 */
export function becauseText(item, nameOf) {
  const reasons = (item?.because ?? [])
    .filter((b) => b && Number.isFinite(b.weight) && b.weight > 0)
    .sort((a, b) => b.weight - a.weight);
  const top = reasons.slice(0, 2).filter((b, i) => i === 0 || (b.id !== reasons[0].id && b.weight >= reasons[0].weight / 2));
  const names = top.map((b) => nameOf(b.id));
  return names.length ? `Because you viewed ${names.join(' and ')}` : 'Popular right now';
}

/**
 * A cover tile drawn from the id and title: colours from a hash, the initials on top.
 * @param {string} id
 * @param {string} [title]
 * @returns {HTMLSpanElement}
 */
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
 * @param {HTMLElement} container
 * @param {() => void} render
 * @param {HTMLElement} [fallback]
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

/**
 * The sentence a polite live region says after a rail update.
 * @param {Array<{ id: string }>} items
 * @param {(id: string) => string} nameOf
 * @returns {string}
 */
export function updateMessage(items, nameOf) {
  if (!items.length) return 'Recommendations updated: nothing to recommend yet.';
  return `Recommendations updated: ${items.length} item${items.length === 1 ? '' : 's'}, first: ${nameOf(items[0].id)}.`;
}
