// Types of awrsr-widget.js: the <awrsr-recommendations> element, its attributes and events,
// the page API (`window.awrsr` and its command queue) and the helpers the demo shares.

import type { Because, Recommendations, Recommended } from './awrsr.js';
import type { Client, ExplainedRecommendations, LoadProgress } from './client.js';

export type { Because, Recommendations, Recommended, ExplainedRecommendations, LoadProgress };

/** Where recommendations run: 'auto' takes WebGPU on a real GPU, else the CPU. */
export type Backend = 'auto' | 'webgpu' | 'cpu';

/** Whether the engine runs in a Worker: 'auto' (the default) wherever `Worker` exists. */
export type WorkerMode = 'auto' | boolean;

/** The loaded model as client.js gives it (its `Client`): every method is async (it may run in a Worker). */
export type WidgetRecommender = Client;

/** Page-wide settings (`config`, or `['config', …]` in the queue). */
export interface WidgetConfig {
  /** The folder holding client.js and the engine; default: the folder of awrsr-widget.js. */
  pkg?: string | URL;
  /** Default 'auto'. */
  backend?: Backend;
  /** Default 'auto': a Worker wherever there is one, so no recommendation work runs on the page's thread. */
  worker?: WorkerMode;
  /**
   * An A/B split for this page's widgets and conversions; `null` (or `false`) ends it.
   * Wrong values throw a `TypeError` (in the queue: logged, the rest still runs).
   */
  ab?: AbConfig | null | false;
}

/** The settings in force, with `pkg` as an absolute URL ending in '/' (null: this package's own client.js). */
export interface ResolvedConfig {
  pkg: string | null;
  backend: string;
  worker: WorkerMode;
  /** The experiment in force, with its defaults filled in, or null. */
  ab: Required<AbConfig> | null;
}

/**
 * The arm a visitor is in: 'awrsr' (the model's rail; also the value without any A/B setting),
 * 'control' (the shop's list, same cards) or 'holdout' (no rail at all).
 */
export type Variant = 'awrsr' | 'control' | 'holdout';

/**
 * An A/B split (`config({ ab })`, or the element's `ab`, `ab-share`, `ab-holdout`,
 * `ab-control` attributes). Each visitor is drawn once, at random (`crypto.getRandomValues`,
 * nothing about the visitor), into an arm kept in localStorage under `awrsr.ab.<name>`: a
 * new `name` draws anew; changing the shares of a running name keeps earlier assignments.
 */
export interface AbConfig {
  /** The experiment's name (default 'ab'). */
  name?: string;
  /** Of the visitors not held out, the share shown the model's rail, 0–1 (default 0.5); the rest get the control list. */
  share?: number;
  /** The share of all visitors shown no rail, 0–1 (default 0). */
  holdout?: number;
  /**
   * What the control arm shows: 'bestsellers' (default), the model's list for an empty
   * session (its learned best sellers), or the shop's own item ids, in this order (cut to `k`).
   */
  control?: 'bestsellers' | Array<string | number>;
}

/** A product in the shop's catalogue. `url` (or `href`) and `image`: http(s) or relative only. */
export interface CatalogueEntry {
  title?: string;
  url?: string;
  href?: string;
  image?: string;
}

/** A catalogue: `{ 'SKU-1': { title, url, image } }` or `[{ id: 'SKU-1', title, url, image }]`. */
export type CatalogueData = Record<string, CatalogueEntry> | Array<CatalogueEntry & { id: string | number }>;

/** A product's details as kept (unsafe URLs dropped, relative ones resolved). */
export interface Product {
  title?: string;
  url?: string;
  image?: string;
}

/** The commands of the queue, `awrsr.push([name, ...args])`. */
export type Command =
  | ['view', string]
  | ['forget']
  | ['config', WidgetConfig]
  /** Product details, or the URL of a JSON file holding them. */
  | ['catalogue', CatalogueData | string | URL]
  /** A purchase or add-to-cart of an item: fires `awrsr:conversion`. */
  | ['convert', string];

/** The visitor's session: viewed ids, oldest first, kept in localStorage only. */
export interface Session {
  get(): string[];
  /** Appends an id without checking it; use `view` to report a view. */
  add(id: string): void;
  clear(): void;
  /** Stores the ids and fires `awrsr:session`. */
  save(ids: string[]): void;
}

/** `window.awrsr` once the module has loaded. */
export interface AwrsrApi {
  /** Runs commands; returns how many were given. */
  push(...commands: Command[]): number;
  view(id: string): Promise<boolean>;
  forget(): void;
  config(options?: WidgetConfig): ResolvedConfig;
  catalogue(data: CatalogueData): void;
  /** Reports a purchase or add-to-cart: fires `awrsr:conversion` on the document; returns its detail (null without an id). */
  convert(id: string): ConversionDetail | null;
  /** The visitor's arm in the page's experiment ('awrsr' without one). */
  variant(): Variant;
  readonly session: Session;
}

