// Which of the package's two wasm builds runs a model. The CPU build (awrsr.js and
// awrsr_bg.wasm beside this file, 0.67 MB gzip) is the default; the WebGPU build (webgpu/,
// 2.2 MB gzip, absent from awrsr-cpu: see webgpu.js) is loaded only when `backend: 'webgpu'`
// asks for it, or when `'auto'` finds a real GPU (not a software adapter such as SwiftShader)
// and a catalogue of at least WEBGPU_MIN_ITEMS items. Below that size the CPU path answers in
// a few milliseconds (docs/results.md, "Which build"), so the larger download buys nothing.

import { webgpuBuild } from './webgpu.js';

/**
 * The catalogue size from which `'auto'` loads the WebGPU build on a real GPU: about where a
 * 50-item session's recommendation on the CPU build passes 5 ms, a generous guess at a real
 * GPU's fixed cost per call (bench/threshold.mjs measures the CPU side). The GPU side is not
 * measured (no GPU machine): docs/results.md, "Which build".
 */
export const WEBGPU_MIN_ITEMS = 300_000;

/** The CPU build: its glue module and its wasm's URL, written in the patterns bundlers follow. */
const cpuBuild = {
  name: 'cpu',
  glue: () => import('./awrsr.js'),
  wasm: () => new URL('./awrsr_bg.wasm', import.meta.url).href,
};

/** Software adapters, as their adapter info names them: emulated shaders, slower than the CPU build. */
const SOFTWARE = /swiftshader|llvmpipe|lavapipe|software/i;

/**
 * The build to download first: the WebGPU build when `backend` is 'webgpu' and the package
 * has one, else the CPU build (which `'auto'` may still trade for the WebGPU build: see `autoBuild`).
 * @param {string | undefined} backend
 */
export function requestedBuild(backend) {
  return backend === 'webgpu' && webgpuBuild ? webgpuBuild : cpuBuild;
}

/** No WebGPU here, as `probeAdapter` says it. */
const NO_ADAPTER = { real: false, reason: 'this browser offers no WebGPU adapter' };

/**
 * What this browser's WebGPU offers `'auto'`, asked only where the package has a WebGPU build:
 * `{ real: true }` for a real GPU, else `{ real: false, reason }` saying why not; null when
 * the question does not arise (another backend was asked for, or the package is CPU-only).
 * @param {string | undefined} backend
 * @returns {Promise<{ real: boolean, reason?: string } | null>}
 */
export async function probeAdapter(backend) {
  if (!webgpuBuild || (backend !== undefined && backend !== 'auto')) return null;
  try {
    const adapter = await globalThis.navigator?.gpu?.requestAdapter();
    if (!adapter) return NO_ADAPTER;
    const software = softwareAdapter(adapter);
    return software ? { real: false, reason: `the WebGPU adapter is a software fallback (${software}): the CPU path is faster` } : { real: true };
  } catch {
    return NO_ADAPTER;
  }
}

/**
 * How a software adapter (emulated shaders, slower than the CPU build) describes itself, or
 * null for a real GPU: WebGPU's `isFallbackAdapter`, or a known software driver in its info.
 */
function softwareAdapter(adapter) {
  const info = adapter.info ?? {};
  const described = ['vendor', 'architecture', 'device', 'description'].map((key) => info[key]).filter(Boolean).join(' ');
  const software = info.isFallbackAdapter || adapter.isFallbackAdapter || SOFTWARE.test(described);
  return software ? described || 'unnamed' : null;
}

/**
 * `'auto'`'s choice once the model's bytes are in: the WebGPU build on a real GPU with a
 * catalogue of at least WEBGPU_MIN_ITEMS items, else the CPU build and the reason (the
 * `fallbackReason` a client reports). `adapter` is `probeAdapter`'s answer; null keeps `first`.
 * @param {object} first The build already downloaded (`requestedBuild`).
 * @param {{ real: boolean, reason?: string } | null} adapter
 * @param {Uint8Array} model The bundle's bytes.
 * @returns {{ build: object, reason: string | null }}
 */
export function autoBuild(first, adapter, model) {
  if (!adapter) return { build: first, reason: null };
  if (!adapter.real) return { build: cpuBuild, reason: adapter.reason };
  const items = itemCount(model);
  if (items !== null && items >= WEBGPU_MIN_ITEMS) return { build: webgpuBuild, reason: null };
  const size = items === null ? 'of unknown size' : `of ${items} items`;
  return { build: cpuBuild, reason: `the catalogue is ${size}, under the ${WEBGPU_MIN_ITEMS} items from which WebGPU is loaded: the CPU path is as fast there` };
}

/**
 * The catalogue size a bundle's header declares (its `awrsr.config`), or null where the bytes
 * are not a readable bundle (the engine then says what is wrong with them).
 * @param {Uint8Array} bytes
 * @returns {number | null}
 */
export function itemCount(bytes) {
  try {
    const length = Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true));
    if (!(length > 0 && length <= bytes.length - 8)) return null;
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
    const items = JSON.parse(header.__metadata__['awrsr.config']).num_items;
    return Number.isSafeInteger(items) && items >= 0 ? items : null;
  } catch {
    return null;
  }
}
