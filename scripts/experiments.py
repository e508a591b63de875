#!/usr/bin/env python3
"""The refinement study of docs/results.md, reproducible with one command.

    scripts/experiments.py run [--data ml-100k ...] [--variant none ...] [--seeds 1 2 3]
                               [--jobs 2] [--device cpu|wgpu]
    scripts/experiments.py tables
    scripts/experiments.py status
    scripts/experiments.py speed [--epochs 2]
    scripts/experiments.py device-speed [results/device/speed.log]
    scripts/experiments.py gap MODEL LOG
    scripts/experiments.py sessions [--variant none value ...] [--seeds 42 ...] [--jobs 2]
    scripts/experiments.py sessions-table
    scripts/experiments.py sessions-variants

`run` trains one model per cell (data set x refinement variant x seed) with the default
settings, early stopping on validation, and evaluates it under both protocols: seen items
kept (the training run's own report) and `--filter-seen` (`awrsr eval`). Each cell writes
results/study/<data>-<variant>-s<seed>.json and ...-filtered.json; cells already written are
skipped, and a cell stopped mid-training resumes from its last epoch (each run saves
results/study/<cell>.ckpt after every epoch, removed when the cell is written). `--jobs` trains that many cells at once, each
with its share of the cores (RAYON_NUM_THREADS); several `run`s side by side share the cells
out (a cell in training holds results/study/<cell>.lock with its process id); `--device wgpu` trains and evaluates on a
GPU (a binary built with `--features wgpu`). Models stay beside them (not committed). `tables` reads every cell, writes
results/study.json (mean and standard deviation of test HR@10 / NDCG@10, and for each
variant against `none` a paired test over users) and regenerates the study tables in
docs/results.md between the `<!-- study:begin -->` and `<!-- study:end -->` markers.

`gap` measures what one missing item before the target costs a trained model (ML-1M's file
lacks most users' second-to-last item, so its test target lies two steps ahead).

`sessions` trains the shop-sessions study (docs/results.md, "Shop sessions"): Diginetica's
shared training sessions and test cases, the CLI's session defaults, one cell per refinement
variant and seed, each writing results/sessions/diginetica-<variant>-s<seed>.json (the
model's and the baselines' test figures, every case's rank) and its .log; cells written are
skipped, a stopped one resumes from its checkpoint. `sessions-table` prints the table: test
HR@20 / MRR@20 (mean and sd over seeds) beside the baselines, and for each variant a paired
bootstrap test of its per-case MRR@20 against `none` on the same cases.
`sessions-variants` prints the same table at today's defaults: the default runs of
`results/sessions/default-run.sh` (`value`) and the other variants' runs of that command
(`NAME=variants/none-s42 SEED=42 results/sessions/default-run.sh --refinement none`), then per
seed each variant's validation NDCG@10 at its best epoch and its test difference from `none`.
`sessions-variants --finish` prints it with the recency finish: the finish runs of `value`
(results/sessions/finish/default-s<seed>.json) and the other variants' default runs since
the finish became the default (results/sessions/variants-finish/<variant>-s<seed>.json).

`status` lists the cells in training on this machine: epochs done, best epoch and its
validation NDCG@10, read from each checkpoint.

`speed` is the training-speed benchmark: a few epochs of each setting in SPEED, one after the
other in the same run, with `--batching shuffled` and `--batching by-length`; it writes the
seconds and sequences/s of every epoch to results/train-speed.json and prints a table.

The paired test: for each test user, the variant's NDCG@10 averaged over the seeds that it and
`none` both have, minus `none`'s over the same seeds; a two-sided bootstrap p-value (10,000 resamples of users, fixed seed) and the
paired t statistic. Standard library only.
"""
import argparse
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("AWRSR_SHARED_DATA", ROOT.parent / "shared" / "data"))
STUDY = ROOT / "results" / "study"
DOC = ROOT / "docs" / "results.md"
VARIANTS = ["none", "simple", "value", "additive"]
# Data set: (path under the shared folder, extra training flags).
DATA = {
    "ml-100k": ("ml-100k", []),
    "ml-latest-small": ("ml-latest-small", []),
    # Amazon sessions are short: batches of similar lengths train 3x faster; patience 40,
    # as validation there keeps creeping up long after a lucky epoch, and at most 400 epochs,
    # so that early stopping ends a run, not the cap (docs/results.md).
    "beauty": ("amazon/Beauty.txt", ["--batch-size", "128", "--batching", "by-length", "--patience", "40", "--epochs", "400"]),
    "sports": ("amazon/Sports_and_Outdoors.txt", ["--batch-size", "128", "--batching", "by-length", "--patience", "40", "--epochs", "400"]),
    # Not in the default study (an epoch takes minutes on a CPU): run it by name. Dropout 0.2,
    # chosen on ML-1M's validation: the default 0.5 underfits its long, dense histories
    # (docs/results.md, "ML-1M: dropout 0.2").
    "ml-1m": ("ml-1m/ml-1m.txt", ["--max-len", "200", "--batch-size", "128", "--batching", "by-length", "--dropout", "0.2"]),
}
STUDY_DATA = ["ml-100k", "ml-latest-small", "beauty", "sports"]
PROTOCOLS = {"kept": "", "filtered": "-filtered"}