/**
 * `window.awrsr` before the module has loaded: an array of queued commands, filled by a
 * classic script (`window.awrsr = window.awrsr || []; awrsr.push(['view', 'SKU-1'])`),
 * optionally with a `view` stub that queues. The module replays it in order, then replaces
 * it with {@link AwrsrApi}.
 */
export type AwrsrQueue = Command[] & { view?(id: string): void };

/**
 * Detail of `awrsr:recommendations`: the widget's result (always asked with explanations),
 * its items cut to its `k`: each item's `because` (`weight`: how much its score falls
 * without that session item) and the session's `attention` view (`ids`, `weights`, `rollout`).
 */
export type RecommendationsDetail = ExplainedRecommendations;

/**
 * Detail of `awrsr:error`: why the widget cannot work. The widget is then hidden, or, with
 * `show-errors`, shows "Recommendations are unavailable: " and this message; either way one
 * console warning names the model's URL and the message.
 */
export interface ErrorDetail { message: string }

/** Detail of `awrsr:unknown`, fired on the document: viewed ids the model does not know (not recorded). */
export interface UnknownDetail { ids: string[] }

/** Detail of `awrsr:session`, fired on the document when the session changes. */
export interface SessionDetail { ids: string[] }

/** Detail of `awrsr:view`, an event the page may fire on the document instead of calling `view`. */
export interface ViewDetail { id: string }

/**
 * The model's identity in the analytics events: `sha256:` and the SHA-256 of the bundle's
 * bytes in hex (computed where the bundle is downloaded, in the Worker), or, where
 * SubtleCrypto is missing (plain http from a host other than localhost), the bundle's
 * absolute URL.
 */
export type ModelId = string;

/**
 * Detail of `awrsr:impression`, fired on the element (bubbling) when at least half of a rail
 * with items is in the viewport: once per distinct list of items, not on every scroll.
 */
export interface ImpressionDetail {
  /** The items shown, `position` 1-based in the rail. */
  items: Array<{ id: string; position: number }>;
  variant: Variant;
  model: ModelId;
}

/** Detail of `awrsr:click`, fired on the element (bubbling) when a card is followed (its link, or a `data-action="view"` control). */
export interface ClickDetail {
  id: string;
  /** 1-based position in the rail. */
  position: number;
  variant: Variant;
  model: ModelId;
}

/**
 * Detail of `awrsr:conversion`, fired on the document (bubbling) by `convert(id)` or
 * `['convert', id]`.
 */
export interface ConversionDetail {
  id: string;
  /** The visitor's arm in the page's experiment ('holdout' visitors convert too). */
  variant: Variant;
  /** Whether a rail showed this item to this visitor (an impression; the newest 500 shown ids are kept). */
  recommended: boolean;
  /** Whether the visitor followed it from a rail (the newest 500 clicked ids are kept). */
  clicked: boolean;
}

/**
 * `<awrsr-recommendations>`: a rail of recommendations for the visitor's session.
 *
 * Attributes:
 * - `model`: URL of the model bundle (default "model.awrsr", relative to the page).
 * - `k`: how many items to show, 1–100 (default 8).
 * - `backend`: 'auto' | 'webgpu' | 'cpu' (default: the page setting, 'auto').
 * - `pkg`: the package folder holding client.js, for this element (default: the page setting).
 * - `catalogue`: URL of a JSON catalogue ({@link CatalogueData}) for titles, links and images.
 * - `loading`: 'lazy' loads the engine and model only when the element comes within 200 px of the viewport.
 * - `label`: the accessible name of the list (default "Recommendations").
 * - `show-errors`: when the widget cannot work (a wrong model URL, a file that is not a bundle),
 *   it shows a short message saying why instead of hiding (for development and staging).
 * - `ab`: the name of an A/B experiment for this element ({@link AbConfig}; without it, the page's `config({ ab })`),
 *   with `ab-share`, `ab-holdout` (numbers 0–1) and `ab-control` ('bestsellers', or item ids separated by commas or spaces).
 *   Wrong values: a console warning, and the page's setting applies.
 *
 * A `<template>` child renders each card: `data-field="title|id|score|because"` receive text,
 * `data-field="href"` an `href`, `data-field="image"` a `src` (and `alt=""` unless the
 * template has an alt); `data-action="view"` records a view on click.
 *
 * Events (bubbling): `awrsr:recommendations` after each update, `awrsr:error` when it
 * cannot work (then it is `hidden`, or shows why with `show-errors`; a console warning names
 * the model's URL and the cause), `awrsr:impression` when a list is seen, `awrsr:click`
 * when a card is followed. In the 'holdout' arm the element stays `hidden` and loads nothing;
 * in the 'control' arm it shows the control list (no `score`, `because` empty, on its
 * items) and does not follow the session.
 */
