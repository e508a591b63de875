// awrsr studio, the page: a shop owner drops an export, checks what was read (and corrects
// it), trains, and leaves with `model.awrsr`, a `catalogue.json` skeleton and the widget
// snippet. All the work runs in a module Worker (worker.js, protocol described there), so the
// page stays responsive; this file only keeps the files, talks to the worker and draws.
//
// Privacy: the files are handed to the worker as `File` objects and read there; nothing is
// fetched or sent. The only requests the page makes are its own files and the engine's
// (pkg-studio/awrsr.js and its wasm). Downloads are Blobs behind object URLs.
//
// Every message from the engine (a refused file, a bad line, a failed step) is shown as text
// in the page, never as HTML; a wasm trap replaces the worker and keeps the page working.
import { drawChart } from './chart.js';

/** The most the page reads, all dropped files together: the tab's memory holds the files and what is read from them. */
export const LIMIT_BYTES = 512 * 1024 * 1024;
/** How many held-out sessions the result shows with their recommendations. */
const EXAMPLES = 3;
/** Metrics in the order the result table shows them (others follow, as the engine names them). */
const METRIC_ORDER = ['HR@5', 'HR@10', 'HR@20', 'NDCG@10', 'NDCG@20', 'MRR@10', 'MRR@20', 'MRR'];
/** Formats whose exports are clicks in sessions: the click-export fields apply to them. */
const CLICK_FORMATS = ['events', 'diginetica', 'yoochoose', 'retailrocket'];

/** The page's element with this id. */
const $ = (id) => document.getElementById(id);
/** Counts as the page's language writes them (the page is in English). */
const numbers = new Intl.NumberFormat('en');

/** The page's state: the files given, what was read, the training under way and its result. */
const state = {
  files: [], summary: null, busy: false, training: null, stopped: false, epochs: [], chartSpan: 0, result: null, modelUrl: null, catalogueUrl: null,
};

// ---------------------------------------------------------------------------------------
// Small helpers

/**
 * An HTML element: `attributes` set as attributes, except `text` (its text content) and
 * `class`; `children` appended (null and false skipped). Text is always text, never HTML.
 */
function el(name, attributes = {}, ...children) {
  const element = document.createElement(name);
  for (const [key, value] of Object.entries(attributes)) {
    if (value == null || value === false) continue;
    if (key === 'text') element.textContent = String(value);
    else element.setAttribute(key, String(value));
  }
  element.append(...children.filter((c) => c != null && c !== false));
  return element;
}

/** A count with thousands separators (e.g. 9,724). */
function count(n) {
  return Number.isFinite(n) ? numbers.format(n) : '—';
}

/** A byte size in MiB (or KiB for small ones), e.g. "600.0 MiB". */
function size(bytes) {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** A metric value with four decimals, or a dash. */
function figure(v) {
  return Number.isFinite(v) ? v.toFixed(4) : '—';
}

/** A duration in words: "45 s", "2 min 05 s", "1 h 03 min". */
function duration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** Shows a message in an alert paragraph (as text), or hides it when `message` is empty. */
function say(id, message) {
  const node = $(id);
  node.textContent = message ?? '';
  node.hidden = !message;
}

/** The message of anything thrown: an Error's message, or the value as text. */
function messageOf(error) {
  return typeof error?.message === 'string' && error.message ? error.message : String(error);
}

// ---------------------------------------------------------------------------------------
// The worker

/** The training worker, its engine's readiness, the calls waiting for an answer. */
const engine = { worker: null, ready: null, pending: new Map(), next: 1 };

/**
 * Starts the module Worker; it loads the engine at once. `engine.ready` resolves when it
 * has (or rejects with why it cannot); a worker that dies rejects every waiting call.
 */
function startWorker() {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  engine.worker = worker;
  engine.ready = new Promise((resolve, reject) => {
    worker.addEventListener('message', ({ data }) => {
      if (data?.type === 'ready') resolve();
      else if (data?.type === 'refused') reject(new Error(data.error?.message ?? 'the engine could not load'));
      else onWorkerMessage(data);
    });
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      const error = new Error(event.message ? `the training worker stopped: ${event.message}` : 'the training worker could not start or stopped (its files could not be loaded or run)');
      reject(error);
      failPending(error);
    });
  });
  engine.ready.catch(() => {}); // reported where it is awaited
}

