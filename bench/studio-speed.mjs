// The studio's training speed (issue 26, point 5): ml-latest-small trained by the studio's
// CPU build in headless Chromium (one thread: a page's wasm has one) against the native CLI
// on one thread (RAYON_NUM_THREADS=1) and on both cores, same settings and seed, one after
// the other in one run. Both follow the same trajectory (tests/browser/studio-parity), so they
// stop at about the same epoch (over tens of epochs native and wasm rounding part them: the
// run to early stopping stops at another epoch). Each run's epoch times (the batches, without
// validation) are kept, and the ratio of their medians, which a burst of load on the machine
// moves less than the totals. Writes results/studio-speed.json (to early stopping) or
// results/studio-speed-N-epochs.json.
//
//   node bench/studio-speed.mjs [--epochs N]   (default 200: until early stopping)
//   AWRSR_BIN: the CLI to time (default: the release build in $CARGO_TARGET_DIR).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, serve, launch, apiPage } from '../tests/browser/harness.mjs';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at < 0 ? fallback : process.argv[at + 1];
};
const EPOCHS = Number(arg('--epochs', '200'));
const BIN = process.env.AWRSR_BIN ?? join(process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target'), 'release/awrsr');
const DATA = join(ROOT, 'data/ml-latest-small');

/** The median of `values`. */
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** The CLI's run on `threads` threads: wall seconds, epoch times, epochs run and figures. */
function cli(threads) {
  const metrics = join(ROOT, 'test-output', `studio-speed-cli-${threads}.json`);
  const started = performance.now();
  const log = execFileSync(BIN, ['train', '--data', join(DATA, 'ratings.csv'), '--epochs', String(EPOCHS), '--seed', '42',
    '--out', join(ROOT, 'test-output', `studio-speed-${threads}.awrsr`), '--metrics-json', metrics, '--quiet'],
  { env: { ...process.env, RAYON_NUM_THREADS: String(threads) }, encoding: 'utf8' });
  const seconds = (performance.now() - started) / 1000;
  const best = log.match(/best epoch (\d+) of (\d+)/);
  const { valid, test } = JSON.parse(readFileSync(metrics, 'utf8'));
  const perEpoch = [...log.matchAll(/^epoch +\d+ +loss \S+ +([\d.]+) s,/gm)].map((m) => Number(m[1]));
  return { threads, seconds, bestEpoch: Number(best[1]), epochsRun: Number(best[2]), perEpoch, valid, test };
}

/** The studio's run in a page: wall seconds from `start` to the finished result, epochs. */
async function studio(page) {
  const files = [await readFile(join(DATA, 'ratings.csv')), await readFile(join(DATA, 'movies.csv'))];
  return page.evaluate(async ([ratings, movies, epochs]) => {
    const studio = new awrsr.Studio();
    studio.addFile('ratings.csv', new Uint8Array(ratings));
    studio.addFile('movies.csv', new Uint8Array(movies));
    const read = performance.now();
    studio.read('ratings.csv', {});
    const started = performance.now();
    await studio.start({ epochs, seed: 42, backend: 'cpu' });
    let progress;
    const perEpoch = [];
    do {
      progress = await studio.step(250);
      if (progress.finished) perEpoch.push(progress.finished.seconds);
      await new Promise((resolve) => setTimeout(resolve, 0));
    } while (!progress.done);
    const result = studio.finish('f32');
    const seconds = (performance.now() - started) / 1000;
    studio.free();
    return {
      readSeconds: (started - read) / 1000, seconds, bestEpoch: result.bestEpoch, epochsRun: result.epochsRun, perEpoch,
      valid: result.valid, test: result.test,
    };
  }, [Array.from(files[0]), Array.from(files[1]), EPOCHS]);
}

const server = await serve();
const browser = await launch({ webgpu: false });
try {
  const page = await apiPage(browser, server.url, '/pkg-studio');
  const results = {
    date: new Date().toISOString(), command: `node bench/studio-speed.mjs --epochs ${EPOCHS}`,
    data: 'ml-latest-small', epochs: EPOCHS, machine: `${(await import('node:os')).cpus().length} cores`,
    cli: [], studio: null, complete: false,
  };
  // Written after each run: a run to early stopping takes over an hour here in all.
  const file = EPOCHS === 200 ? 'studio-speed.json' : `studio-speed-${EPOCHS}-epochs.json`;
  const save = () => writeFile(join(ROOT, 'results', file), JSON.stringify(results, null, 2) + '\n');
  results.cli.push(cli(1));
  await save();
  results.studio = await studio(page);
  results.ratioToOneThread = results.studio.seconds / results.cli[0].seconds;
  results.epochRatioToOneThread = median(results.studio.perEpoch) / median(results.cli[0].perEpoch);
  await save();
  results.cli.push(cli(2));
  results.ratioToTwoThreads = results.studio.seconds / results.cli[1].seconds;
  results.epochRatioToTwoThreads = median(results.studio.perEpoch) / median(results.cli[1].perEpoch);
  results.complete = true;
  await save();
  console.log(JSON.stringify(results, null, 2));
} finally {
  await browser.close();
  await server.close();
}
