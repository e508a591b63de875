//! Bounded fuzzing of training checkpoints: a real checkpoint made here by the CLI, then
//! (1) random byte flips, overwrites and truncations of the file, which
//! [`Checkpoint::from_bytes`] must refuse without panicking (the checksum sees them), and
//! (2) damaged sections sealed again with a valid checksum (what a buggy writer or a
//! deliberate edit would give), which `awrsr train --checkpoint` must refuse with exit
//! code 2 or accept, never panic. `AWRSR_FUZZ_CASES` sets the cases of (1).

use std::path::Path;
use std::process::Command;

use awrsr::train::checkpoint::Checkpoint;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn cases(default: u32) -> u32 {
    std::env::var("AWRSR_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A synthetic ratings.csv and the arguments of a one-epoch training on it.
fn training(dir: &Path) -> Vec<String> {
    let mut text = String::from("userId,movieId,rating,timestamp\n");
    for u in 0..20 {
        for i in 0..6 {
            text += &format!("{u},{},4,{i}\n", (u + i * (u % 3 + 1)) % 12);
        }
    }
    std::fs::write(dir.join("ratings.csv"), text).unwrap();
    let args = [
        "train",
        "--quiet",
        "--epochs",
        "1",
        "--d-model",
        "8",
        "--max-len",
        "5",
        "--layers",
        "1",
    ];
    let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    for (flag, file) in [
        ("--data", "ratings.csv"),
        ("--out", "m.awrsr"),
        ("--checkpoint", "run.ckpt"),
    ] {
        args.extend([
            flag.to_string(),
            dir.join(file).to_string_lossy().into_owned(),
        ]);
    }
    args
}

fn run(args: &[String]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_awrsr"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn damaged_checkpoints_are_refused_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let args = training(dir.path());
    let output = run(&args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let path = dir.path().join("run.ckpt");
    let bytes = std::fs::read(&path).unwrap();
    assert!(Checkpoint::from_bytes(&bytes).is_ok());

    let mut runner = TestRunner::new(Config {
        cases: cases(2000),
        failure_persistence: None,
        ..Config::default()
    });
    let mutation = (0..bytes.len(), any::<u8>(), 0..bytes.len());
    runner
        .run(&mutation, |(at, value, cut)| {
            let mut changed = bytes.clone();
            if changed[at] == value {
                changed.truncate(cut);
            } else {
                changed[at] = value;
            }
            prop_assert!(
                Checkpoint::from_bytes(&changed).is_err(),
                "a changed checkpoint was accepted"
            );
            Ok(())
        })
        .unwrap();

    // Sections damaged behind a valid checksum: each burnpack section cut, flipped or
    // replaced, and states with impossible epochs.
    let original = Checkpoint::from_bytes(&bytes).unwrap();
    let mut resealed: Vec<(String, Checkpoint)> = Vec::new();
    for section in 0..3 {
        for damage in 0..4 {
            let mut c = Checkpoint::from_bytes(&bytes).unwrap();
            let target = match section {
                0 => &mut c.model,
                1 => &mut c.optimizer,
                _ => &mut c.best,
            };
            match damage {
                0 => target.truncate(target.len() / 2),
                1 => target
                    .iter_mut()
                    .skip(8)
                    .step_by(97)
                    .for_each(|b| *b ^= 0x5a),
                2 => *target = b"garbage".to_vec(),
                _ => target.clear(),
            }
            resealed.push((format!("section {section}, damage {damage}"), c));
        }
    }
    for (best, epoch) in [(0, 1), (2, 1), (usize::MAX, 1)] {
        let mut c = Checkpoint::from_bytes(&bytes).unwrap();
        c.state.best_epoch = best;
        c.state.epoch = epoch;
        resealed.push((format!("best epoch {best} of {epoch}"), c));
    }
    let mut swapped = Checkpoint::from_bytes(&bytes).unwrap();
    std::mem::swap(&mut swapped.model, &mut swapped.optimizer);
    resealed.push(("model and optimizer swapped".into(), swapped));
    for (what, checkpoint) in resealed {
        std::fs::write(&path, checkpoint.to_bytes().unwrap()).unwrap();
        let output = run(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
        assert!(
            matches!(output.status.code(), Some(0) | Some(2)),
            "{what}: exit {:?}: {stderr}",
            output.status.code()
        );
    }
    assert_eq!(original.state.epoch, 1);
}

#[test]
fn a_checkpoint_from_before_batching_was_a_setting_resumes_as_shuffled() {
    let dir = tempfile::tempdir().unwrap();
    let args = training(dir.path());
    assert!(run(&args).status.success());
    let path = dir.path().join("run.ckpt");
    let mut checkpoint = Checkpoint::from_bytes(&std::fs::read(&path).unwrap()).unwrap();
    // The state as written before `--batching` existed: its settings have no such field.
    let mut state = serde_json::to_value(&checkpoint.state).unwrap();
    assert_eq!(state["settings"]["batching"], "shuffled");
    state["settings"]
        .as_object_mut()
        .unwrap()
        .remove("batching");
    checkpoint.state = serde_json::from_value(state).unwrap();
    std::fs::write(&path, checkpoint.to_bytes().unwrap()).unwrap();

    let more = |extra: &[&str]| {
        let mut args = args.clone();
        let epochs = args.iter().position(|a| a == "--epochs").unwrap() + 1;
        args[epochs] = "2".into();
        args.extend(extra.iter().map(|s| s.to_string()));
        run(&args)
    };
    let refused = more(&["--batching", "by-length"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("\"batching\":\"by-length\""));
    let resumed = more(&[]);
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert!(String::from_utf8_lossy(&resumed.stdout).contains("after epoch 1"));
}

/// A checkpoint whose checksum was computed again over another run's parts, or over a state
/// no run can reach, is checked against the run it resumes: epoch bounds, the learning-rate
/// factor, the validation it was selected on, and the optimizer state's identity and shapes.
#[test]
fn a_resealed_checkpoint_is_checked_against_the_run_it_resumes() {
    use burn::store::burn_pack::{Reader, Writer};
    use burn::tensor::Bytes;

    let (dir, other) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let args = training(dir.path());
    assert!(run(&args).status.success());
    assert!(run(&training(other.path())).status.success());
    let path = dir.path().join("run.ckpt");
    let read = |path: &Path| Checkpoint::from_bytes(&std::fs::read(path).unwrap()).unwrap();
    let another_run = read(&other.path().join("run.ckpt"));

    // The optimizer's moments with one rank-2 tensor's shape reversed (same bytes).
    let mut transposed = read(&path);
    let reader = Reader::from_bytes(Bytes::from_bytes_vec(transposed.optimizer.clone())).unwrap();
    let scalars = reader.scalars().clone();
    let metadata = reader.metadata().clone();
    let mut tensors = reader.into_tensors().unwrap();
    let moment = tensors
        .iter_mut()
        .find(|t| t.shape.len() == 2 && t.shape[0] != t.shape[1])
        .unwrap();
    moment.shape = moment.shape.iter().rev().copied().collect();
    let mut writer = Writer::new(tensors);
    for (key, value) in &scalars {
        writer = writer.with_scalar(key, *value);
    }
    for (key, value) in &metadata {
        writer = writer.with_metadata(key, value);
    }
    transposed.optimizer = writer.into_bytes().unwrap().to_vec();

    let mut cases: Vec<(&str, Checkpoint)> = Vec::new();
    let mut far = read(&path);
    (far.state.epoch, far.state.best_epoch) = (100_001, 100_001);
    cases.push(("best epoch 100001 of 100001 (at most 100000)", far));
    let mut lr = read(&path);
    lr.state.lr_scale = 4.0;
    cases.push(("learning-rate factor 4 is not in [0, 1]", lr));
    let mut validated = read(&path);
    let mut state = serde_json::to_value(&validated.state).unwrap();
    state["best_valid"]["count"] = 7.into();
    validated.state = serde_json::from_value(state).unwrap();
    cases.push(("validated on 7 cases", validated));
    let mut foreign = read(&path);
    foreign.optimizer = another_run.optimizer.clone();
    cases.push(("belongs to no parameter of the model", foreign));
    cases.push(("for a parameter of shape", transposed));

    let mut two_epochs = args.clone();
    let epochs = two_epochs.iter().position(|a| a == "--epochs").unwrap() + 1;
    two_epochs[epochs] = "2".into();
    for (expected, checkpoint) in cases {
        std::fs::write(&path, checkpoint.to_bytes().unwrap()).unwrap();
        let output = run(&two_epochs);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{expected}: {stderr}");
        assert!(
            stderr.contains(&format!("checkpoint {}", path.display())) && stderr.contains(expected),
            "{expected}: {stderr}"
        );
    }
}
