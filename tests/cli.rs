//! The command-line tool end to end: a short real training on a slice of ml-latest-small,
//! evaluation of the written bundle, recommendations, and bad input.

mod common;

use common::{awrsr, ok, read_json};

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn failure(output: Output) -> String {
    assert_eq!(output.status.code(), Some(2), "expected exit code 2");
    String::from_utf8_lossy(&output.stderr).to_string()
}

/// The first `users` users of the shipped ratings.csv (it is sorted by user id).
fn slice(dir: &Path, users: usize) -> std::path::PathBuf {
    let source = common::shipped_movielens();
    let text = std::fs::read_to_string(source.join("ratings.csv")).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(i, l)| *i == 0 || l.split(',').next().unwrap().parse::<usize>().unwrap() <= users)
        .map(|(_, l)| l)
        .collect();
    let folder = dir.join("slice");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("ratings.csv"), lines.join("\n")).unwrap();
    std::fs::copy(source.join("movies.csv"), folder.join("movies.csv")).unwrap();
    folder
}

#[test]
fn train_beats_popularity_then_eval_and_recommend_use_the_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let data = slice(dir.path(), 200);
    let model = dir.path().join("m.awrsr");
    let train_json = dir.path().join("train.json");
    let data_arg = data.to_str().unwrap();
    // 200 users: a light dropout (the default 0.5 is tuned for whole data sets).
    ok(awrsr(&[
        "train",
        "--data",
        data_arg,
        "--out",
        model.to_str().unwrap(),
        "--metrics-json",
        train_json.to_str().unwrap(),
        "--max-len",
        "50",
        "--d-model",
        "32",
        "--epochs",
        "30",
        "--batch-size",
        "16",
        "--patience",
        "30",
        "--dropout",
        "0.2",
        "--quiet",
    ]));
    let trained = read_json(&train_json);
    for split in ["valid", "test"] {
        let model_ndcg = trained[split]["NDCG@10"].as_f64().unwrap();
        let model_hr = trained[split]["HR@10"].as_f64().unwrap();
        let pop_hr = trained["popularity"][split]["HR@10"].as_f64().unwrap();
        let pop_ndcg = trained["popularity"][split]["NDCG@10"].as_f64().unwrap();
        assert!(
            model_hr > pop_hr && model_ndcg > pop_ndcg,
            "{split}: model HR@10 {model_hr} NDCG@10 {model_ndcg} vs popularity {pop_hr} {pop_ndcg}"
        );
    }

    // Evaluating the written bundle on the same log reproduces the training report.
    let eval_json = dir.path().join("eval.json");
    ok(awrsr(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--data",
        data_arg,
        "--metrics-json",
        eval_json.to_str().unwrap(),
    ]));
    let evaluated = read_json(&eval_json);
    for key in ["HR@10", "NDCG@10", "MRR"] {
        let (a, b) = (
            trained["test"][key].as_f64().unwrap(),
            evaluated["test"][key].as_f64().unwrap(),
        );
        assert!((a - b).abs() < 1e-9, "{key}: train report {a}, eval {b}");
    }
    let filtered = dir.path().join("filtered.json");
    ok(awrsr(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--data",
        data_arg,
        "--filter-seen",
        "--metrics-json",
        filtered.to_str().unwrap(),
    ]));
    let filtered = read_json(&filtered);
    assert_eq!(filtered["filter_seen"], Value::Bool(true));
    assert!(
        filtered["test"]["MRR"].as_f64().unwrap() >= evaluated["test"]["MRR"].as_f64().unwrap()
    );

    // Recommend: session items excluded, unknown ids listed, each item's explanation names
    // session items with positive score drops, strongest first.
    let out = ok(awrsr(&[
        "recommend",
        "--model",
        model.to_str().unwrap(),
        "--session",
        "1,50,nope,260",
        "-k",
        "7",
        "--explain",
        "--json",
    ]));
    let out: Value = serde_json::from_str(&out).unwrap();
    let items = out["items"].as_array().unwrap();
    assert_eq!(items.len(), 7);
    assert_eq!(out["unknown"], serde_json::json!(["nope"]));
    for item in items {
        let id = item["id"].as_str().unwrap();
        assert!(
            !["1", "50", "260"].contains(&id),
            "recommended a session item {id}"
        );
        assert!(item["title"].is_string());
        let because = item["because"].as_array().unwrap();
        let ids: Vec<&str> = because.iter().map(|b| b["id"].as_str().unwrap()).collect();
        assert!(ids.len() <= 3, "{ids:?}");
        assert!(ids.iter().all(|id| ["1", "50", "260"].contains(id)));
        let weights: Vec<f64> = because
            .iter()
            .map(|b| b["weight"].as_f64().unwrap())
            .collect();
        assert!(
            weights.iter().all(|&w| w > 0.0) && weights.windows(2).all(|w| w[0] >= w[1]),
            "{weights:?}"
        );
    }
    let attention = &out["attention"];
    assert_eq!(attention["ids"], serde_json::json!(["1", "50", "260"]));
    let rollout: Vec<f64> = attention["rollout"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(
        rollout.len() == 3 && (rollout.iter().sum::<f64>() - 1.0).abs() < 1e-4,
        "{rollout:?}"
    );
    for (i, row) in attention["weights"].as_array().unwrap().iter().enumerate() {
        let row: Vec<f64> = row
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(row.len(), 3);
        assert!(
            (row.iter().sum::<f64>() - 1.0).abs() < 1e-4,
            "attention row {i} sums to 1"
        );
        assert!(
            row[i + 1..].iter().all(|v| v.abs() < 1e-6),
            "attention row {i} looks ahead"
        );
    }
    let scores: Vec<f64> = items.iter().map(|i| i["score"].as_f64().unwrap()).collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "best first: {scores:?}"
    );

    let table = ok(awrsr(&[
        "recommend",
        "--model",
        model.to_str().unwrap(),
        "--session",
        "1,50",
        "--include-seen",
        "-k",
        "3",
    ]));
    assert_eq!(table.lines().count(), 3, "{table}");
}