/** Answers (or progress) from the worker, routed to the call they belong to. */
function onWorkerMessage(data) {
  const call = engine.pending.get(data?.id);
  if (!call) return;
  if (data.type === 'progress') {
    call.onProgress?.(data);
  } else if (data.type === 'result') {
    engine.pending.delete(data.id);
    call.resolve(data.value);
  } else if (data.type === 'error') {
    engine.pending.delete(data.id);
    const error = new Error(data.error?.message ?? 'unknown error');
    error.fatal = Boolean(data.error?.fatal);
    call.reject(error);
  }
}

/** Rejects every call still waiting for the worker. */
function failPending(error) {
  for (const call of engine.pending.values()) call.reject(error);
  engine.pending.clear();
}

/**
 * Calls `method(...args)` in the worker once its engine is ready; resolves to the answer.
 * `onProgress` gets the call's progress messages. A fatal error (the module trapped)
 * replaces the worker before the promise rejects.
 */
async function call(method, args = [], onProgress) {
  await engine.ready;
  const id = engine.next++;
  const answer = new Promise((resolve, reject) => engine.pending.set(id, { resolve, reject, onProgress }));
  engine.worker.postMessage({ type: 'call', id, method, args });
  try {
    return await answer;
  } catch (error) {
    if (error.fatal) await replaceWorker();
    throw error;
  }
}

/**
 * Replaces a worker whose module trapped with a fresh one holding the same files; what was
 * read is gone (the page asks for a new read).
 */
async function replaceWorker() {
  engine.worker.terminate();
  failPending(new Error('the training worker was restarted'));
  startWorker();
  state.summary = null;
  $('train-step').hidden = true;
  if (state.files.length) {
    try {
      await call('files', [state.files]);
    } catch (error) {
      say('file-error', messageOf(error));
    }
  }
}

/** Shows whether the engine has loaded; the page's `data-engine` says so too (for tests). */
async function watchEngine() {
  try {
    await engine.ready;
    $('engine').textContent = 'Training engine ready: it runs on this device, in a background thread.';
    document.body.dataset.engine = 'ready';
  } catch (error) {
    $('engine').textContent = `The training engine could not load: ${messageOf(error)}`;
    $('engine').classList.add('error');
    document.body.dataset.engine = 'failed';
  }
}

// ---------------------------------------------------------------------------------------
// 1. Files

/**
 * Takes the chosen or dropped files: refuses them up front when they are too large for the
 * tab (the size and the limit in the message, nothing read), else hands them to the worker
 * and reads the largest (the data; a small one beside it, e.g. movies.csv, gives titles).
 */
async function takeFiles(list) {
  const files = [...list];
  if (!files.length || state.busy) return;
  say('file-error', '');
  const total = files.reduce((sum, f) => sum + f.size, 0);
  if (total > LIMIT_BYTES) {
    const big = files.find((f) => f.size > LIMIT_BYTES);
    const what = big ? `${big.name} is ${size(big.size)}` : `These ${files.length} files are ${size(total)} together`;
    say('file-error', `${what}: too large for this page, which reads at most ${size(LIMIT_BYTES)} in all ` +
      `(the tab's memory holds the file and what is read from it). Nothing was read. ` +
      `Train on it with the command-line tool instead: awrsr train --data ${big?.name ?? files[0].name}`);
    return;
  }
  state.files = files;
  renderFileList();
  resetReadForm();
  await busy(async () => {
    $('read-step').hidden = false;
    $('reading').textContent = `Reading ${files.length === 1 ? files[0].name : `${files.length} files`}…`;
    try {
      await call('files', [files]);
    } catch (error) {
      $('reading').textContent = '';
      clearSummary();
      say('read-error', messageOf(error));
      return;
    }
    await readData();
  });
}