def binary():
    target = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "awrsr" / "target"))
    return os.environ.get("AWRSR_BIN", str(target / "release" / "awrsr"))


def cell(data, variant, seed, protocol="kept"):
    return STUDY / f"{data}-{variant}-s{seed}{PROTOCOLS[protocol]}.json"


def run_cell(data, variant, seed, device="cpu", threads=None):
    """Trains one cell (unless written) and evaluates it under both protocols."""
    kept, filtered = cell(data, variant, seed), cell(data, variant, seed, "filtered")
    if kept.exists() and filtered.exists():
        print(f"{kept.name}: already written", flush=True)
        return
    lock = STUDY / f"{data}-{variant}-s{seed}.lock"
    holder = claim(lock)
    if holder:
        print(f"{kept.name}: being trained by process {holder}", flush=True)
        return
    try:
        train_and_evaluate(data, variant, seed, device, threads)
    finally:
        lock.unlink(missing_ok=True)


def claim(lock):
    """Takes the cell's lock file (it holds the process id) unless another live process
    holds it, whose id is then returned: several `run`s side by side share the cells out."""
    try:
        with open(lock, "x") as out:
            out.write(str(os.getpid()))
        return None
    except FileExistsError:
        pass
    try:
        holder = int(lock.read_text())
        os.kill(holder, 0)
        return None if holder == os.getpid() else holder
    except (FileNotFoundError, ValueError, ProcessLookupError):
        lock.write_text(str(os.getpid()))  # left by a process that died
        return None


def train_and_evaluate(data, variant, seed, device, threads):
    kept, filtered = cell(data, variant, seed), cell(data, variant, seed, "filtered")
    path, flags = DATA[data]
    model = STUDY / f"{data}-{variant}-s{seed}.awrsr"
    log = STUDY / f"{data}-{variant}-s{seed}.log"
    checkpoint = STUDY / f"{data}-{variant}-s{seed}.ckpt"
    train = [binary(), "train", "--data", str(SHARED / path), "--refinement", variant, "--seed", str(seed),
             "--quiet", "--out", str(model), "--metrics-json", str(kept), "--device", device,
             "--checkpoint", str(checkpoint), *flags]
    evaluate = [binary(), "eval", "--model", str(model), "--data", str(SHARED / path), "--filter-seen",
                "--metrics-json", str(filtered), "--device", device]
    env = dict(os.environ, **({"RAYON_NUM_THREADS": str(threads)} if threads else {}))
    # A run stopped earlier resumes from its checkpoint; its log goes on where it ended.
    with open(log, "a" if checkpoint.exists() else "w") as out:
        for command in (train, evaluate):
            print(" ".join(command), flush=True)
            subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=True, env=env)
    checkpoint.unlink()


def ndcg10(rank):
    return 1.0 / math.log2(rank + 2) if rank < 10 else 0.0


def mean_sd(values):
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return mean, sd


def paired(differences, resamples=10_000):
    """Two-sided bootstrap p-value of a zero mean difference, and the paired t statistic."""
    n = len(differences)
    mean, sd = mean_sd(differences)
    t = mean / (sd / math.sqrt(n)) if sd > 0 else 0.0
    rng = random.Random(7)
    centred = [d - mean for d in differences]
    extreme = sum(abs(sum(rng.choices(centred, k=n)) / n) >= abs(mean) for _ in range(resamples))
    return (extreme + 1) / (resamples + 1), t