#[test]
fn bad_input_gives_a_clear_error_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("ratings.csv");
    std::fs::write(&log, "userId,movieId,rating,timestamp\n1,2,3,4\n1,2\n").unwrap();
    let message = failure(awrsr(&[
        "train",
        "--data",
        log.to_str().unwrap(),
        "--epochs",
        "1",
    ]));
    assert!(
        message.contains("ratings.csv:3: expected 4 fields, found 2"),
        "{message}"
    );

    let fake = dir.path().join("fake.awrsr");
    std::fs::write(&fake, b"definitely not a model").unwrap();
    let message = failure(awrsr(&[
        "recommend",
        "--model",
        fake.to_str().unwrap(),
        "--session",
        "1",
    ]));
    assert!(
        message.contains("fake.awrsr: not an awrsr model bundle"),
        "{message}"
    );

    let message = failure(awrsr(&[
        "recommend",
        "--model",
        dir.path().join("none").to_str().unwrap(),
    ]));
    assert!(message.contains("cannot read model"), "{message}");

    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        "userId,movieId,rating,timestamp\n1,2,3,4\n1,3,3,5\n1,4,3,6\n",
    )
    .unwrap();
    let message = failure(awrsr(&[
        "train",
        "--data",
        good.to_str().unwrap(),
        "--heads",
        "3",
        "--epochs",
        "1",
    ]));
    assert!(
        message.contains("d_model 64 is not divisible by heads 3"),
        "{message}"
    );
}

/// A synthetic ratings.csv: `users` users with `per_user` interactions each, over 12 items.
fn tiny_log(dir: &Path, name: &str, users: usize, per_user: usize) -> std::path::PathBuf {
    let mut text = String::from("userId,movieId,rating,timestamp\n");
    for u in 0..users {
        for i in 0..per_user {
            text += &format!("{u},{},4,{}\n", (u + i * (u % 3 + 1)) % 12, i);
        }
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The fastest training: one epoch of a tiny network (pairs that `extra` does not set).
const QUICK: [(&str, &str); 4] = [
    ("--epochs", "1"),
    ("--d-model", "8"),
    ("--max-len", "5"),
    ("--layers", "1"),
];

fn train_args<'a>(data: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["train", "--data", data, "--out", out, "--quiet"];
    for (flag, value) in QUICK.into_iter().filter(|(flag, _)| !extra.contains(flag)) {
        args.extend([flag, value]);
    }
    args.extend(extra);
    args
}

#[test]
fn impossible_settings_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let log = tiny_log(dir.path(), "ratings.csv", 20, 6);
    let out = dir.path().join("m.awrsr");
    let (log, out_arg) = (log.to_str().unwrap(), out.to_str().unwrap());
    let cases: [(&[&str], &str); 14] = [
        (&["--epochs", "0"], "epochs must be at least 1"),
        (&["--batch-size", "0"], "batch size must be at least 1"),
        (&["--patience", "0"], "patience must be at least 1"),
        (
            &["--lr", "NaN"],
            "learning rate NaN is not a number in (0, 1]",
        ),
        (&["--lr", "inf"], "learning rate inf"),
        (
            &["--lr", "1e30"],
            "learning rate 1000000000000000000000000000000",
        ),
        (&["--lr", "0"], "learning rate 0"),
        (&["--refine-scale", "NaN"], "refine_scale NaN"),
        (&["--refine-scale", "inf"], "refine_scale inf"),
        (&["--dropout", "1"], "dropout 1 is not in [0, 1)"),
        (&["--dropout", "NaN"], "dropout NaN"),
        (
            &["--max-len", "100000"],
            "max_len 100000 is above the limit of 4096",
        ),
        (
            &["--layers", "64", "--d-model", "4096"],
            "above the 2147483648-byte limit of a bundle",
        ),
        (&["--heads", "3"], "not divisible by heads 3"),
    ];
    for (extra, expected) in cases {
        let output = awrsr(&train_args(log, out_arg, extra));
        assert!(output.stdout.is_empty(), "{extra:?}: work started");
        let message = failure(output);
        assert!(message.contains(expected), "{extra:?}: {message}");
        assert!(!out.exists());
    }
}

