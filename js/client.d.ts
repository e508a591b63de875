// Types of client.js: `load(model, options)` runs the model in a module Worker (or in the
// page) and answers every call with a Promise, in call order.
import type { Because, Recommendations, Recommended, RecommendOptions } from './awrsr.js';

export type { Recommendations, RecommendOptions, Recommended, Because } from './awrsr.js';

/**
 * What `recommend` resolves to with `explain: true`: every item has its own `because` (the
 * session items that most raise its score, strongest first, at most 5, possibly none; each
 * `weight` is how much the item's score falls when that session item is left out, > 0), and
 * `attention` is the session-level view (`ids` read, oldest first; `weights[i][j]`, j ≤ i, the
 * last layer's attention; `rollout`, each item's rollout share).
 */
export type ExplainedRecommendations = Omit<Recommendations, 'items' | 'attention'> & {
    items: Array<Recommended & { because: Because[] }>;
    attention: NonNullable<Recommendations['attention']>;
};

/** Bytes of one download so far; `total` is `null` while unknown (no Content-Length yet). */
export interface ByteProgress { loaded: number; total: number | null }

/**
 * Loading progress over both downloads (the wasm module and the model, fetched in
 * parallel). `loaded` is their sum; `total` is `null` while either total is unknown. The last
 * report has `loaded === total` (and each part's `loaded === total`).
 */
export interface LoadProgress extends ByteProgress { wasm: ByteProgress; model: ByteProgress }

/** Options of {@link load}; any other key is an Error. */
export interface LoadOptions {
    /** Passed to `Recommender.load`: `'auto'` (default), `'webgpu'` or `'cpu'`. */
    backend?: 'auto' | 'webgpu' | 'cpu';
    /** Run the model in a module Worker: `'auto'` (default) does where `Worker` exists. */
    worker?: boolean | 'auto';
    /** Called as bytes arrive (monotonic), and once at the end with `loaded === total`. */
    onProgress?: (progress: LoadProgress) => void;
    /** Aborts loading: `load` rejects with the signal's reason (an `AbortError`). */
    signal?: AbortSignal;
}

/** Options of {@link Client.recommend}: those of `Recommender.recommend`, plus `supersede`. */
export interface ClientRecommendOptions extends RecommendOptions {
    /**
     * Reject every earlier `recommend` still waiting (not yet started) with an `Error` named
     * `'AbortError'`; the one already running finishes normally.
     */
    supersede?: boolean;
}

/**
 * A loaded model. Every method returns a Promise, answered in call order, the same in a
 * Worker and in the page; the properties are a snapshot taken at load.
 */
export declare class Client {
    private constructor();
    /** What actually runs. */
    readonly backend: 'webgpu' | 'cpu';
    /** Why `'auto'` fell back to the CPU, or `null`. */
    readonly fallbackReason: string | null;
    /** Number of items the model knows. */
    readonly itemCount: number;
    /** Longest session the model reads; longer sessions keep their newest items. */
    readonly maxLength: number;
    /** What loading noticed without refusing the bundle. */
    readonly warnings: string[];
    /** `sha256:` and the SHA-256 of the bundle's bytes in hex (the model's identity in analytics events), or `null` where SubtleCrypto is missing (plain http from a host other than localhost). */
    readonly modelHash: string | null;
    /** Whether the model runs in a Worker. */
    readonly inWorker: boolean;
    /** Recommends for a session (item ids, oldest first), with each item's reasons and the attention view. */
    recommend(session: string[], options: ClientRecommendOptions & { explain: true }): Promise<ExplainedRecommendations>;
    /** Recommends for a session (item ids, oldest first). */
    recommend(session: string[], options?: ClientRecommendOptions | null): Promise<Recommendations>;
    /** Whether the model knows this item id. */
    hasItem(id: string): Promise<boolean>;
    /** For each id, whether the model knows it. */
    hasItems(ids: string[]): Promise<boolean[]>;
    /** The title of an item, or `undefined`. */
    title(id: string): Promise<string | undefined>;
    /** Every item id the model knows, in its internal order. */
    itemIds(): Promise<string[]>;
    /** Frees this Client (unanswered and later calls reject); the model and its worker end with the model's last Client. */
    free(): void;
}

/**
 * Downloads the wasm module and the model in parallel and loads the model, in a Worker where
 * there is one. A relative URL is the page's. Rejects with an `Error` naming the problem.
 * A model URL already loading or loaded with the same `backend` and `worker` is shared: the
 * new Client uses the same engine (one Worker, one wasm, one model download).
 */
export function load(model: string | URL | Uint8Array | ArrayBuffer, options?: LoadOptions): Promise<Client>;

/** @internal Used by worker.js: downloads and loads in the current realm. */
export function startEngine(
    source: string | Uint8Array,
    options: { backend?: LoadOptions['backend']; onProgress: (progress: LoadProgress) => void; signal?: AbortSignal },
): Promise<{ facts: object; call(method: string, args: unknown[]): Promise<unknown>; free(): void }>;

/** @internal Used by worker.js: an error as `{ name, message }`. */
export function errorData(error: unknown): { name: string; message: string };
