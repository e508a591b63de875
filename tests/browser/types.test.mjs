// The packages' TypeScript types as a shop's project meets them: pkg/ (`awrsr`) and pkg-cpu/
// (`awrsr-cpu`), linked into a fresh project's node_modules, and a small file that uses
// `awrsr`, `awrsr/client` and `awrsr/widget` compiled with `tsc --strict --noEmit` (no
// `--skipLibCheck`, no lib chosen) by TypeScript 5.9 and 7 (the devDependencies `typescript`
// and `typescript7`), under each compiler's default settings (5.9: node10 resolution, which
// reads `typesVersions`, and the ES5 lib; 7: bundler resolution), `--moduleResolution bundler`,
// `node16` and `nodenext`. The file is written for the ES5 lib (no async functions), and one
// `@ts-expect-error` line fails the build if the types were read as `any`.
// Runs offline, without a browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { access, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './harness.mjs';

const PACKAGES = [['pkg', 'awrsr'], ['pkg-cpu', 'awrsr-cpu']];
const COMPILERS = ['typescript', 'typescript7'];
const SETTINGS = {
  default: [],
  bundler: ['--module', 'esnext', '--moduleResolution', 'bundler'],
  node16: ['--module', 'node16', '--moduleResolution', 'node16'],
  nodenext: ['--module', 'nodenext', '--moduleResolution', 'nodenext'],
};

/** A shop's file using the three entries of package `name` (valid under the ES5 lib). */
const usage = (name) => `
import init, { Recommender, type Recommendations } from '${name}';
import { load, type Client, type LoadProgress } from '${name}/client';
import { config, type ErrorDetail } from '${name}/widget';

config({ pkg: '/static/awrsr/', backend: 'cpu' });
document.addEventListener('awrsr:error', (event) => {
  const detail: ErrorDetail = event.detail;
  console.warn(detail.message);
});
const rail = document.createElement('awrsr-recommendations');
const k: number = rail.k;

export function inPage(): Promise<Recommendations> {
  return init()
    .then(() => Recommender.load('/model.awrsr', { backend: 'cpu' }))
    .then((rec) => rec.recommend(['1'], { k }).then((out) => { rec.free(); return out; }));
}

export function inWorker(): Promise<string[]> {
  const onProgress = (p: LoadProgress) => console.log(p.loaded, p.total);
  return load('/model.awrsr', { onProgress })
    .then((rec: Client) => rec.recommend(['1'], { k: 3, explain: true }))
    .then((out) => out.items.map((item) => item.because[0]?.id ?? item.id));
}

// @ts-expect-error: k is a number (fails the build if the types were read as 'any')
load('/model.awrsr').then((rec) => rec.recommend(['1'], { k: '3' }));
`;

/** `using` on a Recommender, which the esnext lib allows (the method is typed where it exists). */
const disposing = (name) => `
import { Recommender } from '${name}';
export async function count(): Promise<number> {
  using rec = await Recommender.load('/model.awrsr', {});
  return rec.itemCount;
}
`;

let project;
before(async () => {
  for (const [folder] of PACKAGES) {
    await access(join(ROOT, folder, 'awrsr.d.ts')).catch(() => {
      throw new Error(`${folder}/ is missing: run scripts/build-web.sh --cpu`);
    });
  }
  for (const compiler of COMPILERS) {
    await access(join(ROOT, 'node_modules', compiler, 'bin/tsc')).catch(() => {
      throw new Error(`node_modules/${compiler} is missing: run scripts/setup.sh`);
    });
  }
  project = await mkdtemp(join(tmpdir(), 'awrsr-types-'));
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'shop', private: true, type: 'module' }));
  await mkdir(join(project, 'node_modules'));
  for (const [folder, name] of PACKAGES) {
    await symlink(join(ROOT, folder), join(project, 'node_modules', name), 'dir');
    await writeFile(join(project, `use-${name}.ts`), usage(name));
    await writeFile(join(project, `dispose-${name}.ts`), disposing(name));
  }
});
after(async () => {
  if (project) await rm(project, { recursive: true, force: true });
});

/** Runs `tsc --strict --noEmit …args` of `compiler` in the project: `{ code, output }`. */
async function tsc(compiler, args) {
  const bin = join(ROOT, 'node_modules', compiler, 'bin/tsc');
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, '--strict', '--noEmit', ...args], { cwd: project });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    return { code: error.code, output: `${error.stdout}${error.stderr}` };
  }
}

for (const compiler of COMPILERS) {
  test(`${compiler}: awrsr, awrsr/client and awrsr/widget compile under --strict in every setting, without an esnext lib`, async () => {
    for (const [setting, args] of Object.entries(SETTINGS)) {
      for (const [, name] of PACKAGES) {
        const { code, output } = await tsc(compiler, [...args, `use-${name}.ts`]);
        assert.equal(output.trim(), '', `${compiler} ${setting} ${name}`);
        assert.equal(code, 0, `${compiler} ${setting} ${name}`);
      }
    }
  });

  test(`${compiler}: with the esnext lib, a Recommender is disposable (\`using\`)`, async () => {
    for (const [, name] of PACKAGES) {
      const { code, output } = await tsc(compiler, ['--target', 'es2022', '--lib', 'esnext,dom', ...SETTINGS.bundler, `dispose-${name}.ts`]);
      assert.equal(output.trim(), '', `${compiler} ${name}`);
      assert.equal(code, 0, `${compiler} ${name}`);
    }
  });
}