#[test]
fn output_paths_are_checked_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let log = tiny_log(dir.path(), "ratings.csv", 20, 6);
    let before = std::fs::read(&log).unwrap();
    let folder = dir.path().to_str().unwrap();
    let log_arg = log.to_str().unwrap();
    let missing = dir.path().join("no/such/m.json");
    let (dotted, x) = (format!("{folder}/./ratings.csv"), format!("{folder}/x"));
    let cases: [(Vec<&str>, &str); 6] = [
        (vec!["--out", log_arg], "would overwrite"),
        (vec!["--out", &dotted], "would overwrite"),
        (vec!["--out", folder], "is a directory"),
        (vec!["--out", "/dev/null"], "is not a regular file"),
        (
            vec!["--out", &x, "--metrics-json", missing.to_str().unwrap()],
            "does not exist",
        ),
        (vec!["--out", &x, "--metrics-json", &x], "would overwrite"),
    ];
    for (extra, expected) in cases {
        let mut args = train_args(folder, "", &extra);
        args.drain(3..5);
        let output = awrsr(&args);
        assert!(output.stdout.is_empty(), "{extra:?}: training started");
        let message = failure(output);
        assert!(message.contains(expected), "{extra:?}: {message}");
    }
    assert_eq!(
        std::fs::read(&log).unwrap(),
        before,
        "the input log is untouched"
    );
}

#[test]
fn logs_too_small_to_train_or_evaluate_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.awrsr");
    let singles = tiny_log(dir.path(), "singles.csv", 30, 1);
    let message = failure(awrsr(&train_args(
        singles.to_str().unwrap(),
        out.to_str().unwrap(),
        &[],
    )));
    assert!(
        message.contains(&format!("{}: ", singles.display()))
            && message.contains("no user has 3 or more interactions"),
        "{message}"
    );
    let triples = tiny_log(dir.path(), "triples.csv", 30, 3);
    let message = failure(awrsr(&train_args(
        triples.to_str().unwrap(),
        out.to_str().unwrap(),
        &[],
    )));
    assert!(
        message.contains(&format!("{}: ", triples.display()))
            && message.contains("no training step is possible"),
        "{message}"
    );
    assert!(!out.exists());

    let log = tiny_log(dir.path(), "ratings.csv", 20, 6);
    ok(awrsr(&train_args(
        log.to_str().unwrap(),
        out.to_str().unwrap(),
        &[],
    )));
    let strangers = dir.path().join("strangers.csv");
    std::fs::write(
        &strangers,
        "userId,movieId,rating,timestamp\n1,x,1,1\n1,y,1,2\n1,z,1,3\n",
    )
    .unwrap();
    let message = failure(awrsr(&[
        "eval",
        "--model",
        out.to_str().unwrap(),
        "--data",
        strangers.to_str().unwrap(),
    ]));
    assert!(message.contains("nothing to evaluate"), "{message}");
}