def cells():
    """Every written cell: {(data, protocol): {variant: {seed: report}}}."""
    found = {}
    for data in DATA:  # ml-1m too, once it has cells
        for protocol in PROTOCOLS:
            for variant in VARIANTS:
                reports = {seed: json.loads(cell(data, variant, seed, protocol).read_text())
                           for seed in range(1, 10) if cell(data, variant, seed, protocol).exists()}
                if reports:
                    found.setdefault((data, protocol), {})[variant] = reports
    return found


def summarise():
    """Mean and standard deviation over each variant's seeds; against `none`, the paired test
    over the seeds both have (so that a seed one of them lacks does not tilt the pairs)."""
    rows = []
    for (data, protocol), variants in cells().items():
        base = variants.get("none")
        for variant, reports in variants.items():
            hr = mean_sd([r["test"]["HR@10"] for r in reports.values()])
            nd = mean_sd([r["test"]["NDCG@10"] for r in reports.values()])
            users = len(next(iter(reports.values()))["test_ranks"])
            row = {"data": data, "protocol": protocol, "variant": variant, "seeds": len(reports),
                   "hr10": hr, "ndcg10": nd, "p": None, "t": None, "paired_seeds": None, "base_seeds": None, "users": users}
            common = sorted(set(reports) & set(base or {}))
            if common and variant != "none":
                per_user = lambda rs: [sum(ndcg10(r["test_ranks"][u]) for r in rs) / len(rs) for u in range(users)]
                pairs = zip(per_user([reports[s] for s in common]), per_user([base[s] for s in common]))
                row["p"], row["t"] = paired([a - b for a, b in pairs])
                row["paired_seeds"], row["base_seeds"] = common, len(base)
            rows.append(row)
    return rows


