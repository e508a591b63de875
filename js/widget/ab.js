// A/B split: each visitor is put, once and at random, in one arm of an experiment.
//
// `awrsr.config({ ab: { name, share, holdout, control } })` or the element's attributes
// `ab`, `ab-share`, `ab-holdout`, `ab-control`. Arms: 'awrsr' (the model's rail), 'control'
// (the shop's list, by default the model's empty-session list, i.e. its best sellers) and
// 'holdout' (no rail). The arm is drawn with crypto.getRandomValues, never from anything
// about the visitor, and kept in localStorage under `awrsr.ab.<name>`: a new name draws anew.
import { store } from './store.js';
import { rememberTitles } from './catalogue.js';

/** The arms a visitor can be in. */
const ARMS = ['awrsr', 'control', 'holdout'];
const AB_KEY = 'awrsr.ab.';
const AB_OPTIONS = ['name', 'share', 'holdout', 'control'];

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

/**
 * An experiment's settings, checked, with defaults: `{ name: 'ab', share: 0.5, holdout: 0, control: 'bestsellers' }`.
 * Wrong values throw a TypeError.
 */
export function checkedAb(ab) {
  if (ab === null || typeof ab !== 'object' || Array.isArray(ab)) throw new TypeError('awrsr config: ab must be an object { name, share, holdout, control }');
  const unknown = Object.keys(ab).filter((key) => !AB_OPTIONS.includes(key));
  if (unknown.length) throw new TypeError(`awrsr ab: unknown option ${unknown.join(', ')} (known: ${AB_OPTIONS.join(', ')})`);
  const { name = 'ab', share = 0.5, holdout = 0, control = 'bestsellers' } = ab;
  if (typeof name !== 'string' || !name.trim()) throw new TypeError('awrsr ab: name must be a non-empty string');
  return Object.freeze({ name: name.trim(), share: fraction(share, 'share'), holdout: fraction(holdout, 'holdout'), control: controlOf(control) });
}

/** A copy the caller may change. */
export function copyAb(ab) {
  return ab && { ...ab, control: Array.isArray(ab.control) ? [...ab.control] : ab.control };
}

/** An element's own experiment from its `ab*` attributes, or null without an `ab` attribute or when they are wrong. */
export function abFromAttributes(node) {
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
    if (!store.warnedAb.has(node)) console.warn(`awrsr: the element's ab attributes are ignored: ${error.message}`);
    store.warnedAb.add(node);
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
export function armOf(ab) {
  if (!ab) return 'awrsr';
  const key = AB_KEY + ab.name;
  let arm;
  try { arm = localStorage.getItem(key); } catch { /* blocked: fall back to this page's draw */ }
  if (ARMS.includes(arm)) return arm;
  arm = store.drawnArms.get(key) ?? drawArm(ab);
  store.drawnArms.set(key, arm);
  try { localStorage.setItem(key, arm); } catch { /* storage full or blocked: stable for this page only */ }
  return arm;
}

/** The page's experiment: the `ab` setting, else the first widget on the page with `ab` attributes, else null. */
function pageExperiment() {
  if (store.settings.ab) return store.settings.ab;
  for (const widget of store.widgets) {
    const ab = abFromAttributes(widget);
    if (ab) return ab;
  }
  return null;
}

/**
 * The visitor's arm in the page's experiment ('awrsr', 'control' or 'holdout'; 'awrsr' when
 * there is no A/B setting). The first call for an experiment draws it; later calls, on any
 * page and after reloads, give the same arm.
 * @returns {string}
 */
export function variant() {
  return armOf(pageExperiment());
}

/** The list a control rail shows: the shop's ids, or the model's answer for an empty session. */
export async function controlList(rec, ab, k) {
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
  rememberTitles(ids.map((id, i) => ({ id, title: found[i] })));
  return {
    items: ids.map((id) => ({ id, because: [] })),
    unknown: ids.filter((_, i) => !known[i]),
    backend: rec.backend,
    ms: performance.now() - started,
  };
}