#[test]
fn a_closed_stdout_ends_quietly_and_train_still_writes_the_model() {
    use std::io::BufRead;
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let log = tiny_log(dir.path(), "ratings.csv", 20, 6);
    let out = dir.path().join("m.awrsr");
    // `awrsr train … | head -1`
    let mut child = Command::new(env!("CARGO_BIN_EXE_awrsr"))
        .args(train_args(
            log.to_str().unwrap(),
            out.to_str().unwrap(),
            &["--epochs", "2"],
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("data:"), "{first}");
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(out.exists(), "the model is written");

    // `awrsr recommend … | head -0`: the reader is gone before anything is printed.
    for extra in [&["--json"][..], &[]] {
        let mut args = vec![
            "recommend",
            "--model",
            out.to_str().unwrap(),
            "--session",
            "1,2",
            "-k",
            "5",
        ];
        args.extend(extra);
        let mut child = Command::new(env!("CARGO_BIN_EXE_awrsr"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn a_failed_write_leaves_the_previous_model_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let log = tiny_log(dir.path(), "ratings.csv", 20, 6);
    let out = dir.path().join("m.awrsr");
    ok(awrsr(&train_args(
        log.to_str().unwrap(),
        out.to_str().unwrap(),
        &[],
    )));
    let good = std::fs::read(&out).unwrap();
    // Disk full, simulated: no file may grow beyond 1 KiB.
    let mut args = vec![
        "-c",
        "ulimit -f 2 && exec \"$@\"",
        "sh",
        env!("CARGO_BIN_EXE_awrsr"),
    ];
    args.extend(train_args(
        log.to_str().unwrap(),
        out.to_str().unwrap(),
        &["--seed", "7"],
    ));
    let output = Command::new("sh").args(&args).output().unwrap();
    let message = failure(output);
    assert!(
        message.contains(&format!("cannot write {}", out.display())),
        "{message}"
    );
    assert_eq!(
        std::fs::read(&out).unwrap(),
        good,
        "the previous model is intact"
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into())
        .collect();
    assert_eq!(names.len(), 2, "no temporary file is left: {names:?}");
}

#[cfg(unix)]
#[test]
fn writing_through_a_symbolic_link_replaces_its_target_and_keeps_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/www/model.awrsr");
    let target = dir.path().join("target.awrsr");
    std::fs::write(&target, b"an older model").unwrap();
    let link = dir.path().join("link.awrsr");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    ok(awrsr(&[
        "export",
        "--model",
        shipped,
        "--out",
        link.to_str().unwrap(),
        "--precision",
        "int8",
    ]));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is still a link"
    );
    let written = std::fs::read(&target).unwrap();
    assert!(
        written.len() > 1000 && written != b"an older model",
        "the target holds the new model"
    );
    ok(awrsr(&[
        "recommend",
        "--model",
        link.to_str().unwrap(),
        "--session",
        "1",
        "-k",
        "2",
    ]));
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into())
        .collect();
    assert_eq!(names.len(), 2, "no temporary file is left: {names:?}");
}

#[test]
fn model_files_are_read_with_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let log = tiny_log(dir.path(), "ratings.csv", 20, 6);
    let model = dir.path().join("m.awrsr");
    ok(awrsr(&train_args(
        log.to_str().unwrap(),
        model.to_str().unwrap(),
        &[],
    )));
    let fifo = dir.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let longer = dir.path().join("longer.awrsr");
    let mut bytes = std::fs::read(&model).unwrap();
    bytes.extend_from_slice(b"trailing");
    std::fs::write(&longer, &bytes).unwrap();
    let huge_header = dir.path().join("huge.awrsr");
    std::fs::write(&huge_header, u64::MAX.to_le_bytes()).unwrap();
    let cases = [
        ("/dev/zero", "not a regular file"),
        (fifo.to_str().unwrap(), "not a regular file"),
        (dir.path().to_str().unwrap(), "not a regular file"),
        (longer.to_str().unwrap(), "8 bytes after the"),
        (
            huge_header.to_str().unwrap(),
            "does not fit a file of 8 bytes",
        ),
    ];
    for (path, expected) in cases {
        let started = std::time::Instant::now();
        let message = failure(awrsr(&["recommend", "--model", path, "--session", "1"]));
        assert!(message.contains(expected), "{path}: {message}");
        assert!(started.elapsed().as_secs() < 10, "{path}");
    }
}

#[test]
fn a_bundle_without_checksum_loads_with_a_warning() {
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/www/model.awrsr");
    let output = awrsr(&["recommend", "--model", shipped, "--session", "1", "-k", "2"]);
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(ok(output).lines().count(), 2);
    let legacy =
        !String::from_utf8_lossy(&std::fs::read(shipped).unwrap()).contains("awrsr.checksum");
    assert_eq!(
        stderr.contains("warning:") && stderr.contains("no checksum"),
        legacy,
        "{stderr}"
    );
}

#[test]
fn export_rewrites_a_bundle_with_a_checksum_and_the_same_answers() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/www/model.awrsr");
    let out = dir.path().join("exported.awrsr");
    let out = out.to_str().unwrap();
    ok(awrsr(&["export", "--model", shipped, "--out", out]));
    assert!(String::from_utf8_lossy(&std::fs::read(out).unwrap()).contains("awrsr.checksum"));
    let answer = |model: &str| {
        let output = awrsr(&[
            "recommend",
            "--model",
            model,
            "--session",
            "1,50,260",
            "-k",
            "10",
            "--json",
            "--explain",
        ]);
        (
            String::from_utf8_lossy(&output.stderr).contains("no checksum"),
            ok(output),
        )
    };
    let (_, before) = answer(shipped);
    let (warned, after) = answer(out);
    assert!(!warned, "the exported bundle has a checksum");
    assert_eq!(
        before, after,
        "same recommendations, scores and explanations"
    );
    assert!(failure(awrsr(&["export", "--model", out, "--out", out])).contains("--out"));
}

