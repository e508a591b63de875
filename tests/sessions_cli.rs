//! Shop sessions through the command line: training and evaluating under the session-based
//! protocol on a slice of Diginetica with its test cases, with the simple baselines beside the
//! model, and a shop's click export read by column names.

mod common;

use std::path::Path;
use std::process::Output;

use common::{awrsr, ok, read_json};
use serde_json::Value;

/// The first `sessions` training sessions of Diginetica and every test case, as files in `dir`.
fn diginetica_slice(dir: &Path, sessions: usize) -> (String, String) {
    let train = std::fs::read_to_string(common::shared("sessions/diginetica/train.txt")).unwrap();
    let train_path = dir.join("train.txt");
    std::fs::write(
        &train_path,
        train.lines().take(sessions).collect::<Vec<_>>().join("\n"),
    )
    .unwrap();
    let test = common::shared("sessions/diginetica/test.txt");
    (
        train_path.to_str().unwrap().to_string(),
        test.to_str().unwrap().to_string(),
    )
}

fn metric(report: &Value, path: &[&str]) -> f64 {
    path.iter()
        .fold(report, |v, key| &v[key])
        .as_f64()
        .unwrap_or_else(|| panic!("{path:?} missing in {report}"))
}

/// `awrsr eval` of `model` on the session files `train` and `test`: its metrics JSON (written
/// beside the model), whose test figures and ranks must be those of the training run's
/// report `trained`.
fn eval_gives_the_training_figures(model: &str, train: &str, test: &str, trained: &Value) -> Value {
    let json = format!("{model}.eval.json");
    ok(awrsr(&[
        "eval",
        "--model",
        model,
        "--data",
        train,
        "--test",
        test,
        "--metrics-json",
        &json,
    ]));
    let evaluated = read_json(Path::new(&json));
    assert_eq!(evaluated["test"], trained["test"], "{model}");
    assert_eq!(evaluated["test_ranks"], trained["test_ranks"], "{model}");
    evaluated
}

#[test]
fn a_test_file_means_the_session_protocol_with_baselines_beside_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = diginetica_slice(dir.path(), 6_000);
    let model = dir.path().join("m.awrsr");
    let train_json = dir.path().join("train.json");
    let stdout = ok(awrsr(&[
        "train",
        "--data",
        &train,
        "--test",
        &test,
        "--out",
        model.to_str().unwrap(),
        "--metrics-json",
        train_json.to_str().unwrap(),
        "--d-model",
        "16",
        "--epochs",
        "2",
        "--batch-size",
        "256",
        "--quiet",
    ]));
    assert!(
        stdout.contains("every prefix of a random 10%"),
        "the sessions validate: {stdout}"
    );
    assert!(
        !stdout.contains("refit"),
        "without times, no refit by default: {stdout}"
    );
    assert!(
        stdout.contains("\"loss\":\"ce\""),
        "a catalogue this small trains with the full softmax: {stdout}"
    );
    let trained = read_json(&train_json);
    assert_eq!(trained["protocol"], "sessions");
    for name in ["popularity", "sequential rules", "session kNN"] {
        for key in ["HR@10", "HR@20", "MRR@10", "MRR@20", "NDCG@10", "NDCG@20"] {
            let value = metric(&trained, &["baselines", name, key]);
            assert!((0.0..=1.0).contains(&value), "{name} {key} = {value}");
        }
    }
    // Cases whose target the slice never saw are left out; the rest are ranked, one rank each.
    let kept = stdout.lines().find(|l| l.starts_with("test: ")).unwrap();
    let cases: usize = kept
        .split(" — ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(cases > 500 && cases < 60_858, "{kept}");
    assert_eq!(trained["test_ranks"].as_array().unwrap().len(), cases);
    let model_hr = metric(&trained, &["test", "HR@20"]);
    let popular_hr = metric(&trained, &["baselines", "popularity", "HR@20"]);
    let rules_hr = metric(&trained, &["baselines", "sequential rules", "HR@20"]);
    assert!(
        model_hr > 3.0 * popular_hr,
        "model HR@20 {model_hr} against popularity {popular_hr}"
    );
    assert!(
        rules_hr > 3.0 * popular_hr,
        "sequential rules HR@20 {rules_hr} against popularity {popular_hr}"
    );
    assert!(metric(&trained, &["test", "MRR@20"]) <= model_hr);

    // `eval` of the written bundle on the same files gives the same test figures.
    let evaluated =
        eval_gives_the_training_figures(model.to_str().unwrap(), &train, &test, &trained);
    assert_eq!(evaluated["baselines"], trained["baselines"]);
}

