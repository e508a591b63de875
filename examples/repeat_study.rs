//! Where a session model and session kNN differ (a study, not a test): HR@20 and MRR@20 of a
//! bundle (as stored, its repeat bonus included) and of V-SKNN fitted on the same training
//! sessions, ranked as `awrsr eval` ranks them, over a case file split by whether the target
//! is already in the session.
//!
//! `cargo run --release --example repeat_study -- model.awrsr train.txt cases.txt`
//! (`train.txt`: the sessions the model trained on, one a line, as the shared Diginetica files).

use std::path::Path;

use awrsr::baselines::{Popularity, SessionKnn, evaluate as evaluate_baseline};
use awrsr::bundle::decode;
use awrsr::data::{LoadOptions, load, load_cases};
use awrsr::eval::evaluate;
use burn::tensor::Device;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, model, train, cases] = args.as_slice() else {
        panic!("usage: repeat_study model.awrsr train.txt cases.txt");
    };
    let device = Device::flex();
    let bundle = decode(&std::fs::read(model).expect("readable bundle"), &device).expect("bundle");
    let (config, catalogue) = (&bundle.header.config, &bundle.header.catalogue);
    let train = load(Path::new(train), &LoadOptions::default()).expect("readable sessions");
    let sessions: Vec<Vec<u32>> = (train.with_catalogue(catalogue).0.users)
        .into_iter()
        .map(|u| u.items)
        .collect();
    let cases = load_cases(Path::new(cases), catalogue)
        .expect("cases")
        .cases;
    let model_ranks = evaluate(&bundle.model, config, &cases, false, &device).expect("finite");
    let popularity = Popularity::fit(&sessions, catalogue.len());
    let knn = SessionKnn::fit(&sessions, catalogue.len());
    let knn_ranks = evaluate_baseline(&knn, &popularity, &cases, false);
    println!(
        "{} training sessions, {} cases, repeat bonus {:?}",
        sessions.len(),
        cases.len(),
        config.repeat
    );
    let parts = [
        ("target not in the session", Some(false)),
        ("target in the session", Some(true)),
        ("all", None),
    ];
    for (name, repeat) in parts {
        let part: Vec<usize> = (0..cases.len())
            .filter(|&i| repeat.is_none_or(|r| cases[i].input.contains(&cases[i].target) == r))
            .collect();
        let share = 100.0 * part.len() as f64 / cases.len().max(1) as f64;
        let of = |ranks: &[u32]| at_20(part.iter().map(|&i| ranks[i]), part.len());
        println!(
            "{name:26} {share:5.1} %  model {}  session kNN {}",
            of(model_ranks.ranks()),
            of(knn_ranks.ranks())
        );
    }
}

/// HR@20 / MRR@20 of `n` 0-based ranks.
fn at_20(ranks: impl Iterator<Item = u32>, n: usize) -> String {
    let hits: Vec<u32> = ranks.filter(|&r| r < 20).collect();
    let n = n.max(1) as f64;
    let mrr = hits.iter().map(|&r| 1.0 / (r as f64 + 1.0)).sum::<f64>() / n;
    format!("HR@20 {:.4} MRR@20 {mrr:.4}", hits.len() as f64 / n)
}