/// The loss and validation figures of an epoch's line (its timing dropped).
fn epoch_figures(stdout: &str, epoch: usize) -> Option<String> {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&format!("epoch {epoch:>3}  ")))?;
    let loss = line.split("  ").nth(1)?;
    let valid = line.split("  valid ").nth(1)?;
    Some(format!("{loss} | {valid}"))
}

/// Dropout's masks come from the seed: the same seed repeats a run figure for figure, another
/// seed gives other figures.
#[test]
fn a_seeded_run_with_dropout_repeats_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let data = slice(dir.path(), 60);
    let out = dir.path().join("m.awrsr");
    let (data, out) = (data.to_str().unwrap(), out.to_str().unwrap());
    let run = |seed: &str| {
        let args = [
            "train",
            "--data",
            data,
            "--out",
            out,
            "--quiet",
            "--epochs",
            "2",
            "--dropout",
            "0.5",
            "--d-model",
            "16",
            "--max-len",
            "20",
            "--batch-size",
            "16",
            "--seed",
            seed,
        ];
        let stdout = ok(awrsr(&args));
        (epoch_figures(&stdout, 1), epoch_figures(&stdout, 2))
    };
    let first = run("3");
    assert!(first.1.is_some(), "two epochs reported: {first:?}");
    assert_eq!(first, run("3"), "same seed, same figures");
    assert_ne!(first, run("4"), "another seed, other figures");
}

#[test]
fn a_resumed_run_continues_exactly_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let data = slice(dir.path(), 60);
    let (data, out) = (data.to_str().unwrap(), dir.path().join("m.awrsr"));
    let checkpoint = dir.path().join("run.ckpt");
    let (out, checkpoint) = (out.to_str().unwrap(), checkpoint.to_str().unwrap());
    for batching in ["shuffled", "by-length"] {
        std::fs::remove_file(checkpoint).ok();
        // Shuffling, negatives and dropout's masks all come from the run's generator, which
        // the checkpoint saves: a resumed run repeats the uninterrupted one figure for figure.
        let run = |epochs: &str, extra: &[&str]| {
            let mut args = vec![
                "train",
                "--data",
                data,
                "--out",
                out,
                "--quiet",
                "--epochs",
                epochs,
                "--dropout",
                "0.3",
            ];
            args.extend([
                "--d-model",
                "16",
                "--max-len",
                "20",
                "--batch-size",
                "16",
                "--batching",
                batching,
            ]);
            args.extend(extra);
            ok(awrsr(&args))
        };
        let straight = run("3", &[]);
        let first = run("1", &["--checkpoint", checkpoint]);
        assert!(
            epoch_figures(&first, 1).is_some() && epoch_figures(&first, 2).is_none(),
            "{first}"
        );
        assert!(Path::new(checkpoint).is_file(), "the checkpoint is written");
        let resumed = run("3", &["--checkpoint", checkpoint]);
        assert!(
            resumed.contains(&format!("resumed from {checkpoint} after epoch 1")),
            "{resumed}"
        );
        assert_eq!(
            epoch_figures(&resumed, 1),
            None,
            "epoch 1 is not run again:\n{resumed}"
        );
        for epoch in 2..=3 {
            let (a, b) = (
                epoch_figures(&straight, epoch),
                epoch_figures(&resumed, epoch),
            );
            assert!(a.is_some(), "{straight}");
            assert_eq!(
                a, b,
                "{batching}, epoch {epoch}: uninterrupted against resumed"
            );
        }
        let best = |stdout: &str| {
            stdout
                .lines()
                .find(|l| l.starts_with("best epoch"))
                .map(str::to_string)
        };
        assert_eq!(best(&straight), best(&resumed));

        // A finished run resumed with the same limit trains no more and reports the same model.
        let again = run("3", &["--checkpoint", checkpoint]);
        assert!(
            again.contains("after epoch 3") && epoch_figures(&again, 4).is_none(),
            "{again}"
        );
        assert_eq!(best(&again), best(&resumed));
    }
}

