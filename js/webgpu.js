// Where this package's WebGPU build is: webgpu/awrsr.js and its wasm, loaded only when
// builds.js chooses it. The CPU-only package (awrsr-cpu) has webgpu-none.js in this file's
// place (scripts/build-web.sh), so that nothing there names a file it lacks.

/** The WebGPU build: its glue module and its wasm's URL, written in the patterns bundlers follow. */
export const webgpuBuild = {
  name: 'webgpu',
  glue: () => import('./webgpu/awrsr.js'),
  wasm: () => new URL('./webgpu/awrsr_bg.wasm', import.meta.url).href,
};
