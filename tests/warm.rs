//! Warm retrains (`awrsr train --init previous.awrsr`): on a newer slice of Diginetica, the
//! previous model's items keep their rows, new items start from their neighbours, the
//! architecture is kept, the warm run starts where the previous one left off, and on a log
//! with times it replays a share of the sessions the previous model trained on. A fresh run
//! on a log with times finishes on its newest sessions (`--finish`).

mod common;

use std::path::Path;

use awrsr::bundle::{decode, verify};
use awrsr::data::{Case, LoadOptions, Split, load};
use awrsr::model::ModelConfig;
use awrsr::train::{LogKind, TrainConfig, Trainer};
use awrsr::warm::{merged_catalogue, warm_model};
use burn::tensor::Device;
use common::{awrsr, ok, read_json};

/// Diginetica's training sessions `from..to` (file order is time order) as a file in `dir`.
fn sessions(dir: &Path, name: &str, from: usize, to: usize) -> String {
    let train = std::fs::read_to_string(common::shared("sessions/diginetica/train.txt")).unwrap();
    let path = dir.join(name);
    let lines: Vec<&str> = train.lines().skip(from).take(to - from).collect();
    std::fs::write(&path, lines.join("\n")).unwrap();
    path.to_str().unwrap().to_string()
}

/// The first `count` of Diginetica's training sessions as a click export with times
/// (`session,item,time`): session `i` starts at [`START`] + 600 `i` seconds, its clicks 10 s
/// apart.
fn timed_sessions(dir: &Path, name: &str, count: usize) -> String {
    let train = std::fs::read_to_string(common::shared("sessions/diginetica/train.txt")).unwrap();
    let mut csv = String::from("session,item,time\n");
    for (i, line) in train.lines().take(count).enumerate() {
        for (j, item) in line.split_whitespace().skip(1).enumerate() {
            let time = START + 600 * i as u64 + 10 * j as u64;
            csv.push_str(&format!("s{i},{item},{time}\n"));
        }
    }
    let path = dir.join(name);
    std::fs::write(&path, csv).unwrap();
    path.to_str().unwrap().to_string()
}

/// When [`timed_sessions`]' first session starts.
const START: u64 = 1_450_000_000;

const SMALL: [&str; 9] = [
    "--d-model",
    "16",
    "--max-len",
    "20",
    "--quiet",
    "--split",
    "sessions",
    "--seed",
    "1",
];

/// How a refit's epoch line ends.
const REFIT_EPOCH: &str = "refit: nothing validates";

/// Trains on `data` (optionally from `init`) and returns the standard output.
fn train(data: &str, out: &str, epochs: &str, extra: &[&str]) -> String {
    let mut args = vec!["train", "--data", data, "--out", out, "--epochs", epochs];
    args.extend(SMALL);
    args.extend(extra);
    ok(awrsr(&args))
}