#[test]
fn a_checkpoint_of_another_run_or_a_damaged_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = tiny_log(dir.path(), "ratings.csv", 20, 6);
    let other_log = tiny_log(dir.path(), "other.csv", 21, 6);
    let (log, other_log) = (log.to_str().unwrap(), other_log.to_str().unwrap());
    let out = dir.path().join("m.awrsr");
    let out = out.to_str().unwrap();
    let checkpoint = dir.path().join("run.ckpt");
    let path = checkpoint.to_str().unwrap();
    ok(awrsr(&train_args(log, out, &["--checkpoint", path])));
    let saved = std::fs::read(&checkpoint).unwrap();

    let refused: [(&str, &[&str], &str); 5] = [
        (log, &["--seed", "7"], "\"seed\":7"),
        (
            log,
            &["--batching", "by-length"],
            "\"batching\":\"by-length\"",
        ),
        (log, &["--d-model", "12"], "\"d_model\":12"),
        (log, &["--batch-size", "8"], "\"batch_size\":8"),
        (other_log, &[], "data 20 users"),
    ];
    for (data, extra, expected) in refused {
        let message = failure(awrsr(&train_args(
            data,
            out,
            &[&["--checkpoint", path], extra].concat(),
        )));
        assert!(
            message.contains("the checkpoint is of another run") && message.contains(expected),
            "{extra:?}: {message}"
        );
    }

    let damaged: [(Vec<u8>, &str); 5] = [
        (saved[..saved.len() - 1].to_vec(), "checksum does not match"),
        (saved[..10].to_vec(), "shorter than its 16-byte header"),
        (
            [&saved[..40], &[saved[40] ^ 1], &saved[41..]].concat(),
            "checksum does not match",
        ),
        (
            b"PK\x03\x04 not a checkpoint at all".to_vec(),
            "wrong magic bytes",
        ),
        (Vec::new(), "shorter than its 16-byte header"),
    ];
    for (bytes, expected) in damaged {
        std::fs::write(&checkpoint, &bytes).unwrap();
        let output = awrsr(&train_args(log, out, &["--checkpoint", path]));
        assert!(
            !String::from_utf8_lossy(&output.stdout)
                .lines()
                .any(|l| l.starts_with("epoch ")),
            "no training on a damaged checkpoint"
        );
        let message = failure(output);
        assert!(
            message.contains(&format!("checkpoint {path}")) && message.contains(expected),
            "{message}"
        );
        assert_eq!(
            std::fs::read(&checkpoint).unwrap(),
            bytes,
            "a refused checkpoint is left as it was"
        );
    }
    std::fs::write(&checkpoint, &saved).unwrap();
    ok(awrsr(&train_args(
        log,
        out,
        &["--checkpoint", path, "--epochs", "2"],
    )));
    let message = failure(awrsr(&train_args(
        log,
        out,
        &["--checkpoint", dir.path().to_str().unwrap()],
    )));
    assert!(message.contains("is a directory"), "{message}");
}

#[test]
fn a_detected_format_is_named_unless_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for u in 0..20 {
        for i in 0..6 {
            text += &format!("u{u} i{}\n", (u + i * (u % 3 + 1)) % 12);
        }
    }
    let log = dir.path().join("log.txt");
    std::fs::write(&log, text).unwrap();
    let out = dir.path().join("m.awrsr");
    let (log, out) = (log.to_str().unwrap(), out.to_str().unwrap());
    let stderr = |quiet: bool, extra: &[&str]| {
        let mut args = train_args(log, out, extra);
        args.retain(|a| quiet || *a != "--quiet");
        let output = awrsr(&args);
        assert!(output.status.success(), "{extra:?}");
        String::from_utf8_lossy(&output.stderr).to_string()
    };
    let said = stderr(false, &[]);
    assert!(
        said.contains(&format!(
            "{log}: read as pairs (detected from every line has two fields; --format chooses another)"
        )),
        "{said}"
    );
    assert!(!stderr(true, &[]).contains("read as"));
    assert!(!stderr(false, &["--format", "pairs"]).contains("read as"));
    let eval = awrsr(&["eval", "--model", out, "--data", log]);
    assert!(String::from_utf8_lossy(&eval.stderr).contains("read as pairs"));
}

/// A bundle of a small random model of the items `ids` (n = 6) with `edit` applied to its
/// weights, written to `dir/name`.
fn edited_bundle(
    dir: &Path,
    name: &str,
    ids: &[&str],
    edit: impl FnOnce(&mut awrsr::model::Awrsr, &awrsr::model::ModelConfig),
) -> std::path::PathBuf {
    use awrsr::bundle::{Precision, encode};
    use awrsr::catalogue::Catalogue;
    let device = burn::tensor::Device::flex();
    let mut config = awrsr::model::ModelConfig::new(ids.len());
    (config.max_len, config.d_model) = (6, 8);
    let mut model = config.init(&device);
    edit(&mut model, &config);
    let ids = ids.iter().map(|id| id.to_string()).collect();
    let catalogue = Catalogue::new(ids, vec![None; config.num_items]).unwrap();
    let path = dir.join(name);
    std::fs::write(
        &path,
        encode(&model, &config, &catalogue, Precision::F32).unwrap(),
    )
    .unwrap();
    path
}

/// A parameter's weights times `factor`.
fn scaled<const D: usize>(
    weight: &burn::module::Param<burn::tensor::Tensor<D>>,
    factor: f32,
) -> burn::module::Param<burn::tensor::Tensor<D>> {
    burn::module::Param::from_tensor(weight.val().mul_scalar(factor))
}