/** Lists the files given, with their sizes. */
function renderFileList() {
  $('file-list').replaceChildren(...state.files.map((f) => el('li', { text: `${f.name} — ${size(f.size)}` })));
  const largest = [...state.files].sort((a, b) => b.size - a.size)[0];
  $('data-file').replaceChildren(...state.files.map((f) => el('option', { value: f.name, text: f.name, selected: f === largest ? '' : null })));
  $('data-file-field').hidden = state.files.length < 2;
}

/** Puts the correction form back to its defaults (detect everything), for new files. */
function resetReadForm() {
  $('format').value = 'auto';
  for (const id of ['session-column', 'visitor-column', 'item-column', 'time-column', 'event-column', 'events', 'gap', 'min-interactions']) $(id).value = '';
  $('preprocess').checked = false;
  $('correct').open = false;
}

/** Wires the file input and the drop zone (and stops a file dropped beside it from opening in the tab). */
function wireFiles() {
  $('limit').textContent = size(LIMIT_BYTES);
  $('files').addEventListener('change', () => {
    const files = [...$('files').files];
    $('files').value = '';
    takeFiles(files);
  });
  const zone = $('drop');
  /** Whether a drag carries files (not text or a link). */
  const hasFiles = (event) => [...(event.dataTransfer?.types ?? [])].includes('Files');
  for (const type of ['dragenter', 'dragover']) {
    zone.addEventListener(type, (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = state.busy ? 'none' : 'copy';
      zone.classList.add('over');
    });
  }
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    takeFiles(event.dataTransfer?.files ?? []);
  });
  for (const type of ['dragover', 'drop']) {
    window.addEventListener(type, (event) => { if (hasFiles(event) && !zone.contains(event.target)) event.preventDefault(); });
  }
}

// ---------------------------------------------------------------------------------------
// 2. What was read

/** The reader's options from the correction form: only what the owner filled in. */
function readOptions() {
  const options = { format: $('format').value };
  const text = { sessionColumn: 'session-column', visitorColumn: 'visitor-column', itemColumn: 'item-column', timeColumn: 'time-column', eventColumn: 'event-column', events: 'events' };
  if (clickFieldsApply()) {
    for (const [key, id] of Object.entries(text)) if ($(id).value.trim()) options[key] = $(id).value.trim();
    if ($('gap').value !== '') options.gapMinutes = Number($('gap').value);
  }
  if ($('preprocess').checked) options.preprocess = true;
  if ($('min-interactions').value !== '') options.minInteractions = Number($('min-interactions').value);
  return options;
}

/**
 * Whether the click-export fields apply: a click format chosen, or detection asked for and
 * the file not (yet) read as users' histories (a failed read may need a column named).
 */
function clickFieldsApply() {
  const format = $('format').value;
  return CLICK_FORMATS.includes(format) || (format === 'auto' && state.summary?.kind !== 'users');
}

/** Reads the chosen data file with the form's options and shows what was read (or why not). */
async function readData() {
  const name = $('data-file').value || state.files[0]?.name;
  say('read-error', '');
  $('reading').textContent = `Reading ${name}…`;
  $('train-step').hidden = true;
  hideResult();
  try {
    state.summary = await call('read', [name, readOptions()]);
  } catch (error) {
    clearSummary();
    say('read-error', messageOf(error));
    $('correct').open = true;
    return;
  } finally {
    $('reading').textContent = '';
  }
  renderSummary(name, state.summary);
  $('train-step').hidden = false;
}

/** Empties the summary (nothing read). */
function clearSummary() {
  state.summary = null;
  $('summary').replaceChildren();
  $('notes').replaceChildren();
  $('train-step').hidden = true;
  $('click-options').hidden = !clickFieldsApply();
}