/// A click export: visitors who browse chains of related products (item k, then k + 1, …),
/// one row per event, ISO 8601 times, views and purchases.
fn click_export(dir: &Path) -> std::path::PathBuf {
    let mut rows = vec!["visitor,when,product,action".to_string()];
    for visitor in 0..400 {
        for visit in 0..2 {
            let start = 3 * (visitor % 30) + visit;
            for step in 0..5 {
                let minute = 120 * visit + 2 * step;
                let when = format!(
                    "2026-11-{:02}T{:02}:{:02}:00Z",
                    1 + visitor % 28,
                    8 + minute / 60,
                    minute % 60
                );
                rows.push(format!("v{visitor},{when},sku-{},view", start + step));
                if step == 4 {
                    rows.push(format!("v{visitor},{when},sku-{},purchase", start + step));
                }
            }
        }
    }
    let path = dir.join("export.csv");
    std::fs::write(&path, rows.join("\n")).unwrap();
    path
}

#[test]
fn a_click_export_is_read_by_column_names_and_cut_into_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let export = click_export(dir.path());
    let model = dir.path().join("m.awrsr");
    let json = dir.path().join("m.json");
    let stdout = ok(awrsr(&[
        "train",
        "--data",
        export.to_str().unwrap(),
        "--visitor-column",
        "visitor",
        "--item-column",
        "product",
        "--time-column",
        "when",
        "--event-column",
        "action",
        "--events",
        "view",
        "--out",
        model.to_str().unwrap(),
        "--metrics-json",
        json.to_str().unwrap(),
        "--d-model",
        "16",
        "--epochs",
        "15",
        "--dropout",
        "0.1",
        "--quiet",
    ]));
    assert!(
        stdout.contains("ISO 8601"),
        "the time format is stated: {stdout}"
    );
    // 400 visitors, each two visits two hours apart: 800 sessions of 5 views.
    assert!(stdout.contains("800 sessions"), "{stdout}");
    assert!(
        stdout.contains("every prefix of the latest 10%"),
        "timed sessions validate on the latest: {stdout}"
    );
    assert!(
        stdout.contains("refit: ") && stdout.contains("test before refit"),
        "timed sessions refit by default: {stdout}"
    );
    let report = read_json(&json);
    assert_eq!(report["protocol"], "sessions");
    let model_hr = metric(&report, &["test", "HR@10"]);
    assert!(model_hr > 0.9, "chains are easy to learn: HR@10 {model_hr}");

    let wrong = awrsr(&[
        "train",
        "--data",
        export.to_str().unwrap(),
        "--visitor-column",
        "visitor",
        "--item-column",
        "article",
        "--out",
        model.to_str().unwrap(),
    ]);
    assert_eq!(wrong.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        stderr.contains("export.csv") && stderr.contains("article") && stderr.contains("product"),
        "{stderr}"
    );
}

/// The number after `prefix` in the first line of `stdout` that has it.
fn number_after(stdout: &str, prefix: &str) -> usize {
    let at = stdout
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix:?} in {stdout}"));
    let digits: String = stdout[at + prefix.len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap()
}

