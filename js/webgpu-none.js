// webgpu.js of the CPU-only package, awrsr-cpu (scripts/build-web.sh copies this file in place
// of js/webgpu.js): that package has no WebGPU build, so every model runs on the CPU build.

/** There is no WebGPU build in this package. */
export const webgpuBuild = null;