/// The figure after `label` (e.g. "loss ", "NDCG@10 ") on the run's line for an epoch (not
/// the refit's, which may come first: the refit trains beside the run).
fn figure(stdout: &str, epoch: usize, label: &str) -> f64 {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&format!("epoch {epoch:>3}  ")) && !l.ends_with(REFIT_EPOCH))
        .unwrap_or_else(|| panic!("no epoch {epoch}:\n{stdout}"));
    let after = line.split(label).nth(1).unwrap();
    after.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn a_warm_start_keeps_known_rows_and_starts_new_items_from_their_neighbours() {
    let dir = tempfile::tempdir().unwrap();
    let old = sessions(dir.path(), "old.txt", 0, 3_000);
    let new = sessions(dir.path(), "new.txt", 1_000, 4_000);
    let previous = dir.path().join("old.awrsr");
    train(&old, previous.to_str().unwrap(), "2", &[]);

    let device = Device::flex();
    let bytes = std::fs::read(&previous).unwrap();
    let before = decode(&bytes, &device).unwrap();
    let log = load(Path::new(&new), &LoadOptions::default()).unwrap();
    for drop_gone in [false, true] {
        let catalogue = merged_catalogue(&before.header.catalogue, &log.catalogue, drop_gone);
        let (interactions, dropped) = log.with_catalogue(&catalogue);
        assert_eq!(dropped, 0, "every click of the new log has an item");
        // The previous architecture for the new catalogue, with this run's dropout.
        let config = ModelConfig {
            num_items: catalogue.len(),
            dropout: 0.2,
            ..before.header.config.clone()
        };
        let bundle = decode(&bytes, &device).unwrap();
        let (model, start) = warm_model(bundle, &config, &catalogue, &interactions, &device);
        let table: Vec<f32> = model.items.weight.val().into_data().iter::<f32>().collect();
        let d = config.d_model;
        let row = |i: u32| &table[i as usize * d..(i as usize + 1) * d];
        let old_row = |i: u32| &before.item_table[i as usize * d..(i as usize + 1) * d];
        // Known items: their previous rows, bit for bit.
        let mut kept = 0;
        for (i, id) in catalogue.ids().iter().enumerate() {
            if let Some(j) = before.header.catalogue.index_of(id) {
                assert_eq!(row(i as u32 + 1), old_row(j), "item {id}");
                kept += 1;
            }
        }
        assert_eq!(start.kept, kept);
        let gone = before
            .header
            .catalogue
            .ids()
            .iter()
            .filter(|id| log.catalogue.index_of(id).is_none())
            .count();
        assert!(gone > 0 && start.dropped == if drop_gone { gone } else { 0 });
        assert_eq!(
            catalogue.len(),
            log.catalogue.len() + if drop_gone { 0 } else { gone }
        );
        assert!(start.from_neighbours > 100, "{start:?}");
        assert_eq!(
            start.kept + start.from_neighbours + start.fresh,
            catalogue.len()
        );
        // A new item with known neighbours starts at the mean of their rows.
        let neighbour_mean = |new_item: u32| {
            let mut sum = vec![0f32; d];
            let mut count = 0f32;
            for user in &interactions.users {
                let clicks = &user.items;
                for (p, _) in clicks.iter().enumerate().filter(|&(_, &i)| i == new_item) {
                    let window = p.saturating_sub(5)..(p + 6).min(clicks.len());
                    for &other in &clicks[window] {
                        if let Some(j) = before.header.catalogue.index_of(catalogue.id(other)) {
                            sum.iter_mut().zip(old_row(j)).for_each(|(s, x)| *s += x);
                            count += 1.0;
                        }
                    }
                }
            }
            (count > 0.0).then(|| sum.iter().map(|s| s / count).collect::<Vec<f32>>())
        };
        let (new_item, mean) = (1..=catalogue.len() as u32)
            .filter(|&i| before.header.catalogue.index_of(catalogue.id(i)).is_none())
            .find_map(|i| neighbour_mean(i).map(|mean| (i, mean)))
            .unwrap();
        for (got, want) in row(new_item).iter().zip(&mean) {
            assert!((got - want).abs() < 1e-5, "{got} against {want}");
        }
    }
}