def table(rows):
    lines = ["| data | protocol | variant | seeds | test HR@10 | test NDCG@10 | vs none: p (bootstrap) | t |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        p = "–" if r["p"] is None else f"{r['p']:.3f}"
        if r["p"] is not None and len(r["paired_seeds"]) < max(r["seeds"], r["base_seeds"]):
            p += f" (paired on seed{'s' if len(r['paired_seeds']) > 1 else ''} {', '.join(map(str, r['paired_seeds']))})"
        t = "–" if r["t"] is None else f"{r['t']:+.2f}"
        spread = lambda m: f"{m[0]:.4f} ± {m[1]:.4f}" if r["seeds"] > 1 else f"{m[0]:.4f}"
        lines.append(f"| {r['data']} | {r['protocol']} | {r['variant']} | {r['seeds']} | {spread(r['hr10'])} "
                     f"| {spread(r['ndcg10'])} | {p} | {t} |")
    return "\n".join(lines)


def tables():
    rows = summarise()
    (ROOT / "results" / "study.json").write_text(json.dumps(rows, indent=1) + "\n")
    text = DOC.read_text()
    begin, end = "<!-- study:begin -->", "<!-- study:end -->"
    if begin not in text:
        sys.exit(f"{DOC} has no {begin} marker")
    head, rest = text.split(begin, 1)
    tail = rest.split(end, 1)[1]
    generated = f"{begin}\n<!-- generated by scripts/experiments.py tables from results/study/*.json -->\n{table(rows)}\n{end}"
    DOC.write_text(head + generated + tail)
    print(table(rows))


# Training-speed settings: (name, data set, extra training flags).
SPEED = [
    ("ml-100k, defaults", "ml-100k", []),
    ("Beauty, none, batch 128", "beauty", ["--refinement", "none"]),
    ("Beauty, value, batch 128", "beauty", ["--refinement", "value"]),
]


def speed(epochs):
    """Trains each SPEED setting for `epochs` with both batchings; the epochs' times."""
    rows, scratch = [], tempfile.mkdtemp()
    for name, data, extra in SPEED:
        path, flags = DATA[data]
        for option in ("--batching", "--epochs"):  # the benchmark sets them
            if option in flags:
                at = flags.index(option)
                flags = flags[:at] + flags[at + 2:]
        for batching in ("shuffled", "by-length"):
            command = [binary(), "train", "--data", str(SHARED / path), "--epochs", str(epochs), "--quiet",
                       "--seed", "1", "--out", os.path.join(scratch, "m.awrsr"), *flags, *extra, "--batching", batching]
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            row = {"setting": name, "batching": batching, **paces(out), "command": " ".join(["awrsr", *command[1:]])}
            rows.append(row)
            print(f"{name:<26} {batching:<10} " + "  ".join(f"{t:.1f} s" for t in row["seconds"]), flush=True)
    out = ROOT / "results" / "train-speed.json"
    out.write_text(json.dumps({"binary": binary(), "cpus": os.cpu_count(), "rows": rows}, indent=1) + "\n")
    print(f"written {out}")


def paces(log):
    """The seconds and sequences/s of every epoch line of the run that `awrsr train` printed
    (a refit's epoch lines, which may interleave with them, are left out)."""
    found = [re.search(r"  ([0-9.]+) s, ([0-9]+) seq/s", line) for line in log.splitlines()
             if line.startswith("epoch ") and "refit: " not in line]
    found = [pace for pace in found if pace]  # an epoch line without a pace (older logs) has no figure
    return {"seconds": [float(pace[1]) for pace in found], "seq_per_s": [int(pace[2]) for pace in found]}


def device_speed(log):
    """Reads the speed part of a scripts/device-study.sh log (runs headed `== NAME: command`)
    into results/device-speed.json and prints each run's epoch times."""
    runs = re.split(r"^== ", Path(log).read_text(), flags=re.M)[1:]
    if not runs:
        sys.exit(f"{log}: no speed runs (lines headed '== NAME: command'); results/device-speed.json left as it was")
    rows = []
    for run in runs:
        head, _, body = run.partition("\n")
        name, _, command = head.partition(": ")
        arguments = command.partition(" ")[2]  # after the binary's name: gpu, cpu or gpu-fusion
        rows.append({"run": name, "command": f"awrsr {arguments}", **paces(body)})
        print(f"{name:<14} " + "  ".join(f"{t:.1f} s" for t in rows[-1]["seconds"]))
    out = ROOT / "results" / "device-speed.json"
    out.write_text(json.dumps({"log": os.path.relpath(log, ROOT), "rows": rows}, indent=1) + "\n")
    print(f"written {out}")


def gap(model, log):
    """How much a missing item costs: evaluates `model` on `log` as it is and with each user's
    item just before the validation target removed (that target then lies two steps ahead, as
    the test target of ML-1M's file does for most users: ../shared/data/README.md), under
    both protocols, and writes the validation and test HR@10 / NDCG@10 to
    results/next-item-gap/<model's name>.json."""
    histories = {}
    for line in Path(log).read_text().splitlines():  # `user item ...`: sequence or pair lines
        if line.strip():
            user, *items = line.split()
            histories.setdefault(user, []).extend(items)
    scratch = tempfile.TemporaryDirectory()
    skipped = Path(scratch.name) / "skipped.txt"
    skipped.write_text("".join(f"{user} {item}\n" for user, items in histories.items()
                               for item in (items[:-3] + items[-2:] if len(items) >= 5 else items)))
    rows, report = [], skipped.with_suffix(".json")
    for name, data in (("as is", log), ("item before the validation target removed", skipped)):
        for protocol, flags in (("kept", []), ("filtered", ["--filter-seen"])):
            subprocess.run([binary(), "eval", "--model", str(model), "--data", str(data), "--metrics-json", str(report),
                            *flags], check=True, capture_output=True)
            figures = json.loads(report.read_text())
            rows.append({"log": name, "protocol": protocol,
                         **{f"{split}_{m}": figures[split][m] for split in ("valid", "test") for m in ("HR@10", "NDCG@10")}})
            print(f"{name:<42} {protocol:<9} " + "  ".join(f"{k} {v:.4f}" for k, v in rows[-1].items() if "@" in k))
    out = ROOT / "results" / "next-item-gap" / f"{Path(model).stem}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"model": os.path.relpath(model, ROOT), "log": str(log), "rows": rows}, indent=1) + "\n")
    print(f"written {out}")


def checkpoint_state(path):
    """The JSON state at the head of a checkpoint (src/train/checkpoint.rs: magic, version, CRC-32,
    then the state section's u64 length and bytes)."""
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24 or head[:8] != b"AWRSRCKP":
            return None
        length = int.from_bytes(head[16:24], "little")
        return json.loads(f.read(min(length, 1 << 26)))


def status():
    for path in sorted(STUDY.glob("*.ckpt")):
        state = checkpoint_state(path)
        if state is None:
            print(f"{path.stem}: not a checkpoint")
            continue
        valid = state["best_valid"]
        ndcg = valid["ndcg"][1] / max(valid["count"], 1)  # NDCG@10, src/metrics.rs
        print(f"{path.stem}: {state['epoch']} epochs done, best epoch {state['best_epoch']}, valid NDCG@10 {ndcg:.4f}")


SESSIONS = ROOT / "results" / "sessions"


def session_cell(variant, seed, threads):
    """Trains and evaluates one shop-sessions cell (skipped when written)."""
    out = SESSIONS / f"diginetica-{variant}-s{seed}"
    if out.with_suffix(".json").exists():
        return
    data = SHARED / "sessions" / "diginetica"
    env = dict(os.environ, **({"RAYON_NUM_THREADS": str(threads)} if threads else {}))
    with open(out.with_suffix(".log"), "a") as log:
        subprocess.run([binary(), "train", "--data", str(data / "train.txt"), "--test", str(data / "test.txt"),
                        "--refinement", variant, "--seed", str(seed), "--quiet", "--out", str(out.with_suffix(".awrsr")),
                        "--checkpoint", str(out.with_suffix(".ckpt")), "--metrics-json", str(out.with_suffix(".json"))],
                       stdout=log, stderr=subprocess.STDOUT, env=env, check=True)
    out.with_suffix(".ckpt").unlink(missing_ok=True)


def mrr20(rank):
    return 1.0 / (rank + 1) if rank < 20 else 0.0


def sessions_table():
    """Prints the shop-sessions table from results/sessions/*.json."""
    reports, repeat = {}, {}
    for path in sorted(SESSIONS.glob("diginetica-*-s*.json")):
        match = re.fullmatch(r"diginetica-(\w+)-s(\d+)(-repeat)?\.json", path.name)
        if match:
            (repeat if match[3] else reports).setdefault(match[1], {})[int(match[2])] = json.loads(path.read_text())
    if not reports:
        sys.exit("no cells in results/sessions/: run `scripts/experiments.py sessions` first")
    variant_rows([(reports, ""), (repeat, ", repeat bonus")])
    if repeat:
        print()
        print("The repeat bonus against the same models without it (mean over the seeds both have; p: paired bootstrap of per-case MRR@20):")
        print()
        print("| variant | seeds | bonus, decay chosen | Δ HR@20 | Δ MRR@20 | p |")
        print("|---|---|---|---|---|---|")
        for variant in [v for v in VARIANTS if v in repeat]:
            common = sorted(set(repeat[variant]) & set(reports.get(variant, {})))
            delta = lambda key: sum(repeat[variant][s]["test"][key] - reports[variant][s]["test"][key] for s in common) / len(common)
            chosen = ", ".join(f"{repeat[variant][s]['repeat']['bonus']:g} × {repeat[variant][s]['repeat']['decay']:g}" for s in common)
            p = p_value({s: repeat[variant][s] for s in common}, reports[variant])
            print(f"| `{variant}` | {', '.join(map(str, common))} | {chosen} | {delta('HR@20'):+.4f} | {delta('MRR@20'):+.4f} | {p} |")


# The default runs of `value` (results/sessions/default-run.sh), by seed; the other variants'
# runs of the same command are results/sessions/variants/<variant>-s<seed>.json.
DEFAULT_RUNS = {42: "alongside-s42.json", 1: "default-s1.json", 3: "default-s3.json"}
# The same with the recency finish (the same models as the default of 2 epochs: no seed kept a third).
FINISH_RUNS = {seed: f"finish/default-s{seed}.json" for seed in (42, 1, 3)}


def sessions_variants(finish=False):
    """Prints the variant table at today's defaults: the default runs (`value`) and
    results/sessions/variants/*-s*.json, each variant against `none`; with `finish`, the
    runs with the recency finish (FINISH_RUNS and results/sessions/variants-finish/)."""
    defaults, folder = (FINISH_RUNS, "variants-finish") if finish else (DEFAULT_RUNS, "variants")
    reports = {"value": {seed: json.loads((SESSIONS / name).read_text()) for seed, name in defaults.items()}}
    for path in sorted((SESSIONS / folder).glob("*-s*.json")):
        match = re.fullmatch(r"(\w+)-s(\d+)\.json", path.name)
        if match:
            reports.setdefault(match[1], {})[int(match[2])] = json.loads(path.read_text())
    variant_rows([(reports, "")])
    print()
    per_seed_rows(reports)


def sessions_finish():
    """Prints the recency finish (results/sessions/finish/default-s<seed>.json, the default run
    with `--finish 3`) against the default runs of the same seeds (the same run without it)."""
    runs = {int(re.fullmatch(r"default-s(\d+)\.json", p.name)[1]): json.loads(p.read_text())
            for p in sorted((SESSIONS / "finish").glob("default-s*.json"))}
    if not runs:
        sys.exit("no runs in results/sessions/finish/: run `default-run.sh` with NAME=finish/default-s<seed>")
    base = {s: json.loads((SESSIONS / DEFAULT_RUNS[s]).read_text()) for s in runs}
    print("| seed | epochs kept (of tried) | valid NDCG@10 before → after | test HR@20 without → with | test MRR@20 without → with |")
    print("|---|---|---|---|---|")
    for s, r in sorted(runs.items()):
        f, t, b = r["finish"], r["test"], base[s]["test"]
        print(f"| {s} | {f['epochs']} of {f['tried']} | {f['valid_before']['NDCG@10']:.4f} → {r['repeat']['valid_without']['NDCG@10']:.4f} | "
              f"{b['HR@20']:.4f} → {t['HR@20']:.4f} | {b['MRR@20']:.4f} → {t['MRR@20']:.4f} |")
    seeds = sorted(runs)
    for key in ["HR@20", "MRR@20"]:
        with_, without = mean_sd([runs[s]["test"][key] for s in seeds]), mean_sd([base[s]["test"][key] for s in seeds])
        print(f"{key}: with {with_[0]:.4f} ± {with_[1]:.4f}, without {without[0]:.4f} ± {without[1]:.4f} (seeds {', '.join(map(str, seeds))})")
    hit = lambda rank: 1.0 if rank < 20 else 0.0
    for key, score in [("HR@20", hit), ("MRR@20", mrr20)]:
        diffs = [sum(score(runs[s]["test_ranks"][i]) - score(base[s]["test_ranks"][i]) for s in seeds) / len(seeds)
                 for i in range(len(runs[seeds[0]]["test_ranks"]))]
        print(f"paired bootstrap of per-case {key}, averaged over the seeds: p = {paired(diffs, resamples=2000)[0]:.3f}")


def per_seed_rows(reports):
    """Per variant and seed: the validation NDCG@10 it stopped at (without the bonus, what
    early stopping chose on) and its test HR@20 / MRR@20 minus `none`'s at the same seed."""
    seeds = sorted({s for runs in reports.values() for s in runs})
    print("| variant | " + " | ".join(f"seed {s}: valid NDCG@10, Δ test HR@20 / MRR@20" for s in seeds) + " | mean valid NDCG@10 |")
    print("|---|" + "---|" * (len(seeds) + 1))
    none = reports.get("none", {})
    for variant in [v for v in VARIANTS if v in reports]:
        runs, cells = reports[variant], []
        valid = {s: r["repeat"]["valid_without"]["NDCG@10"] for s, r in runs.items()}
        for s in seeds:
            if s not in runs:
                cells.append("–")
                continue
            diff = lambda key: runs[s]["test"][key] - none[s]["test"][key]
            cells.append(f"{valid[s]:.4f}" + (f", {diff('HR@20'):+.4f} / {diff('MRR@20'):+.4f}" if variant != "none" and s in none else ""))
        print(f"| `{variant}` | " + " | ".join(cells) + f" | {sum(valid.values()) / len(valid):.4f} |")


def per_case(runs):
    """Each test case's MRR@20, averaged over `runs`."""
    return [sum(mrr20(r["test_ranks"][i]) for r in runs) / len(runs) for i in range(len(runs[0]["test_ranks"]))]


def p_value(seeds, base):
    """Paired bootstrap p of the per-case MRR@20 of `seeds` against `base` over their common seeds."""
    common = sorted(set(seeds) & set(base))
    if not common:
        return "–"
    mine, theirs = per_case([seeds[s] for s in common]), per_case([base[s] for s in common])
    return f"{paired([a - b for a, b in zip(mine, theirs)], resamples=2000)[0]:.3f}"


def variant_rows(tables):
    """The baselines, then per (table, label) a row per variant (mean ± sd over seeds, p against `none`)."""
    any_report = next(iter(next(iter(tables[0][0].values())).values()))
    print("| method | seeds | test HR@20 | test MRR@20 | HR@10 | MRR@10 | p (MRR@20 vs none) |")
    print("|---|---|---|---|---|---|---|")
    for name, m in any_report["baselines"].items():
        print(f"| {name} | – | {m['HR@20']:.4f} | {m['MRR@20']:.4f} | {m['HR@10']:.4f} | {m['MRR@10']:.4f} | – |")
    for table, label in tables:
        for variant in [v for v in VARIANTS if v in table]:
            seeds = table[variant]
            cell_ = lambda key: mean_sd([r["test"][key] for r in seeds.values()])
            figures = " | ".join(f"{m:.4f} ± {sd:.4f}" if len(seeds) > 1 else f"{m:.4f}" for m, sd in map(cell_, ["HR@20", "MRR@20", "HR@10", "MRR@10"]))
            p = p_value(seeds, table.get("none", {})) if variant != "none" else "–"
            print(f"| model, `{variant}`{label} | {', '.join(map(str, sorted(seeds)))} | {figures} | {p} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="train and evaluate study cells (skips those written)")
    run.add_argument("--data", nargs="+", choices=list(DATA), default=STUDY_DATA)
    run.add_argument("--variant", nargs="+", choices=VARIANTS, default=VARIANTS)
    run.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    run.add_argument("--jobs", type=int, default=1, help="cells trained at once (default 1)")
    run.add_argument("--device", choices=["cpu", "wgpu"], default="cpu")
    sub.add_parser("tables", help="write results/study.json and the tables in docs/results.md")
    sub.add_parser("status", help="the cells in training here, from their checkpoints")
    bench = sub.add_parser("speed", help="training speed, shuffled against by-length batches")
    bench.add_argument("--epochs", type=int, default=2)
    device = sub.add_parser("device-speed", help="results/device-speed.json from a scripts/device-study.sh log")
    device.add_argument("log", nargs="?", default=str(ROOT / "results" / "device" / "speed.log"))
    cost = sub.add_parser("gap", help="what one missing item before the target costs (results/next-item-gap/)")
    cost.add_argument("model", help="a trained model bundle (.awrsr)")
    cost.add_argument("log", help="the `user item ...` text log it was trained on (sequence or pair lines)")
    sessions = sub.add_parser("sessions", help="the shop-sessions study on Diginetica (results/sessions/)")
    sessions.add_argument("--variant", nargs="+", choices=VARIANTS, default=["none", "value"])
    sessions.add_argument("--seeds", nargs="+", type=int, default=[42])
    sessions.add_argument("--jobs", type=int, default=1, help="cells trained at once (default 1)")
    sub.add_parser("sessions-table", help="the shop-sessions table from results/sessions/")
    variants = sub.add_parser("sessions-variants", help="the variant table at today's defaults (results/sessions/variants/)")
    variants.add_argument("--finish", action="store_true", help="with the recency finish (results/sessions/variants-finish/)")
    sub.add_parser("sessions-finish", help="the recency finish against the default runs (results/sessions/finish/)")
    args = parser.parse_args()
    if args.command == "sessions":
        SESSIONS.mkdir(parents=True, exist_ok=True)
        threads = None if args.jobs == 1 else max(1, (os.cpu_count() or 1) // args.jobs)
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            for done in [pool.submit(session_cell, v, s, threads) for s in args.seeds for v in args.variant]:
                done.result()
        sessions_table()
        return
    others = {"tables": tables, "status": status, "sessions-table": sessions_table, "sessions-variants": lambda: sessions_variants(args.finish), "sessions-finish": sessions_finish, "speed": lambda: speed(args.epochs),
              "device-speed": lambda: device_speed(args.log), "gap": lambda: gap(args.model, args.log)}
    if args.command in others:
        others[args.command]()
        return
    STUDY.mkdir(parents=True, exist_ok=True)
    todo = [(data, variant, seed) for data in args.data for seed in args.seeds for variant in args.variant]
    jobs = max(1, args.jobs)
    threads = None if jobs == 1 or "RAYON_NUM_THREADS" in os.environ else max(1, (os.cpu_count() or 1) // jobs)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for done in [pool.submit(run_cell, *cell_, args.device, threads) for cell_ in todo]:
            done.result()
    tables()


if __name__ == "__main__":
    main()