#[test]
fn a_refit_trains_every_session_for_the_best_runs_epochs_and_is_the_model_stored() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = diginetica_slice(dir.path(), 3_000);
    let usable = std::fs::read_to_string(&train)
        .unwrap()
        .lines()
        .filter(|l| l.split_whitespace().count() >= 3)
        .count();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let run = |out: &str, json: &str| {
        ok(awrsr(&[
            "train",
            "--data",
            &train,
            "--test",
            &test,
            "--out",
            &path(out),
            "--metrics-json",
            &path(json),
            "--checkpoint",
            &path("run.ckpt"),
            "--d-model",
            "16",
            "--epochs",
            "2",
            "--refit",
            "--quiet",
        ]))
    };
    let stdout = run("m.awrsr", "train.json");
    let best = number_after(&stdout, "best epoch ");
    assert!(
        stdout.contains(&format!(
            "refit: {best} epochs on all {usable} training sessions, the validating ones included"
        )),
        "{stdout}"
    );
    // Beside the run (on two cores or more) the refit may train past the best epoch, whose
    // model it then drops.
    assert!(stdout.matches("refit: nothing validates").count() >= best);
    let trained = read_json(Path::new(&path("train.json")));
    assert_eq!(trained["refit"]["epochs"], best);
    assert_eq!(trained["refit"]["sequences"], usable);
    assert_ne!(trained["refit"]["test_before"], trained["test"]);
    let valid_hr10 = number_after(&stdout, "valid                HR@10 0.");
    assert_eq!(
        valid_hr10,
        (metric(&trained, &["valid", "HR@10"]) * 1e4).round() as usize,
        "the validation figures are the early-stopped model's"
    );

    // The bundle holds the refit model: `eval` gives its test figures.
    eval_gives_the_training_figures(&path("m.awrsr"), &train, &test, &trained);

    // Resumed from its finished checkpoint, the run refits again to the same model.
    let again = run("m2.awrsr", "train2.json");
    assert!(again.contains("resumed from"), "{again}");
    let resumed = read_json(Path::new(&path("train2.json")));
    assert_eq!(resumed["refit"], trained["refit"]);
    assert!(
        resumed["test_ranks"] == trained["test_ranks"],
        "other ranks after a resume"
    );
}

/// The refit trained beside early stopping (the default with two cores) and the refit after
/// it (`--refit-beside=false`) store the same model: the same test ranks, case by case.
#[test]
fn the_refit_beside_the_run_and_after_it_store_the_same_model() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = diginetica_slice(dir.path(), 2_000);
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let run = |name: &str, extra: &[&str]| {
        let (out, json) = (
            path(&format!("{name}.awrsr")),
            path(&format!("{name}.json")),
        );
        let mut args = vec![
            "train",
            "--data",
            &train,
            "--test",
            &test,
            "--out",
            &out,
            "--metrics-json",
            &json,
            "--d-model",
            "16",
            "--epochs",
            "3",
            "--refit",
            "--quiet",
        ];
        args.extend_from_slice(extra);
        let stdout = ok(awrsr(&args));
        (stdout, read_json(Path::new(&json)))
    };
    let (beside_out, beside) = run("beside", &[]);
    let (after_out, after) = run("after", &["--refit-beside=false"]);
    assert!(beside_out.contains("refit: beside the run"), "{beside_out}");
    assert!(!after_out.contains("refit: beside the run"), "{after_out}");
    let best = number_after(&after_out, "best epoch ");
    assert_eq!(after_out.matches("refit: nothing validates").count(), best);
    assert_eq!(beside["refit"], after["refit"]);
    assert_eq!(beside["test"], after["test"]);
    assert!(
        beside["test_ranks"] == after["test_ranks"],
        "the two refits rank the test cases differently"
    );
}

#[test]
fn a_refit_needs_sessions() {
    let data = common::shipped_movielens();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never-written.awrsr");
    let output = awrsr(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--epochs",
        "1",
        "--refit",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--refit needs the session protocol"),
        "{stderr}"
    );
}

