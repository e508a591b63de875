// Makes a large-catalogue model bundle from the shipped one, for benchmarks and parity tests
// at catalogue sizes no shipped file has (no large file in the repository): the network is
// kept, the item table grows to `items` rows, the new rows drawn (seeded) with the spread
// of the trained rows, new ids `w<i>`. A plain safetensors file, as `awrsr train` writes.

/** Deterministic normal deviates (mulberry32 + Box–Muller). */
function normals(seed) {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** Splits a safetensors file into its header (JSON) and its data section. */
export function readSafetensors(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  return { header, data: bytes.subarray(8 + length) };
}

/** Writes tensors `{ name: { shape, values: Float32Array } }` and string metadata. */
export function writeSafetensors(metadata, tensors) {
  const header = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.values.byteLength] };
    offset += t.values.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((json.length + 8) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const t of Object.values(tensors)) {
    out.set(new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength), at);
    at += t.values.byteLength;
  }
  return out;
}

/**
 * The shipped bundle `bytes` with a catalogue of `items` items (≥ its own); with
 * `{ plain: true }` also without the refinement (`refinement: "none"`, the refiner tensors
 * dropped): plain SASRec of the same shape, as the onnxruntime-web peer runs.
 */
export function widenBundle(bytes, items, { seed = 7, plain = false } = {}) {
  const { header, data } = readSafetensors(bytes);
  const metadata = { ...header.__metadata__ };
  const config = JSON.parse(metadata['awrsr.config']);
  const ids = JSON.parse(metadata['awrsr.items']);
  const titles = metadata['awrsr.titles'] ? JSON.parse(metadata['awrsr.titles']) : ids.map(() => null);
  if (items < ids.length) throw new Error(`cannot shrink ${ids.length} items to ${items}`);
  const tensors = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__' || (plain && name.includes('.refiner.'))) continue;
    const [begin, end] = info.data_offsets;
    const values = new Float32Array(new Uint8Array(data.subarray(begin, end)).buffer); // a copy
    tensors[name] = { shape: info.shape, values };
  }
  const old = tensors['items.weight'];
  const d = old.shape[1];
  const trained = old.values.subarray(d); // row 0 is padding
  const mean = trained.reduce((s, v) => s + v, 0) / trained.length;
  const std = Math.sqrt(trained.reduce((s, v) => s + (v - mean) ** 2, 0) / trained.length);
  const grown = new Float32Array((items + 1) * d);
  grown.set(old.values);
  const draw = normals(seed);
  for (let i = old.values.length; i < grown.length; i++) grown[i] = mean + std * draw();
  tensors['items.weight'] = { shape: [items + 1, d], values: grown };
  for (let i = ids.length; i < items; i++) {
    ids.push(`w${i}`);
    titles.push(null);
  }
  for (const key of Object.keys(metadata)) if (key.includes('checksum')) delete metadata[key];
  metadata['awrsr.config'] = JSON.stringify({ ...config, num_items: items, ...(plain ? { refinement: 'none' } : {}) });
  metadata['awrsr.items'] = JSON.stringify(ids);
  metadata['awrsr.titles'] = JSON.stringify(titles);
  return writeSafetensors(metadata, tensors);
}