#[test]
fn errors_from_a_model_s_weights_name_the_model_file() {
    let dir = tempfile::tempdir().unwrap();
    // Finite in f32, beyond f16's ±65504.
    let large = edited_bundle(dir.path(), "large.awrsr", &["a", "b"], |model, _| {
        model.positions.weight = scaled(&model.positions.weight, 1e7);
    });
    let out = dir.path().join("half.awrsr");
    let message = failure(awrsr(&[
        "export",
        "--model",
        large.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--precision",
        "f16",
    ]));
    assert!(
        message.contains(&format!("{}: ", large.display()))
            && message.contains("beyond the range of f16"),
        "{message}"
    );
    assert!(!out.exists());
    // Finite weights whose scores overflow: the final LayerNorm's output (of mean square 1)
    // times f32::MAX.
    let overflowing =
        edited_bundle(
            dir.path(),
            "overflowing.awrsr",
            &["a", "b", "c"],
            |model, _| {
                let gamma = model.final_norm.gamma.val();
                model.final_norm.gamma = burn::module::Param::from_tensor(
                    burn::tensor::Tensor::full(gamma.dims(), f32::MAX, &gamma.device()),
                );
            },
        );
    let message = failure(awrsr(&[
        "recommend",
        "--model",
        overflowing.to_str().unwrap(),
        "--session",
        "a,b",
    ]));
    assert!(
        message.contains(&format!("{}: ", overflowing.display())) && message.contains("non-finite"),
        "{message}"
    );
    // eval refuses them too, rather than ranking NaN.
    let log = dir.path().join("log.txt");
    std::fs::write(&log, "u a\nu b\nu c\nv c\nv b\nv a\n").unwrap();
    let message = failure(awrsr(&[
        "eval",
        "--model",
        overflowing.to_str().unwrap(),
        "--data",
        log.to_str().unwrap(),
    ]));
    assert!(
        message.contains(&format!("{}: ", overflowing.display()))
            && message.contains("non-finite scores"),
        "{message}"
    );
}