#[test]
fn a_warm_retrain_starts_where_the_previous_model_left_off() {
    let dir = tempfile::tempdir().unwrap();
    let old = sessions(dir.path(), "old.txt", 0, 4_000);
    let new = sessions(dir.path(), "new.txt", 0, 5_000);
    let previous = dir.path().join("old.awrsr");
    train(&old, previous.to_str().unwrap(), "4", &[]);
    let out = dir.path().join("new.awrsr");
    let out = out.to_str().unwrap();
    let init = ["--init", previous.to_str().unwrap()];

    let warm = train(&new, out, "1", &[&init[..], &["--refit"]].concat());
    assert!(warm.contains("warm start from"), "{warm}");
    let scratch = train(&new, out, "1", &["--refit"]);
    // A warm run's default learning rate is a quarter of a fresh run's; --lr still sets it.
    assert!(warm.contains("\"learning_rate\":0.00075"), "{warm}");
    assert!(scratch.contains("\"learning_rate\":0.003"), "{scratch}");
    // The first epoch's training loss shows where a run starts (validation on a few thousand
    // sessions is too noisy to show it on its own): the warm run's is far below a fresh one's.
    let loss = |stdout: &str| figure(stdout, 1, "loss ");
    let ndcg = |stdout: &str| figure(stdout, 1, "NDCG@10 ");
    assert!(
        loss(&warm) < loss(&scratch) - 0.3 && ndcg(&warm) >= ndcg(&scratch),
        "epoch 1, warm against from scratch: loss {} / {}, validation NDCG@10 {} / {}",
        loss(&warm),
        loss(&scratch),
        ndcg(&warm),
        ndcg(&scratch)
    );
    // A warm run's refit starts from the same warm start.
    assert!(warm.contains("from the same warm start"), "{warm}");
    let refit_loss = |stdout: &str| {
        let line = stdout
            .lines()
            .find(|l| l.starts_with("epoch   1  ") && l.ends_with(REFIT_EPOCH))
            .unwrap_or_else(|| panic!("no refit epoch:\n{stdout}"));
        line.split("loss ")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .parse::<f64>()
            .unwrap()
    };
    assert!(
        refit_loss(&warm) < refit_loss(&scratch) - 0.3,
        "refit epoch 1 loss, warm {} against from scratch {}",
        refit_loss(&warm),
        refit_loss(&scratch)
    );
    // The bundle written knows the old and the new items.
    let bundle = decode(&std::fs::read(out).unwrap(), &Device::flex()).unwrap();
    let before = decode(&std::fs::read(&previous).unwrap(), &Device::flex()).unwrap();
    assert!(bundle.header.catalogue.len() > before.header.catalogue.len());
    assert!(
        before.header.catalogue.ids().iter().all(|id| bundle
            .header
            .catalogue
            .index_of(id)
            .is_some())
    );
}

#[test]
fn a_warm_retrain_keeps_the_architecture_and_says_so_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let old = sessions(dir.path(), "old.txt", 0, 600);
    let previous = dir.path().join("old.awrsr");
    train(&old, previous.to_str().unwrap(), "1", &[]);
    let previous = previous.to_str().unwrap();
    let out = dir.path().join("new.awrsr");
    // A refused run: exit code 2, and its message.
    let refused = |extra: &[&str]| {
        let mut args = vec!["train", "--data", &old, "--out", out.to_str().unwrap()];
        args.extend(extra);
        let output = awrsr(&args);
        assert_eq!(output.status.code(), Some(2), "{extra:?}");
        String::from_utf8_lossy(&output.stderr).to_string()
    };
    let stderr = refused(&["--init", previous, "--d-model", "32"]);
    assert!(
        stderr.contains("--d-model 32 differs from the --init model's 16"),
        "{stderr}"
    );
    assert!(!out.exists());
    // The same value as the bundle's is fine, and so is a training setting.
    let stdout = train(
        &old,
        out.to_str().unwrap(),
        "1",
        &["--init", previous, "--dropout", "0.1", "--lr", "0.002"],
    );
    assert!(
        stdout.contains("\"d_model\":16")
            && stdout.contains("\"dropout\":0.1")
            && stdout.contains("\"learning_rate\":0.002"),
        "{stdout}"
    );
    // A damaged bundle is refused with its name.
    std::fs::write(dir.path().join("bad.awrsr"), b"not a bundle").unwrap();
    let bad = dir.path().join("bad.awrsr");
    assert!(refused(&["--init", bad.to_str().unwrap()]).contains("bad.awrsr"));
    // --drop-gone needs --init.
    refused(&["--drop-gone"]);
}

