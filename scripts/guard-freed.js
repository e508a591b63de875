
// Appended to wasm-bindgen's awrsr.js by scripts/build-web.sh: a call on a freed Recommender
// throws here, in JavaScript, and a second free() does nothing. (wasm-bindgen would pass a
// null pointer into the module, whose error, thrown from inside it, leaks the module's
// stack: enough such calls end the module.)
{
  const live = (o) => typeof o?.__wbg_ptr === 'number' && o.__wbg_ptr !== 0;
  const prototype = Recommender.prototype;
  for (const [name, property] of Object.entries(Object.getOwnPropertyDescriptors(prototype))) {
    if (name === 'constructor' || name.startsWith('__')) continue;
    const guard = (f) => name === 'free'
      ? function free() { if (live(this)) f.call(this); }
      : function (...args) {
        if (!live(this)) throw new Error(`Recommender.${name}: this model has been freed (or is not a Recommender)`);
        return f.apply(this, args);
      };
    if (property.get) property.get = guard(property.get);
    else if (typeof property.value === 'function') property.value = guard(property.value);
    else continue;
    Object.defineProperty(prototype, name, property);
  }
  if (Symbol.dispose) prototype[Symbol.dispose] = prototype.free;
}