#[test]
fn a_session_of_ids_with_commas_and_dashes_is_given_as_json_or_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let model = edited_bundle(dir.path(), "m.awrsr", &["a,b", "-x", "c", "d"], |_, _| {});
    let model = model.to_str().unwrap();
    let file = dir.path().join("session.txt");
    std::fs::write(&file, "a,b\r\n\r\n-x\r").unwrap();
    let answer = |session: &[&str]| {
        let args = [&["recommend", "--model", model, "--json"], session].concat();
        let out: Value = serde_json::from_str(&ok(awrsr(&args))).unwrap();
        let items: Vec<&str> = out["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        // The order of c and d depends on an untrained model's scores: compare the set.
        let mut items = items;
        items.sort_unstable();
        (items.join(" "), out["unknown"].clone())
    };
    // Both session items known, so both left out of the recommendations.
    let expected = (String::from("c d"), serde_json::json!([]));
    assert_eq!(answer(&["--session-json", r#"["a,b", "-x"]"#]), expected);
    assert_eq!(
        answer(&["--session-file", file.to_str().unwrap()]),
        expected
    );
    assert_eq!(answer(&["--session=-x"]).1, serde_json::json!([]));
    // The comma-separated flag still splits.
    assert_eq!(
        answer(&["--session", "a,b"]).1,
        serde_json::json!(["a", "b"])
    );
    let cases: [(&[&str], &str); 4] = [
        (
            &["--session-json", "[\"a\", 3]"],
            "--session-json is not a JSON array of strings",
        ),
        (
            &["--session-json", "a,b"],
            "--session-json is not a JSON array",
        ),
        (
            &["--session-file", "/no/such/file"],
            "--session-file /no/such/file:",
        ),
        (
            &["--session-json", "[]", "--session", "c"],
            "cannot be used with",
        ),
    ];
    for (session, expected) in cases {
        let args = [&["recommend", "--model", model], session].concat();
        let message = failure(awrsr(&args));
        assert!(message.contains(expected), "{session:?}: {message}");
    }
}

#[test]
fn control_characters_in_ids_and_titles_are_escaped_in_the_table() {
    use awrsr::bundle::{Precision, encode};
    use awrsr::catalogue::Catalogue;
    let dir = tempfile::tempdir().unwrap();
    let device = burn::tensor::Device::flex();
    let mut config = awrsr::model::ModelConfig::new(3);
    (config.max_len, config.d_model) = (6, 8);
    let ids = ["plain", "e\u{1b}[31mvil", "z\u{202e}"]
        .map(String::from)
        .to_vec();
    let titles = vec![None, Some("Bell\u{7}\ttab".into()), Some("ok".into())];
    let catalogue = Catalogue::new(ids, titles).unwrap();
    let bytes = encode(&config.init(&device), &config, &catalogue, Precision::F32).unwrap();
    let model = dir.path().join("m.awrsr");
    std::fs::write(&model, bytes).unwrap();
    let model = model.to_str().unwrap();
    let session = r#"["plain", "\u001b]0;title\u0007"]"#;
    let output = awrsr(&["recommend", "--model", model, "--session-json", session]);
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let table = ok(output);
    assert!(
        table.contains(r"e\x1b[31mvil") && table.contains(r"Bell\x07\x09tab"),
        "{table}"
    );
    assert!(table.contains(r"z\u{202e}"), "{table}");
    assert!(
        stderr.contains(r"unknown ids skipped: \x1b]0;title\x07"),
        "{stderr}"
    );
    for text in [&table, &stderr] {
        assert!(
            !text.contains(['\u{1b}', '\u{7}', '\u{202e}']),
            "raw control characters: {text:?}"
        );
    }
    // JSON keeps the ids exact (escaped by JSON itself).
    let json = ok(awrsr(&[
        "recommend",
        "--model",
        model,
        "--session",
        "plain",
        "--json",
    ]));
    let json: Value = serde_json::from_str(&json).unwrap();
    let ids: Vec<&str> = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"e\u{1b}[31mvil"), "{ids:?}");
}

/// A random model of the items `0`, `1`, … (`items` of them) with windows of `n`, one head
/// and one layer, written to `dir/name`.
fn long_window_bundle(
    dir: &Path,
    name: &str,
    n: usize,
    items: usize,
    refinement: awrsr::model::Refinement,
) -> std::path::PathBuf {
    use awrsr::bundle::{Precision, encode};
    use awrsr::catalogue::Catalogue;
    let device = burn::tensor::Device::flex();
    let mut config = awrsr::model::ModelConfig::new(items);
    (config.max_len, config.d_model, config.heads, config.layers) = (n, 8, 1, 1);
    config.refinement = refinement;
    let ids = (0..items).map(|i| i.to_string()).collect();
    let catalogue = Catalogue::new(ids, vec![None; items]).unwrap();
    let path = dir.join(name);
    let bytes = encode(&config.init(&device), &config, &catalogue, Precision::F32).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Runs `command`, killing it when it runs past `seconds`.
fn within(mut command: Command, seconds: u64) -> Output {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Drained while it runs, so that a long answer never blocks it on a full pipe.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).unwrap();
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed().as_secs() >= seconds {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("{command:?} ran past {seconds} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// Leaving out each of 2048 session items at n = 2048 would take hours: the explanation
/// leaves out the newest items its budget allows (two here).
#[test]
fn explaining_a_long_window_model_takes_bounded_time() {
    let dir = tempfile::tempdir().unwrap();
    let n = 2048;
    let model = long_window_bundle(
        dir.path(),
        "long.awrsr",
        n,
        n + 20,
        awrsr::model::Refinement::Value,
    );
    let session: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    let file = dir.path().join("session.txt");
    std::fs::write(&file, session.join("\n")).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_awrsr"));
    command.args(["recommend", "--model", model.to_str().unwrap(), "--explain"]);
    command.args([
        "--json",
        "-k",
        "5",
        "--session-file",
        file.to_str().unwrap(),
    ]);
    let out: Value = serde_json::from_str(&ok(within(command, 120))).unwrap();
    let newest = [&session[n - 2], &session[n - 1]];
    for item in out["items"].as_array().unwrap() {
        for because in item["because"].as_array().unwrap() {
            let id = because["id"].as_str().unwrap();
            assert!(
                newest.iter().any(|n| *n == id),
                "{id} is not among {newest:?}"
            );
        }
    }
    assert_eq!(out["attention"]["ids"].as_array().unwrap().len(), n);
}

/// At n = 4096, 24 sessions of full length in one batch would hold 1.6 GB of attention
/// weights in each of several tensors: under a 3 GB address-space limit, `eval` runs only
/// if its batches are bounded.
#[test]
fn eval_of_a_long_window_model_holds_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let n = 4096;
    let model = long_window_bundle(
        dir.path(),
        "long.awrsr",
        n,
        n,
        awrsr::model::Refinement::None,
    );
    let mut text = String::new();
    for u in 0..24 {
        for i in 0..n + 2 {
            text += &format!("u{u} {}\n", (u * 7 + i) % n);
        }
    }
    let log = dir.path().join("long.txt");
    std::fs::write(&log, text).unwrap();
    let mut command = Command::new("sh");
    command.args(["-c", "ulimit -v 3000000 && exec \"$@\"", "sh"]);
    command.arg(env!("CARGO_BIN_EXE_awrsr"));
    command.args(["eval", "--model", model.to_str().unwrap()]);
    command.args(["--data", log.to_str().unwrap(), "--format", "pairs"]);
    let report = ok(within(command, 300));
    assert!(report.contains("test "), "{report}");
}