/// `awrsr train` on `train` and `test` with a model 16 wide, no decay on a plateau
/// (`--lr-decay 1`), the model written to `dir/m.awrsr` and checkpoints to `dir/run.ckpt`,
/// and the `extra` arguments.
fn checkpointed_train(dir: &Path, train: &str, test: &str, extra: &[&str]) -> Output {
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let (out, checkpoint) = (path("m.awrsr"), path("run.ckpt"));
    let mut args = vec![
        "train",
        "--data",
        train,
        "--test",
        test,
        "--out",
        &out,
        "--checkpoint",
        &checkpoint,
        "--d-model",
        "16",
        "--lr-decay",
        "1",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    awrsr(&args)
}

/// A checkpoint written before the learning rates were recorded per epoch resumes, but its
/// refit cannot replay them: a clear error, not rates of the wrong epochs.
#[test]
fn a_refit_after_resuming_a_checkpoint_without_its_learning_rates_is_refused() {
    use awrsr::train::checkpoint::Checkpoint;

    let dir = tempfile::tempdir().unwrap();
    let (train, test) = diginetica_slice(dir.path(), 2_000);
    let run = |epochs: &str, refit: &str| {
        checkpointed_train(dir.path(), &train, &test, &["--epochs", epochs, refit])
    };
    ok(run("1", "--refit=false"));
    let checkpoint_path = dir.path().join("run.ckpt");
    let mut checkpoint = Checkpoint::from_bytes(&std::fs::read(&checkpoint_path).unwrap()).unwrap();
    let mut state = serde_json::to_value(&checkpoint.state).unwrap();
    assert_eq!(state["lr_scales"], serde_json::json!([1.0]));
    state.as_object_mut().unwrap().remove("lr_scales");
    checkpoint.state = serde_json::from_value(state).unwrap();
    std::fs::write(&checkpoint_path, checkpoint.to_bytes().unwrap()).unwrap();

    let resumed = run("3", "--refit");
    let stdout = String::from_utf8_lossy(&resumed.stdout);
    assert!(stdout.contains("resumed from"), "{stdout}");
    assert_eq!(resumed.status.code(), Some(2), "{stdout}");
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(
        stderr.contains("predates the record of its learning rates"),
        "{stderr}"
    );
}

/// `--lr-epoch-decay` multiplies the learning rate after every epoch, on top of the decay
/// after an epoch without a better validation figure, and the checkpoint records the rate
/// each epoch trained at (what a refit replays); a factor outside (0, 1] is refused.
#[test]
fn the_per_epoch_decay_lowers_every_epochs_learning_rate() {
    use awrsr::train::checkpoint::Checkpoint;

    let dir = tempfile::tempdir().unwrap();
    let (train, test) = diginetica_slice(dir.path(), 2_000);
    let run = |factor: &str| {
        let extra = ["--epochs", "3", "--lr-epoch-decay", factor, "--refit=false"];
        checkpointed_train(dir.path(), &train, &test, &extra)
    };
    ok(run("0.5"));
    let checkpoint = dir.path().join("run.ckpt");
    let checkpoint = Checkpoint::from_bytes(&std::fs::read(checkpoint).unwrap()).unwrap();
    let state = serde_json::to_value(&checkpoint.state).unwrap();
    assert_eq!(state["lr_scales"], serde_json::json!([1.0, 0.5, 0.25]));

    refused_with(
        run("1.5"),
        "per-epoch learning-rate decay 1.5 is not a number in (0, 1]",
    );
}

/// `--negative-power` trains, and the checkpoint's settings record it (what a resumed run
/// draws by); a power outside [0, 1] is refused.
#[test]
fn the_negatives_draw_is_recorded_and_checked() {
    use awrsr::train::checkpoint::Checkpoint;

    let dir = tempfile::tempdir().unwrap();
    let (train, test) = diginetica_slice(dir.path(), 2_000);
    let run = |power: &str| {
        let extra = [
            "--epochs",
            "1",
            "--loss",
            "sampled",
            "--negatives",
            "64",
            "--negative-power",
            power,
            "--refit=false",
        ];
        checkpointed_train(dir.path(), &train, &test, &extra)
    };
    ok(run("0.5"));
    let checkpoint = dir.path().join("run.ckpt");
    let checkpoint = Checkpoint::from_bytes(&std::fs::read(checkpoint).unwrap()).unwrap();
    assert_eq!(checkpoint.state.settings.negative_power, 0.5);

    refused_with(run("1.5"), "negative power 1.5 is not a number in [0, 1]");
}

/// Asserts that a command was refused (exit 2) with `message` on its standard error.
fn refused_with(output: Output, message: &str) {
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(message), "{stderr}");
}

