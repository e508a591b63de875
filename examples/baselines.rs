//! Fit and evaluation time, and accuracy, of the session baselines on the shared Diginetica
//! files (a benchmark, not a test): popularity, sequential rules and V-SKNN are each fitted on
//! every training session and ranked on every test case (all items ranked, session items
//! kept, the SR-GNN protocol).
//!
//! `cargo run --release --example baselines -- [folder]` (default
//! `/work/shared/data/sessions/diginetica`, holding `train.txt` and `test.txt`).

use std::path::PathBuf;
use std::time::Instant;

use awrsr::baselines::{Baseline, KnnParams, Popularity, SequentialRules, SessionKnn, evaluate};
use awrsr::data::{Case, LoadOptions, load, load_cases};
use awrsr::rank::rank_of;

fn main() {
    let folder = std::env::args().nth(1).map_or_else(
        || PathBuf::from("/work/shared/data/sessions/diginetica"),
        PathBuf::from,
    );
    let train =
        load(&folder.join("train.txt"), &LoadOptions::default()).expect("readable train.txt");
    let sessions: Vec<Vec<u32>> = train.users.iter().map(|u| u.items.clone()).collect();
    let n = train.catalogue.len();
    let cases = load_cases(&folder.join("test.txt"), &train.catalogue)
        .expect("readable test.txt")
        .cases;
    println!(
        "{} sessions, {n} items, {} test cases",
        sessions.len(),
        cases.len()
    );

    let popularity = Popularity::fit(&sessions, n);
    report(&popularity, &cases, &popularity, 0.0);
    let start = Instant::now();
    let rules = SequentialRules::fit(&sessions, n);
    report(&rules, &cases, &popularity, start.elapsed().as_secs_f64());
    println!(
        "  SR, ties counted in the target's favour (awrsr::rank::rank_of): {}",
        optimistic(&rules, &cases, n)
    );
    let start = Instant::now();
    let knn = SessionKnn::fit(&sessions, n);
    report(&knn, &cases, &popularity, start.elapsed().as_secs_f64());
    let start = Instant::now();
    let plain = SessionKnn::fit_with(&sessions, n, KnnParams::session_rec_defaults());
    let fit_s = start.elapsed().as_secs_f64();
    print!("  with session-rec's constructor defaults: ");
    report(&plain, &cases, &popularity, fit_s);
}

/// Evaluates `baseline` and prints one line.
fn report(baseline: &dyn Baseline, cases: &[Case], popularity: &Popularity, fit_s: f64) {
    let start = Instant::now();
    let m = evaluate(baseline, popularity, cases, false);
    let eval_s = start.elapsed().as_secs_f64();
    let get = |k: &str| m.get(k);
    println!(
        "{:7} fit {fit_s:6.2} s  eval {eval_s:6.2} s  HR@20 {:.4}  MRR@20 {:.4}  HR@10 {:.4}  MRR@10 {:.4}",
        baseline.name(),
        get("HR@20"),
        get("MRR@20"),
        get("HR@10"),
        get("MRR@10"),
    );
}

/// MRR cut at `k` from 0-based ranks.
fn mrr_at(ranks: &[u32], k: u32) -> f64 {
    let sum: f64 = ranks
        .iter()
        .filter(|&&r| r < k)
        .map(|&r| 1.0 / (r as f64 + 1.0))
        .sum();
    sum / ranks.len().max(1) as f64
}

/// HR@20 / MRR@20 when a tie never puts an item ahead of the target.
fn optimistic(baseline: &dyn Baseline, cases: &[Case], n: usize) -> String {
    let mut scores = vec![0.0; n];
    let ranks: Vec<u32> = cases
        .iter()
        .map(|c| {
            baseline.score(&c.input, &mut scores);
            rank_of(&scores, c.target, &[]) as u32
        })
        .collect();
    let hr = ranks.iter().filter(|&&r| r < 20).count() as f64 / ranks.len().max(1) as f64;
    format!("HR@20 {hr:.4}  MRR@20 {:.4}", mrr_at(&ranks, 20))
}