/** Shows what was read: format and where it was detected from, counts, times, the split, the notes. */
function renderSummary(name, s) {
  const sessions = s.kind === 'sessions';
  /** One term of the summary, with `data-key` naming it (for tests). */
  const row = (key, term, detail) => el('div', { 'data-key': key }, el('dt', { text: term }), el('dd', { text: detail }));
  const split = s.protocol === 'leave-one-out'
    ? `leave-one-out: each user's last item tests, the one before validates (${count(s.validCases)} validation, ${count(s.testCases)} test cases)`
    : `whole sessions: ${count(s.trainSequences)} train; ${count(s.validCases)} validation and ${count(s.testCases)} test cases`;
  const rows = [
    row('file', 'File', name),
    row('format', 'Format', s.detected ? `${s.format} (detected from ${s.detected})` : s.format),
    row('sequences', sessions ? 'Sessions' : 'Users', count(s.sequences)),
    row('items', 'Items', count(s.items)),
    row('interactions', sessions ? 'Clicks' : 'Interactions', count(s.interactions)),
    sessions ? row('timed', 'Times', s.timed ? 'yes: sessions in time order' : 'none: file order is time order') : null,
    row('protocol', 'Split', split),
  ];
  $('summary').replaceChildren(...rows.filter(Boolean));
  $('notes').replaceChildren(...(s.notes ?? []).map((note) => el('li', { text: note })));
  $('click-options').hidden = !clickFieldsApply();
}

/** Wires the correction form: the format decides which fields show; submitting reads again. */
function wireRead() {
  $('format').addEventListener('change', () => { $('click-options').hidden = !clickFieldsApply(); });
  $('read-form').addEventListener('submit', (event) => {
    event.preventDefault();
    if (!state.files.length || state.busy) return;
    busy(readData);
  });
  $('click-options').hidden = true;
}

// ---------------------------------------------------------------------------------------
// 3. Training

/** The training settings from the form (engine defaults for what is left empty). */
function trainSettings() {
  const settings = { size: $('size').value, epochs: $('fixed-epochs').checked ? Number($('epochs').value) : 0, backend: $('backend').value };
  if ($('patience').value !== '') settings.patience = Number($('patience').value);
  if ($('seed').value !== '') settings.seed = Number($('seed').value);
  return settings;
}

/**
 * Trains in the worker with the form's settings, showing progress as it comes, and then the
 * result; Stop ends it early (the best model so far is kept and shown).
 */
async function train() {
  const settings = trainSettings();
  const precision = $('precision').value;
  say('train-error', '');
  hideResult();
  state.epochs = [];
  state.training = { settings, plan: null, started: performance.now() };
  $('epochs-table').tBodies[0].replaceChildren();
  state.chartSpan = settings.epochs;
  $('progress').hidden = false;
  redrawChart();
  $('plan').textContent = '';
  $('progress-text').textContent = 'Starting…';
  $('progress-bar').value = 0;
  $('announce').textContent = 'Training started.';
  $('stop').hidden = false;
  $('stop').disabled = false;
  $('train').hidden = true;
  try {
    const result = await call('train', [settings, precision, EXAMPLES], onTrainProgress);
    state.result = { ...result, precision };
    renderResult();
    $('progress-text').textContent = `Training ended: ${result.last?.reason ?? 'done'}. The result is below.`;
    $('announce').textContent = `Training finished: ${result.last?.reason ?? 'done'}. The result is below.`;
  } catch (error) {
    const early = state.stopped && !state.epochs.length ? ': it was stopped before its first epoch ended, so there is no model to keep. Train again and let an epoch finish.' : '';
    say('train-error', messageOf(error) + early);
    $('progress-text').textContent = 'Training ended without a model.';
    $('announce').textContent = 'Training failed.';
  } finally {
    state.stopped = false;
    state.training = null;
    $('stop').hidden = true;
    $('train').hidden = false;
  }
}

