// Crafted model bundles for hostile.test.mjs, made in Node from the shipped model's weights:
// decomposing and composing safetensors files, the bundle checksum of
// src/bundle/checksum.rs recomputed in JS (to seal an edited bundle, or leave it stale),
// tiny valid models of any shape, raw safetensors files with any header bytes, and a seeded
// random source for the mutations.
import { readSafetensors, writeSafetensors } from './widen.mjs';

/** Deterministic uniform numbers in [0, 1) (mulberry32). */
export function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A bundle's metadata and its tensors `{ name: { shape, values: Float32Array } }` (copies). */
export function decompose(bytes) {
  const { header, data } = readSafetensors(bytes);
  const tensors = {};
  for (const name of Object.keys(header).filter((n) => n !== '__metadata__').sort()) {
    const { shape, data_offsets: [begin, end] } = header[name];
    tensors[name] = { shape, values: new Float32Array(new Uint8Array(data.subarray(begin, end)).buffer) };
  }
  return { metadata: { ...header.__metadata__ }, tensors };
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** `awrsr.checksum` as src/bundle/checksum.rs computes it. */
export function checksum(metadata, tensors) {
  let crc = 0xffffffff;
  const update = (bytes) => {
    for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  };
  const u64 = (n) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
    return b;
  };
  const feed = (bytes) => { update(u64(bytes.length)); update(bytes); };
  const text = (s) => new TextEncoder().encode(s);
  for (const key of ['awrsr.config', 'awrsr.items', 'awrsr.titles']) {
    if (key in metadata) { feed(text(key)); feed(text(metadata[key])); }
  }
  for (const name of Object.keys(tensors).sort()) {
    const { shape, values } = tensors[name];
    feed(text(name));
    feed(text('F32'));
    for (const dim of shape) feed(u64(dim));
    feed(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  return `crc32:${((crc ^ 0xffffffff) >>> 0).toString(16).padStart(8, '0')}`;
}

/** Writes a bundle; `seal` adds a correct checksum, otherwise any stale one is kept as given. */
export function compose(metadata, tensors, { seal = false } = {}) {
  const meta = { ...metadata };
  if (seal) meta['awrsr.checksum'] = checksum(meta, tensors);
  return writeSafetensors(meta, tensors);
}

/**
 * `base` (a decomposed bundle) edited, in its three checksum cases: removed (an older bundle),
 * left stale (the edit is corruption), and recomputed (a deliberate edit that the checksum
 * cannot catch). `edit(metadata, tensor, tensors)` changes the copies; `tensor(name)` gives
 * a tensor of its own to change in place.
 */
export function checksumCases(base, name, edit) {
  const metadata = { ...base.metadata };
  const tensors = { ...base.tensors };
  // The tensors are shared with `base`: an edit asks for its own copy of one.
  const tensor = (n) => (tensors[n] = { shape: tensors[n].shape, values: tensors[n].values.slice() });
  edit(metadata, tensor, tensors);
  const removed = { ...metadata };
  delete removed['awrsr.checksum'];
  return [
    [`${name} (checksum removed)`, compose(removed, tensors)],
    [`${name} (checksum stale)`, compose(metadata, tensors)],
    [`${name} (checksum recomputed)`, compose(removed, tensors, { seal: true })],
  ];
}

/** A small valid model of any shape, with seeded weights (the smallest that loads, etc.). */
export function tinyModel(config, { seed = 3, ids } = {}) {
  const full = { num_items: 3, max_len: 1, d_model: 1, layers: 1, heads: 1, dropout: 0, refinement: 'additive', refine_scale: 1, activation: 'gelu', ...config };
  const draw = random(seed);
  const d = full.d_model, n = full.max_len;
  const tensor = (shape, fill) => ({ shape, values: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, fill ?? (() => draw() - 0.5)) });
  const tensors = {
    'items.weight': tensor([full.num_items + 1, d]),
    'positions.weight': tensor([n, d]),
    'final_norm.gamma': tensor([d], () => 1),
    'final_norm.beta': tensor([d], () => 0),
  };
  for (let l = 0; l < full.layers; l++) {
    for (const norm of ['norm_attention', 'norm_ffn']) {
      tensors[`blocks.${l}.${norm}.gamma`] = tensor([d], () => 1);
      tensors[`blocks.${l}.${norm}.beta`] = tensor([d], () => 0);
    }
    for (const linear of ['attention.query', 'attention.key', 'attention.value', 'attention.output', 'ffn_in', 'ffn_out']) {
      tensors[`blocks.${l}.${linear}.weight`] = tensor([d, d]);
      tensors[`blocks.${l}.${linear}.bias`] = tensor([d]);
    }
    if (full.refinement !== 'none') {
      tensors[`blocks.${l}.attention.refiner.w_query`] = tensor([full.heads, n, n]);
      tensors[`blocks.${l}.attention.refiner.w_key`] = tensor([full.heads, n, n]);
    }
    if (full.refinement === 'additive') tensors[`blocks.${l}.attention.refiner.gate`] = tensor([1]);
  }
  const metadata = {
    'awrsr.format': 'awrsr-bundle', 'awrsr.version': '1', 'awrsr.config': JSON.stringify(full),
    'awrsr.items': JSON.stringify(ids ?? Array.from({ length: full.num_items }, (_, i) => String(i + 1))),
  };
  return compose(metadata, tensors, { seal: true });
}

/** A safetensors file with these bytes as its header JSON and `data` after it. */
export function rawSafetensors(headerText, data = new Uint8Array(0), declaredLength) {
  const head = typeof headerText === 'string' ? new TextEncoder().encode(headerText) : headerText;
  const out = new Uint8Array(8 + head.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(declaredLength ?? head.length), true);
  out.set(head, 8);
  out.set(data, 8 + head.length);
  return out;
}

/** Byte offset of the tensor data (8 + header length) of a bundle. */
export const dataStart = (bytes) => 8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
