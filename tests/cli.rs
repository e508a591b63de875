//! The command-line tool end to end: a short real training on a slice of ml-latest-small,
//! evaluation of the written bundle, recommendations, and bad input.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn awrsr(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_awrsr")).args(args).output().expect("the binary runs")
}

fn ok(output: Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(output.status.success(), "failed: {}\n{stdout}", String::from_utf8_lossy(&output.stderr));
    stdout
}

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

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn train_beats_popularity_then_eval_and_recommend_use_the_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let data = slice(dir.path(), 200);
    let model = dir.path().join("m.awrsr");
    let train_json = dir.path().join("train.json");
    let data_arg = data.to_str().unwrap();
    ok(awrsr(&[
        "train", "--data", data_arg, "--out", model.to_str().unwrap(), "--metrics-json", train_json.to_str().unwrap(),
        "--max-len", "50", "--d-model", "32", "--epochs", "30", "--batch-size", "16", "--patience", "30", "--quiet",
    ]));
    let trained = read_json(&train_json);
    for split in ["valid", "test"] {
        let model_ndcg = trained[split]["NDCG@10"].as_f64().unwrap();
        let model_hr = trained[split]["HR@10"].as_f64().unwrap();
        let pop_hr = trained["popularity"][split]["HR@10"].as_f64().unwrap();
        let pop_ndcg = trained["popularity"][split]["NDCG@10"].as_f64().unwrap();
        assert!(model_hr > pop_hr && model_ndcg > pop_ndcg, "{split}: model HR@10 {model_hr} NDCG@10 {model_ndcg} vs popularity {pop_hr} {pop_ndcg}");
    }

    // Evaluating the written bundle on the same log reproduces the training report.
    let eval_json = dir.path().join("eval.json");
    ok(awrsr(&["eval", "--model", model.to_str().unwrap(), "--data", data_arg, "--metrics-json", eval_json.to_str().unwrap()]));
    let evaluated = read_json(&eval_json);
    for key in ["HR@10", "NDCG@10", "MRR"] {
        let (a, b) = (trained["test"][key].as_f64().unwrap(), evaluated["test"][key].as_f64().unwrap());
        assert!((a - b).abs() < 1e-9, "{key}: train report {a}, eval {b}");
    }
    let filtered = dir.path().join("filtered.json");
    ok(awrsr(&["eval", "--model", model.to_str().unwrap(), "--data", data_arg, "--filter-seen", "--metrics-json", filtered.to_str().unwrap()]));
    let filtered = read_json(&filtered);
    assert_eq!(filtered["filter_seen"], Value::Bool(true));
    assert!(filtered["test"]["MRR"].as_f64().unwrap() >= evaluated["test"]["MRR"].as_f64().unwrap());

    // Recommend: session items excluded, unknown ids listed, explanation weights sum to 1.
    let out = ok(awrsr(&["recommend", "--model", model.to_str().unwrap(), "--session", "1,50,nope,260", "-k", "7", "--explain", "--json"]));
    let out: Value = serde_json::from_str(&out).unwrap();
    let items = out["items"].as_array().unwrap();
    assert_eq!(items.len(), 7);
    assert_eq!(out["unknown"], serde_json::json!(["nope"]));
    for item in items {
        let id = item["id"].as_str().unwrap();
        assert!(!["1", "50", "260"].contains(&id), "recommended a session item {id}");
        assert!(item["title"].is_string());
        let because = item["because"].as_array().unwrap();
        let ids: Vec<&str> = because.iter().map(|b| b["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 3);
        assert!(ids.iter().all(|id| ["1", "50", "260"].contains(id)));
        let total: f64 = because.iter().map(|b| b["weight"].as_f64().unwrap()).sum();
        assert!((total - 1.0).abs() < 1e-4);
    }
    let attention = &out["attention"];
    assert_eq!(attention["ids"], serde_json::json!(["1", "50", "260"]));
    for (i, row) in attention["weights"].as_array().unwrap().iter().enumerate() {
        let row: Vec<f64> = row.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        assert_eq!(row.len(), 3);
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-4, "attention row {i} sums to 1");
        assert!(row[i + 1..].iter().all(|v| v.abs() < 1e-6), "attention row {i} looks ahead");
    }
    let scores: Vec<f64> = items.iter().map(|i| i["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "best first: {scores:?}");

    let table = ok(awrsr(&["recommend", "--model", model.to_str().unwrap(), "--session", "1,50", "--include-seen", "-k", "3"]));
    assert_eq!(table.lines().count(), 3, "{table}");
}

#[test]
fn bad_input_gives_a_clear_error_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("ratings.csv");
    std::fs::write(&log, "userId,movieId,rating,timestamp\n1,2,3,4\n1,2\n").unwrap();
    let message = failure(awrsr(&["train", "--data", log.to_str().unwrap(), "--epochs", "1"]));
    assert!(message.contains("ratings.csv:3: expected 4 fields, found 2"), "{message}");

    let fake = dir.path().join("fake.awrsr");
    std::fs::write(&fake, b"definitely not a model").unwrap();
    let message = failure(awrsr(&["recommend", "--model", fake.to_str().unwrap(), "--session", "1"]));
    assert!(message.contains("fake.awrsr: not an awrsr model bundle"), "{message}");

    let message = failure(awrsr(&["recommend", "--model", dir.path().join("none").to_str().unwrap()]));
    assert!(message.contains("cannot read model"), "{message}");

    let good = dir.path().join("good.csv");
    std::fs::write(&good, "userId,movieId,rating,timestamp\n1,2,3,4\n1,3,3,5\n1,4,3,6\n").unwrap();
    let message = failure(awrsr(&["train", "--data", good.to_str().unwrap(), "--heads", "3", "--epochs", "1"]));
    assert!(message.contains("d_model 64 is not divisible by heads 3"), "{message}");
}