/** One progress message: the plan once, then each slice's progress (and each finished epoch). */
function onTrainProgress({ plan, progress }) {
  const run = state.training;
  if (!run) return;
  if (plan) {
    run.plan = plan;
    $('plan').textContent = `${count(plan.sequences ?? 0)} training sequences, ${count(plan.batches)} batches an epoch; ` + (run.settings.epochs > 0
      ? `${count(plan.epochs)} epoch${plan.epochs === 1 ? '' : 's'}.`
      : `until validation NDCG@10 has not improved for ${count(plan.patience)} epochs${plan.epochs > 0 ? ` (at most ${count(plan.epochs)})` : ''}.`)
      + (plan.backend === 'webgpu' ? ' Training on the GPU (WebGPU).' : ` Training on the CPU${plan.fallbackReason ? ` (${plan.fallbackReason})` : ''}.`);
    $('plan').dataset.backend = plan.backend;
    state.chartSpan = run.settings.epochs > 0 ? plan.epochs : 0;
    redrawChart();
  }
  if (!progress) return;
  const finished = progress.finished;
  if (!progress.refit && !progress.finish && finished && !state.epochs.some((e) => e.epoch === finished.epoch)) addEpoch(finished);
  const p = progress;
  if (p.finish && !p.refit && !p.done) {
    // The recency finish: a few epochs on the newest sessions, kept where validation improves.
    $('progress-text').textContent = `Early stopping done; a few epochs on the newest sessions, kept if validation improves (the finish): ` +
      `epoch ${p.epoch}, batch ${count(p.batch)} of ${count(p.batches)}` +
      (p.finished ? ` · validation NDCG@10 ${figure(p.finished.valid['NDCG@10'])}` : '');
    $('progress-bar').value = p.batches > 0 ? Math.min(1, p.batch / p.batches) : 0;
    return;
  }
  if (p.refit && !p.done) {
    // The refit: the run again on every session for its best epochs, nothing validated.
    $('progress-text').textContent = `Early stopping done; training again on every session, the validating ones included (the refit): ` +
      `epoch ${p.epoch}, batch ${count(p.batch)} of ${count(p.batches)}`;
    $('progress-bar').value = p.batches > 0 ? Math.min(1, p.batch / p.batches) : 0;
    return;
  }
  const parts = [
    `Epoch ${p.epoch}${run.settings.epochs > 0 && run.plan ? ` of ${count(run.plan.epochs)}` : ''}`,
    `batch ${count(p.batch)} of ${count(p.batches)}`,
  ];
  if (Number.isFinite(p.sequencesPerSecond) && p.sequencesPerSecond > 0) parts.push(`${count(Math.round(p.sequencesPerSecond))} sequences/s`);
  if (Number.isFinite(p.loss) && p.batch > 0) parts.push(`loss ${p.loss.toFixed(4)}`);
  const left = timeLeft(p);
  if (left && !p.done) parts.push(left);
  $('progress-text').textContent = parts.join(' · ');
  $('progress-bar').value = p.batches > 0 ? Math.min(1, p.batch / p.batches) : 0;
  if (p.done) {
    // Done: what is left is storing the best model and testing it and the baselines.
    $('progress-text').textContent = `Training ended: ${p.reason ?? 'done'}. Testing the model and the baselines on the held-out cases…`;
    $('progress-bar').value = 1;
    $('stop').hidden = true;
  }
}

/** Records a finished epoch: the chart, the table, and one polite announcement. */
function addEpoch(finished) {
  state.epochs.push(finished);
  redrawChart();
  const v = finished.valid ?? {};
  $('epochs-table').tBodies[0].append(el('tr', {},
    el('th', { scope: 'row', text: String(finished.epoch) }),
    el('td', { text: figure(finished.loss) }),
    el('td', { text: figure(v['HR@10']) }),
    el('td', { text: figure(v['NDCG@10']) }),
    el('td', { text: duration(finished.seconds) }),
    el('td', { text: finished.improved ? 'yes' : '' })));
  $('announce').textContent = `Epoch ${finished.epoch} finished: training loss ${figure(finished.loss)}, ` +
    `validation HR@10 ${figure(v['HR@10'])}, NDCG@10 ${figure(v['NDCG@10'])}${finished.improved ? ', the best so far.' : '.'}`;
}