/// Item id → score of `awrsr recommend --json` for `session`, every item ranked.
fn all_scores(model: &str, session: &str) -> std::collections::HashMap<String, f64> {
    let json: Value = serde_json::from_str(&ok(awrsr(&[
        "recommend",
        "--model",
        model,
        "--session",
        session,
        "--include-seen",
        "--json",
        "-k",
        "1000000",
    ])))
    .unwrap();
    json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item["id"].as_str().unwrap().to_string(),
                item["score"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_repeat_bonus_is_chosen_on_validation_stored_and_scored_by_eval_and_recommend() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = diginetica_slice(dir.path(), 6_000);
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let run = |out: &str, json: &str, extra: &[&str]| {
        let mut args = vec![
            "train",
            "--data",
            &train,
            "--test",
            &test,
            "--d-model",
            "16",
            "--epochs",
            "2",
            "--quiet",
        ];
        let (out, json) = (path(out), path(json));
        args.extend(["--out", &out, "--metrics-json", &json]);
        args.extend(extra);
        (ok(awrsr(&args)), read_json(Path::new(&json)))
    };
    let (stdout, on) = run("on.awrsr", "on.json", &[]);
    let (bonus, decay) = (
        metric(&on, &["repeat", "bonus"]),
        metric(&on, &["repeat", "decay"]),
    );
    // A fifth of Diginetica's next clicks go back to a session item: a bonus is chosen.
    assert!(
        bonus > 0.0 && decay > 0.0 && decay <= 1.0,
        "{}",
        on["repeat"]
    );
    assert!(stdout.contains("repeat bonus: "), "{stdout}");
    let with = metric(&on, &["valid", "NDCG@10"]);
    let without = metric(&on, &["repeat", "valid_without", "NDCG@10"]);
    assert!(
        with > without,
        "valid NDCG@10 {with} with the bonus, {without} without"
    );

    // Without it: the same network (same seed), whose validation figures are the ones the
    // fit reported as "without"; no bonus in the report.
    let (_, off) = run("off.awrsr", "off.json", &["--repeat-bonus=false"]);
    assert!(off.get("repeat").is_none(), "{}", off["repeat"]);
    assert_eq!(off["valid"], on["repeat"]["valid_without"]);
    assert_ne!(off["test"], on["test"]);

    // `eval` of the bundle scores with the stored bonus: the training run's test figures.
    eval_gives_the_training_figures(&path("on.awrsr"), &train, &test, &on);

    // `recommend` adds it to the session's items only, the newest click's the most: with
    // the same weights, other items' scores are unchanged and the session items' rise by
    // bonus · ‖h‖ · decay^(k − 1).
    let session = ["14", "15", "16"].join(",");
    let (scored_on, scored_off) = (
        all_scores(&path("on.awrsr"), &session),
        all_scores(&path("off.awrsr"), &session),
    );
    assert_eq!(scored_on.len(), scored_off.len());
    let rise = |id: &str| scored_on[id] - scored_off[id];
    for (id, score) in &scored_off {
        if !["14", "15", "16"].contains(&id.as_str()) {
            assert!(
                (scored_on[id] - score).abs() < 1e-4,
                "{id}: {} against {score}",
                scored_on[id]
            );
        }
    }
    assert!(rise("16") > 0.0, "the newest click rises by {}", rise("16"));
    for (newer, older) in [("16", "15"), ("15", "14")] {
        let ratio = rise(older) / rise(newer);
        assert!(
            (ratio - decay).abs() < 1e-3,
            "{older} against {newer}: {ratio}, decay {decay}"
        );
    }
}