#[test]
fn a_warm_retrain_on_a_log_with_times_replays_a_share_of_the_sessions_the_model_trained_on() {
    let dir = tempfile::tempdir().unwrap();
    let old = timed_sessions(dir.path(), "old.csv", 1_500);
    let new = timed_sessions(dir.path(), "new.csv", 2_000);
    let previous = dir.path().join("old.awrsr");
    let previous = previous.to_str().unwrap();
    train(&old, previous, "1", &[]);
    // The last tenth of the log tests (it has no test file); the refit (on by default with
    // times) trained every other session: the newest is the 1,350th.
    let bundle = verify(&std::fs::read(previous).unwrap()).unwrap();
    let newest = (START + 600 * 1_349) as f64;
    assert_eq!(bundle.config.trained_until, Some(newest));

    let out = dir.path().join("new.awrsr");
    let out = out.to_str().unwrap();
    let init = ["--init", previous, "--refit=false"];
    let checkpoint = dir.path().join("warm.ckpt");
    let checkpoint = ["--checkpoint", checkpoint.to_str().unwrap()];
    let warm = train(&new, out, "1", &[&init[..], &checkpoint].concat());
    // Of the 2,000 sessions the last 200 test and the 180 before them validate; of the
    // 1,620 that train, the first 1,350 are the previous model's, and the 1,349 that start
    // before its newest count as old.
    assert!(
        warm.contains("replay: 1349 of the 1620 training sessions")
            && warm.contains("the 271 others and about 135 of these (a share of 0.1)")
            && warm.contains("\"old_sessions\":1349,\"replay\":0.1"),
        "{warm}"
    );
    // Without the refit, the newest session trained is the newest that did not validate.
    let written = verify(&std::fs::read(out).unwrap()).unwrap();
    assert_eq!(
        written.config.trained_until,
        Some((START + 600 * 1_619) as f64)
    );
    let half = train(&new, out, "1", &[&init[..], &["--replay", "0.5"]].concat());
    assert!(
        half.contains("about 675 of these (a share of 0.5)"),
        "{half}"
    );

    let refused = |extra: &[&str]| {
        let mut args = vec!["train", "--data", &new, "--out", out, "--epochs", "1"];
        args.extend(SMALL);
        args.extend(extra);
        let output = awrsr(&args);
        assert_eq!(output.status.code(), Some(2), "{extra:?}");
        String::from_utf8_lossy(&output.stderr).to_string()
    };
    // The checkpoint resumes only a run of the same replay.
    let stderr = refused(&[&init[..], &checkpoint, &["--replay", "0.5"]].concat());
    assert!(
        stderr.contains("\"old_sessions\":1349,\"replay\":0.1"),
        "{stderr}"
    );

    // --replay needs a recorded time: a bundle trained without times has none.
    let untimed = sessions(dir.path(), "untimed.txt", 0, 600);
    let no_record = dir.path().join("untimed.awrsr");
    train(&untimed, no_record.to_str().unwrap(), "1", &[]);
    let no_record = no_record.to_str().unwrap();
    let stderr = refused(&["--init", no_record, "--replay", "0.5"]);
    assert!(
        stderr.contains("--replay needs a log with times"),
        "{stderr}"
    );
    let stderr = refused(&["--init", previous, "--replay", "0"]);
    assert!(
        stderr.contains("replay 0 is not a share in (0, 1]"),
        "{stderr}"
    );
    // Without --replay, such a bundle warm-starts as before, every session each epoch.
    let all = train(&new, out, "1", &["--init", no_record, "--refit=false"]);
    assert!(!all.contains("replay: ") && all.contains("\"old_sessions\":0,\"replay\":1.0"));
}