/**
 * Time left, estimated from this epoch's pace and the finished epochs' times: the whole run
 * for a fixed number of epochs; with early stopping, at least until patience runs out.
 */
function timeLeft(p) {
  const run = state.training;
  if (!run?.plan || !(p.batch > 0) || !(p.seconds > 0)) return '';
  const perBatch = p.seconds / p.batch;
  const thisEpoch = p.finished?.epoch === p.epoch ? 0 : Math.max(0, p.batches - p.batch) * perBatch;
  const done = state.epochs.filter((e) => Number.isFinite(e.seconds));
  const perEpoch = done.length ? done.reduce((sum, e) => sum + e.seconds, 0) / done.length : p.batches * perBatch;
  if (run.settings.epochs > 0) {
    return `about ${duration(thisEpoch + Math.max(0, run.plan.epochs - p.epoch) * perEpoch)} left`;
  }
  const lastBest = Math.max(0, ...state.epochs.filter((e) => e.improved).map((e) => e.epoch));
  const cap = run.plan.epochs > 0 ? run.plan.epochs : Infinity;
  const more = Math.max(0, Math.min(cap, lastBest + run.plan.patience) - p.epoch);
  return `at least ${duration(thisEpoch + more * perEpoch)} left (it stops when it no longer improves)`;
}

/** Ends the training under way; the worker keeps the best model so far and answers with it. */
function stop() {
  if (!state.training) return;
  engine.worker.postMessage({ type: 'stop' });
  state.stopped = true;
  $('stop').disabled = true;
  $('progress-text').textContent += ' · stopping…';
  $('announce').textContent = 'Stopping; the best model so far is kept.';
}

/** Wires the training form: the epoch count chooses "exactly", Train trains, Stop stops. */
function wireTrain() {
  $('epochs').addEventListener('input', () => { $('fixed-epochs').checked = true; });
  $('train-form').addEventListener('submit', (event) => {
    event.preventDefault();
    if (state.busy || !state.summary) return;
    busy(train);
  });
  $('stop').addEventListener('click', stop);
  $('precision').addEventListener('change', () => {
    if (state.result && !state.busy) busy(rebundle);
  });
}

// ---------------------------------------------------------------------------------------
// 4. The result

/** Hides the last result and lets go of its downloads. */
function hideResult() {
  $('result-step').hidden = true;
  state.result = null;
  for (const key of ['modelUrl', 'catalogueUrl']) {
    if (state[key]) URL.revokeObjectURL(state[key]);
    state[key] = null;
  }
}

/** Shows the result: the figures beside the baselines, the examples, the downloads, the snippet. */
function renderResult() {
  const { report, last, examples } = state.result;
  const valid = report.valid ?? {};
  const epochs = report.epochsRun ?? state.epochs.length;
  $('result-summary').textContent = `Best epoch: ${report.bestEpoch} of ${epochs} run (training ended: ${last?.reason ?? 'done'}). ` +
    `Validation HR@10 ${figure(valid['HR@10'])}, NDCG@10 ${figure(valid['NDCG@10'])}.` +
    (report.finishTried ? ` Then ${report.finishEpochs} of ${report.finishTried} epochs on the newest sessions kept (the finish): ` +
      `validation NDCG@10 ${figure(report.validBeforeFinish['NDCG@10'])} before it.` : '') +
    (report.refitEpochs ? ` Then ${report.refitEpochs} epochs again on every session (the refit, as awrsr train does for logs with times): ` +
      `the stored model's test HR@20 ${figure(report.test['HR@20'])}, the stopped model's ${figure(report.testBeforeRefit['HR@20'])}.` : '') +
    (report.repeatBonus?.bonus ? ` The session's own items score ${report.repeatBonus.bonus} higher for the newest click ` +
      `(×${report.repeatBonus.decay} per click back), chosen on validation: NDCG@10 ${figure(report.validWithoutRepeatBonus['NDCG@10'])} without it.` : '');
  renderFigures(report);
  renderExamples(examples ?? []);
  setModel(state.result.bundle, state.result.precision);
  if (state.catalogueUrl) URL.revokeObjectURL(state.catalogueUrl);
  state.catalogueUrl = URL.createObjectURL(new Blob([state.result.catalogue], { type: 'application/json' }));
  $('download-catalogue').href = state.catalogueUrl;
  renderSnippet();
  $('result-step').hidden = false;
}

