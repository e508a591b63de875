//! How long a recommendation takes natively (a benchmark, not a test): loads a bundle and
//! times `recommend` for a 50-item session (k = 10), with and without `explain`, and for an
//! empty session (the network on padding alone: mostly the cost of scoring every item).
//!
//! `cargo run --release --example latency -- [bundle] [calls]` (default: the demo model).
//! A 100,000-item bundle for comparison: see `bench/web.mjs` (it writes none to disk) or
//! `tests/browser/widen.mjs`.

use std::time::Instant;

use awrsr::inference::{Recommender, Request};
use burn::tensor::Device;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "www/model.awrsr".into());
    let calls: usize = args.next().and_then(|c| c.parse().ok()).unwrap_or(200);
    let bytes = std::fs::read(&path).expect("readable bundle");
    let recommender = Recommender::from_bytes(&bytes, &Device::flex()).expect("valid bundle");
    let ids = recommender.catalogue().ids();
    let session: Vec<String> = (0..50)
        .map(|i| ids[(i * 7919) % ids.len()].clone())
        .collect();
    println!("{path}: {} items, {calls} calls each", ids.len());

    let fifty = Request {
        session,
        k: Some(10),
        ..Request::default()
    };
    let explained = Request {
        explain: true,
        ..fifty.clone()
    };
    let empty = Request {
        k: Some(10),
        ..Request::default()
    };
    for (name, request) in [
        ("50 items", &fifty),
        ("50 items, explain", &explained),
        ("empty session", &empty),
    ] {
        time(name, calls, || {
            pollster::block_on(recommender.recommend(request)).expect("recommends");
        });
    }
}

/// Runs `f` `calls` times after a warm-up and prints the median and 95th percentile.
fn time(name: &str, calls: usize, mut f: impl FnMut()) {
    for _ in 0..5 {
        f();
    }
    let mut times: Vec<f64> = (0..calls)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let pick = |q: f64| times[((q * times.len() as f64) as usize).min(times.len() - 1)];
    println!(
        "{name:<20} p50 {:>7.3} ms  p95 {:>7.3} ms",
        pick(0.5),
        pick(0.95)
    );
}
