// Everything the widget keeps for the page, in one object: the modules beside this one read
// and change it, and none keeps state of its own. Defining it does nothing else (no DOM, no
// storage, no listener): the entry, awrsr-widget.js, is the only module with side effects.

/**
 * @typedef {object} Settings
 * @property {string | null} pkg The package folder holding client.js and the engine, as an
 *   absolute URL ending in '/', or null for this package's own client.js (imported as a
 *   module a bundler follows).
 * @property {string} backend 'auto' | 'webgpu' | 'cpu'.
 * @property {'auto' | boolean} worker Whether the engine runs in a Worker.
 * @property {Readonly<{ name: string, share: number, holdout: number, control: 'bestsellers' | string[] }> | null} ab
 *   The page's A/B experiment, checked, or null.
 */

/**
 * @typedef {object} ModelEntry One model being loaded, shared by every widget that asks for it.
 * @property {Promise<any>} promise Resolves to client.js's recommender.
 * @property {ReturnType<typeof import('../progress.js').progressFanOut>} progress Its download
 *   progress, for every widget waiting for it.
 */

/**
 * @typedef {object} Group The widgets that share one recommender: one call per update.
 * @property {any} rec The recommender.
 * @property {Set<import('./element.js').AwrsrRecommendations>} widgets Its widgets.
 * @property {boolean} scheduled Whether an update is queued.
 * @property {number} ticket Counts updates; only the newest answer is drawn.
 */

export const store = {
  /** @type {Settings} Page-wide settings (`config`). */
  settings: { pkg: null, backend: 'auto', worker: 'auto', ab: null },

  /** @type {Map<string | null, Promise<any>>} Package folder (null: this package) → the client.js module, imported once. */
  clients: new Map(),
  /** @type {Map<string, ModelEntry>} JSON [folder, model URL, backend, worker] → the model loading or loaded. */
  models: new Map(),

  /** The first model loaded on the page: it decides which viewed ids are known (null until then). */
  checker: null,
  /** @type {Promise<unknown>} The chain that checks views one after another. */
  checks: Promise.resolve(),

  /** @type {Map<string, string>} Arms drawn on this page when localStorage is blocked (then stable for this page only). */
  drawnArms: new Map(),
  /** @type {WeakSet<Element>} Elements whose wrong `ab*` attributes were reported (once each). */
  warnedAb: new WeakSet(),
  /** @type {Set<string>} Console warnings of widgets that cannot work, written once each. */
  warned: new Set(),

  /** @type {Map<string, { title?: string, url?: string, image?: string }>} The shop's catalogue: id → details. */
  products: new Map(),
  /** @type {Map<string, Promise<void>>} Catalogue file URL → its loading, once per URL. */
  catalogueFiles: new Map(),
  /** @type {Map<string, string>} id → the model's title, for names the shop's catalogue lacks. */
  titles: new Map(),

  /** @type {Set<import('./element.js').AwrsrRecommendations>} Every connected widget. */
  widgets: new Set(),
  /** @type {Map<any, Group>} Widgets per recommender. */
  groups: new Map(),
};
