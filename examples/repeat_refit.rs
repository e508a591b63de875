//! Chooses the repeat bonus for a session bundle trained before it existed (a study, not a
//! product path): the run's session split is made again from the same log and seed, the bonus
//! chosen on its validation cases as `awrsr train` chooses it, and the report (`awrsr train
//! --metrics-json`'s shape, the bonus included) written to `out.json`. The validation figures
//! without the bonus (`repeat.valid_without`) equal the original run's `valid` when the split is
//! the run's.
//!
//! `cargo run --release --example repeat_refit -- model.awrsr train.txt test.txt SEED out.json`

use std::path::Path;

use awrsr::bundle::decode;
use awrsr::data::{LoadOptions, load_cases, read};
use awrsr::eval::Report;
use awrsr::protocol::{Protocol, prepare};
use awrsr::train::with_repeat_bonus;
use burn::tensor::Device;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, model, train, test, seed, out] = args.as_slice() else {
        panic!("usage: repeat_refit model.awrsr train.txt test.txt SEED out.json");
    };
    let device = Device::flex();
    let bundle = decode(&std::fs::read(model).expect("readable bundle"), &device).expect("bundle");
    let catalogue = &bundle.header.catalogue;
    let log = read(Path::new(train), &LoadOptions::default()).expect("readable log");
    let (interactions, dropped) = log.interactions.with_catalogue(catalogue);
    assert_eq!(dropped, 0, "the log the model trained on");
    let cases = load_cases(Path::new(test), catalogue).expect("cases").cases;
    let seed: u64 = seed.parse().expect("a seed");
    let prepared = prepare(
        &log,
        &interactions,
        Protocol::Sessions,
        Some(cases),
        seed,
        &mut |_| {},
    );
    let started = std::time::Instant::now();
    let (config, fit) = with_repeat_bonus(&bundle.model, &bundle.header.config, &prepared, &device)
        .expect("finite");
    println!(
        "repeat bonus chosen in {:.1} s on {} validation cases",
        started.elapsed().as_secs_f64(),
        prepared.split.valid.len()
    );
    let mut report = Report::of(&bundle.model, &config, &prepared, false, &device).expect("finite");
    report.repeat = fit;
    for line in report.lines() {
        println!("{line}");
    }
    std::fs::write(out, serde_json::to_string_pretty(&report).expect("json")).expect("written");
}