/** The test figures table: the model's row, then each baseline's; the best of each column in bold. */
function renderFigures(report) {
  const rows = [{ key: 'model', name: 'awrsr (this model)', metrics: report.test ?? {} },
    ...(report.baselines ?? []).map((b) => ({ key: b.name, name: b.name, metrics: b.metrics ?? {} }))];
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.metrics)))];
  const metrics = [...METRIC_ORDER.filter((m) => names.includes(m)), ...names.filter((m) => !METRIC_ORDER.includes(m))];
  const best = Object.fromEntries(metrics.map((m) => [m, Math.max(...rows.map((r) => r.metrics[m]).filter(Number.isFinite))]));
  const table = $('results-table');
  $('results-caption').textContent = `Test figures on ${count(report.testCases)} held-out cases, all items ranked: the model as stored ` +
    `in model.awrsr (${report.precision ?? $('precision').value}) beside what a shop could build in an afternoon. It should beat them clearly.`;
  table.tHead.replaceChildren(el('tr', {}, el('th', { scope: 'col', text: 'Test' }), ...metrics.map((m) => el('th', { scope: 'col', text: m }))));
  table.tBodies[0].replaceChildren(...rows.map((r) => el('tr', { 'data-name': r.key },
    el('th', { scope: 'row', text: r.name }),
    ...metrics.map((m) => {
      const v = r.metrics[m];
      const text = figure(v);
      return el('td', { 'data-metric': m, 'data-value': Number.isFinite(v) ? v : null }, v === best[m] ? el('strong', { text }) : text);
    }))));
}

/** An item's name for the page: its title, or its id when it has none. */
function itemName({ id, title }) {
  return title || id;
}

/**
 * Why an item is recommended, in words: its strongest reasons (at most 3, those that
 * round to +0.00 left out after the first), each with how much the item's score falls without it.
 */
function reasonText(because) {
  const shown = because.filter((b, i) => i === 0 || b.weight >= 0.005).slice(0, 3);
  if (!shown.length) return 'popular with everyone';
  return `because of ${shown.map((b) => `${itemName(b)} (+${b.weight.toFixed(2)})`).join(', ')}`;
}

/** The example sessions: the items read, then the recommendations with each one's reasons. */
function renderExamples(examples) {
  if (!examples.length) {
    $('examples').replaceChildren(el('p', { class: 'muted', text: 'No test session to show.' }));
    return;
  }
  $('examples').replaceChildren(...examples.map((example, i) => el('article', { class: 'example', 'aria-labelledby': `example-${i}` },
    el('h4', { id: `example-${i}`, text: `Session ${i + 1}: ${example.session.length} item${example.session.length === 1 ? '' : 's'} viewed` }),
    el('p', { class: 'session', text: example.session.map(itemName).join(' → ') }),
    el('ol', { class: 'recommended' }, ...example.items.map((item) => el('li', {},
      el('span', { class: 'item-name', text: itemName(item) }),
      item.title ? el('span', { class: 'item-id', text: `id ${item.id}` }) : null,
      el('span', { class: 'because', text: reasonText(item.because) })))))));
}

/** Points the model download at these bundle bytes, and says their size and precision. */
function setModel(buffer, precision) {
  if (state.modelUrl) URL.revokeObjectURL(state.modelUrl);
  state.modelUrl = URL.createObjectURL(new Blob([buffer], { type: 'application/octet-stream' }));
  $('download-model').href = state.modelUrl;
  $('model-size').textContent = `model.awrsr: ${size(buffer.byteLength)} (${count(buffer.byteLength)} bytes), ${precision} weights. ` +
    'The same file loads in the command-line tool (awrsr recommend --model model.awrsr) and in the widget.';
}