export class AwrsrRecommendations extends HTMLElement {
  /** The `k` attribute, checked (default 8). */
  readonly k: number;
  /** The visitor's arm for this element (fixed once it has started). */
  readonly variant: Variant;
}

/** Page-wide settings; returns those in force. */
export function config(options?: WidgetConfig): ResolvedConfig;
/** The visitor's session. */
export const session: Session;
/**
 * Reports a product view; every widget updates. Resolves to whether it was recorded (ids the
 * loaded model does not know are reported with `awrsr:unknown` and left out).
 */
export function view(id: string): Promise<boolean>;
/** Forgets the visitor's session, and which items rails showed and the visitor clicked (the A/B arm stays). */
export function forget(): void;
/** Reports a purchase or add-to-cart: fires `awrsr:conversion` on the document; returns its detail (null without an id). */
export function convert(id: string): ConversionDetail | null;
/** The visitor's arm in the page's experiment: `config({ ab })`, else the first widget's `ab` attributes; 'awrsr' without one. */
export function variant(): Variant;
/** Adds product details (titles, links, images); widgets already shown are drawn again. */
export function catalogue(data: CatalogueData): void;
/** Fetches a JSON catalogue once per URL; a failure is logged, not thrown. */
export function loadCatalogue(url: string | URL): Promise<void>;
/** A product's details from the catalogue (`{}` when none). */
export function product(id: string): Product;
/** An http(s) or relative URL, resolved against the page; null for anything else (`javascript:`, `data:`, …). */
export function safeUrl(raw: unknown): string | null;
/** Runs queued commands. */
export function push(...commands: Command[]): number;
/** The object installed as `window.awrsr`. */
export const api: AwrsrApi;

/**
 * Loads the engine (client.js from the package folder) once and a model once per URL and
 * settings; shared by every widget using them.
 */
export function loadModel(url: string | URL, options?: {
  backend?: Backend; worker?: WorkerMode; pkg?: string | URL; onProgress?: (progress: LoadProgress) => void;
}): Promise<WidgetRecommender>;
/** The arrived share of a progress report (0–1), or null when the size is unknown. */
export function progressFraction(progress: LoadProgress | null | undefined): number | null;

/** Builds an element: `class`, `text` (textContent), `on<event>` listeners, other keys as attributes. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props?: Record<string, string | number | boolean | null | undefined | EventListener>,
  ...children: Array<Node | string | null | undefined>
): HTMLElementTagNameMap[K];
/**
 * "Because you viewed A (and B)" from an item's own strongest `because` ids (by `weight`, the
 * score drop without that session item; B only when it weighs at least half as much as A), or
 * "Popular right now" when it has none.
 */
export function becauseText(item: Pick<Recommended, 'because'>, nameOf: (id: string) => string): string;
/** A generated cover tile (decorative, aria-hidden). */
export function cover(id: string, title?: string): HTMLSpanElement;
/** Re-renders `container` keeping keyboard focus on the same item, else the first, else `fallback`. */
export function keepFocus(container: Element, render: () => void, fallback?: HTMLElement): void;
/** "Recommendations updated: 8 items, first: …." */
export function updateMessage(items: Array<Pick<Recommended, 'id'>>, nameOf: (id: string) => string): string;
/** The name shown for an item: the catalogue's title, else the model's, else the id. */
export function nameOf(id: string): string;

declare global {
  interface Window {
    awrsr: AwrsrApi | AwrsrQueue;
  }
  interface HTMLElementTagNameMap {
    'awrsr-recommendations': AwrsrRecommendations;
  }
  interface DocumentEventMap {
    'awrsr:recommendations': CustomEvent<RecommendationsDetail>;
    'awrsr:error': CustomEvent<ErrorDetail>;
    'awrsr:unknown': CustomEvent<UnknownDetail>;
    'awrsr:session': CustomEvent<SessionDetail>;
    'awrsr:view': CustomEvent<ViewDetail>;
    'awrsr:impression': CustomEvent<ImpressionDetail>;
    'awrsr:click': CustomEvent<ClickDetail>;
    'awrsr:conversion': CustomEvent<ConversionDetail>;
  }
  interface HTMLElementEventMap {
    'awrsr:recommendations': CustomEvent<RecommendationsDetail>;
    'awrsr:error': CustomEvent<ErrorDetail>;
    'awrsr:impression': CustomEvent<ImpressionDetail>;
    'awrsr:click': CustomEvent<ClickDetail>;
  }
}
