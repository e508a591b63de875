//! Warm retrains (`awrsr train --init previous.awrsr`): on a newer slice of Diginetica, the
//! previous model's items keep their rows, new items start from their neighbours, the
//! architecture is kept, and the warm run starts where the previous one left off.

mod common;

use std::path::Path;

use awrsr::bundle::decode;
use awrsr::data::{LoadOptions, load};
use awrsr::model::ModelConfig;
use awrsr::warm::{merged_catalogue, warm_model};
use burn::tensor::Device;
use common::{awrsr, ok};

/// Diginetica's training sessions `from..to` (file order is time order) as a file in `dir`.
fn sessions(dir: &Path, name: &str, from: usize, to: usize) -> String {
    let train = std::fs::read_to_string(common::shared("sessions/diginetica/train.txt")).unwrap();
    let path = dir.join(name);
    let lines: Vec<&str> = train.lines().skip(from).take(to - from).collect();
    std::fs::write(&path, lines.join("\n")).unwrap();
    path.to_str().unwrap().to_string()
}

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