/**
 * Stores the best model again at the precision now chosen (after training, the select still
 * works): a new bundle, and the test figures measured on it as stored.
 */
async function rebundle() {
  const precision = $('precision').value;
  say('train-error', '');
  $('model-size').textContent = `Storing the model as ${precision} and testing it…`;
  try {
    const { report, bundle } = await call('finish', [precision]);
    Object.assign(state.result, { report, bundle, precision });
    renderFigures(report);
    setModel(bundle, precision);
  } catch (error) {
    say('train-error', messageOf(error));
  }
}

/** Text as a JavaScript single-quoted string literal that is safe inside an HTML <script>. */
function jsString(text) {
  return `'${String(text).replace(/[\\'\n\r\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).replace(/</g, '\\x3c')}'`;
}

/** Text as an HTML attribute value (without the quotes). */
function attribute(text) {
  return String(text).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The widget snippet, filled in with the folder given and an item id from the data. */
function snippet() {
  let folder = $('folder').value.trim() || '/static/awrsr/';
  if (!folder.endsWith('/')) folder += '/';
  const example = state.result?.examples?.[0]?.session?.at(-1)?.id ?? 'PRODUCT-ID';
  const f = attribute(folder);
  return `<!-- 1. In the <head> of each product page; ${jsString(example)} is an example: put that page's product id. -->
<script>
  window.awrsr = window.awrsr || [];
  awrsr.view = awrsr.view || function (id) { awrsr.push(['view', id]); };
  document.addEventListener('awrsr:view', function (e) {
    if (Array.isArray(window.awrsr)) awrsr.push(['view', e.detail && e.detail.id]);
  });
  awrsr.push(['view', ${jsString(example)}]);   // this page's product
</script>
<script type="module" src="${f}awrsr-widget.js"></script>

<!-- 2. Where the recommendations go. -->
<awrsr-recommendations model="${f}model.awrsr" catalogue="${f}catalogue.json" k="8" loading="lazy"></awrsr-recommendations>
`;
}

/** Shows the snippet (as text). */
function renderSnippet() {
  $('snippet').textContent = snippet();
  $('copied').textContent = '';
}

/** Wires the snippet's folder field and its copy button. */
function wireResult() {
  $('folder').addEventListener('input', renderSnippet);
  $('copy').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(snippet());
      $('copied').textContent = 'Copied.';
    } catch {
      getSelection().selectAllChildren($('snippet'));
      $('copied').textContent = 'Selected: press Ctrl+C (⌘C) to copy.';
    }
  });
}

// ---------------------------------------------------------------------------------------
// The page

/**
 * Runs `task` with the page marked busy: file, read and train controls disabled (Stop stays
 * usable), `data-busy` on the body. An unexpected error is shown, never left uncaught.
 */
async function busy(task) {
  state.busy = true;
  document.body.dataset.busy = 'true';
  for (const node of document.querySelectorAll('#files, #read-form button, #read-form select, #read-form input, #train-form select, #train-form input, #train, #folder, #copy')) node.disabled = true;
  $('drop').classList.add('disabled');
  try {
    await task();
  } catch (error) {
    say('train-error', messageOf(error));
  } finally {
    state.busy = false;
    delete document.body.dataset.busy;
    for (const node of document.querySelectorAll(':disabled')) if (node.id !== 'stop') node.disabled = false;
    $('drop').classList.remove('disabled');
  }
}

/** Draws the chart of the finished epochs at the size it now has (its text stays 12 px). */
function redrawChart() {
  drawChart($('chart'), state.epochs, state.chartSpan);
}

/** Starts the page: the worker (which loads the engine at once), then the controls. */
function start() {
  window.addEventListener('resize', redrawChart);
  startWorker();
  wireFiles();
  wireRead();
  wireTrain();
  wireResult();
  watchEngine();
}

start();