#[test]
fn a_trainer_replaying_a_share_of_its_old_sequences_trains_that_many_each_epoch() {
    let train_sessions: Vec<Vec<u32>> = (0..100).map(|i| vec![1 + i % 9, 2, 3 + i % 5]).collect();
    let split = Split {
        train: train_sessions.clone(),
        valid: vec![Case {
            input: vec![1, 2],
            target: 3,
        }],
        test: Vec::new(),
    };
    let mut config = ModelConfig::new(20);
    config.d_model = 8;
    let device = Device::flex();
    let batches = |old_sessions: usize, replay: f64| {
        let training = TrainConfig {
            batch_size: 10,
            old_sessions,
            replay,
            progress: false,
            ..TrainConfig::for_log(LogKind::Sessions, 20)
        };
        let mut run = Trainer::new(&config, &training, &split, &device, None, false).unwrap();
        run.step().unwrap();
        let refit = Trainer::refit(
            &config,
            &training,
            train_sessions.clone(),
            &[1.0],
            None,
            &device,
        );
        let refit = refit.unwrap();
        (run.sequences(), run.batches_per_epoch(), refit.sequences())
    };
    assert_eq!(
        batches(80, 0.25),
        (40, 4, 40),
        "20 of 80 old, and the 20 new"
    );
    assert_eq!(batches(80, 1.0), (100, 10, 100));
    assert_eq!(
        batches(0, 0.25),
        (100, 10, 100),
        "nothing old, nothing left out"
    );
}

/// A fresh run on a log with times finishes its early-stopped model on the newest sessions:
/// by default; the metrics say how many epochs it kept, the model kept is never worse on validation
/// than the early-stopped one, and the refit trains as many; `--finish 0` skips it, a warm
/// retrain and a log without times have none by default, and `--finish` without times is
/// refused.
#[test]
fn a_fresh_run_on_a_log_with_times_finishes_on_its_newest_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let log = timed_sessions(dir.path(), "log.csv", 2_000);
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (out, metrics) = (path("m.awrsr"), path("m.json"));
    let no_bonus = ["--metrics-json", &metrics, "--repeat-bonus=false"];
    let stdout = train(
        &log,
        &out,
        "2",
        &[&no_bonus[..], &["--finish", "2"]].concat(),
    );
    let json = read_json(Path::new(&metrics));
    let finish = &json["finish"];
    let kept = finish["epochs"].as_u64().unwrap() as usize;
    let tried = finish["tried"].as_u64().unwrap() as usize;
    assert!((1..=2).contains(&tried) && kept <= tried, "{finish}");
    assert!(
        stdout.contains(&format!(
            "finish: {kept} of {tried} epochs on the newest sessions kept"
        )),
        "{stdout}"
    );
    let before = finish["valid_before"]["NDCG@10"].as_f64().unwrap();
    let after = json["valid"]["NDCG@10"].as_f64().unwrap();
    assert!(after >= before - 1e-4, "finished {after}, before {before}");
    if kept == 0 {
        assert!((after - before).abs() < 1e-4, "unchanged {after}, {before}");
    }
    let refit_epochs = stdout.matches("finish: refit epoch").count();
    assert_eq!(refit_epochs, kept, "{stdout}");

    // By default a fresh run on a log with times tries up to 2 epochs.
    train(&log, &out, "1", &no_bonus);
    let tried = read_json(Path::new(&metrics))["finish"]["tried"].as_u64();
    assert!(matches!(tried, Some(1..=2)), "{tried:?}");

    let none = train(
        &log,
        &out,
        "1",
        &["--metrics-json", &metrics, "--finish", "0"],
    );
    assert!(!none.contains("finish:"), "{none}");
    assert!(read_json(Path::new(&metrics)).get("finish").is_none());

    // A warm retrain already trains on the newest sessions: no finish by default.
    let warm = train(&log, &path("warm.awrsr"), "1", &["--init", &out]);
    assert!(!warm.contains("finish:"), "{warm}");

    // Without times nothing says which sessions are the newest.
    let untimed = sessions(dir.path(), "untimed.txt", 0, 600);
    let plain = train(&untimed, &out, "1", &[]);
    assert!(!plain.contains("finish:"), "{plain}");
    let mut args = vec!["train", "--data", &untimed, "--out", &out, "--epochs", "1"];
    args.extend(SMALL);
    args.extend(["--finish", "1"]);
    let refused = awrsr(&args);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("--finish needs a session log with times"),
        "{stderr}"
    );
}
