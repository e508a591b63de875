// Makes a large-catalogue model bundle from the shipped one, for benchmarks and parity tests
// at catalogue sizes no shipped file has (no large file in the repository): the network is
// kept, the item table grows to `items` rows, the new rows drawn (seeded) with the spread
// of the trained rows, new ids `w<i>`. A plain f32 safetensors file, as `awrsr train` writes
// (an f16 or int8 bundle is widened to f32 first).

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

/** IEEE half float → number. */
function half(bits) {
  const exponent = (bits >> 10) & 0x1f, fraction = bits & 0x3ff, sign = bits & 0x8000 ? -1 : 1;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Every model tensor of a bundle as f32 `{ name: { shape, values } }` (f16 and int8 widened). */
function f32Tensors(header, data) {
  const raw = (info) => new Uint8Array(data.subarray(...info.data_offsets)); // a copy
  const tensors = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__' || name.endsWith('.scale')) continue;
    const real = (info) => {
      if (info.dtype === 'F32') return new Float32Array(raw(info).buffer);
      if (info.dtype === 'F16') return Float32Array.from(new Uint16Array(raw(info).buffer), half);
      throw new Error(`tensor ${name}: unsupported dtype ${info.dtype}`);
    };
    let values;
    if (info.dtype === 'I8') {
      const scales = real(header[`${name}.scale`]);
      const row = info.shape.at(-1);
      values = Float32Array.from(new Int8Array(raw(info).buffer), (q, i) => Math.fround(q * scales[Math.floor(i / row)]));
    } else values = real(info);
    tensors[name] = { shape: info.shape, values };
  }
  return tensors;
}

/**
 * The feed-forward layers cut to width d (the first d hidden units kept): the peer's shape.
 * For timing only — the cut network is not the trained one.
 */
function narrowFeedForward(tensors, d) {
  for (const [name, t] of Object.entries(tensors)) {
    if (name.endsWith('ffn_in.weight')) {
      const [rows, cols] = t.shape;
      tensors[name] = { shape: [rows, d], values: Float32Array.from({ length: rows * d }, (_, i) => t.values[Math.floor(i / d) * cols + (i % d)]) };
    } else if (name.endsWith('ffn_in.bias')) tensors[name] = { shape: [d], values: t.values.slice(0, d) };
    else if (name.endsWith('ffn_out.weight')) tensors[name] = { shape: [d, t.shape[1]], values: t.values.slice(0, d * t.shape[1]) };
  }
}

/**
 * The shipped bundle `bytes` with a catalogue of `items` items (≥ its own); with
 * `{ plain: true }` also without the refinement (`refinement: "none"`, the refiner tensors
 * dropped) and with a d-wide feed-forward: plain SASRec of the peer's shape (the
 * onnxruntime-web model: d 64, 2 blocks, 2 heads, feed-forward d→d).
 */
export function widenBundle(bytes, items, { seed = 7, plain = false } = {}) {
  const { header, data } = readSafetensors(bytes);
  const metadata = { ...header.__metadata__ };
  const config = JSON.parse(metadata['awrsr.config']);
  const ids = JSON.parse(metadata['awrsr.items']);
  items ??= ids.length;
  const titles = metadata['awrsr.titles'] ? JSON.parse(metadata['awrsr.titles']) : ids.map(() => null);
  if (items < ids.length) throw new Error(`cannot shrink ${ids.length} items to ${items}`);
  const tensors = f32Tensors(header, data);
  if (plain) for (const name of Object.keys(tensors)) if (name.includes('.refiner.')) delete tensors[name];
  const old = tensors['items.weight'];
  const d = old.shape[1];
  if (plain) narrowFeedForward(tensors, d);
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
  for (const key of Object.keys(metadata)) if (key.includes('checksum') || key === 'awrsr.precision') delete metadata[key];
  metadata['awrsr.config'] = JSON.stringify({ ...config, num_items: items, ...(plain ? { refinement: 'none', ffn_multiplier: 1 } : {}) });
  metadata['awrsr.items'] = JSON.stringify(ids);
  metadata['awrsr.titles'] = JSON.stringify(titles);
  return writeSafetensors(metadata, tensors);
}

/** The bundle `bytes` with its weights in f32 (an int8 or f16 bundle widened), no checksum. */
export function f32Bundle(bytes) {
  return widenBundle(bytes);
}
