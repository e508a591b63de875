//! Where a recommendation's time goes, natively (a benchmark, not a test): loads a bundle and
//! times the whole `recommend` and its phases — encoding the session, scoring every item,
//! reading the scores back, picking the top 10 — over repeated calls.
//!
//! `cargo run --release --example latency -- [bundle] [calls]` (default: the demo model).

use std::time::Instant;

use awrsr::inference::{Recommender, Request};
use awrsr::model::{Awrsr, input_tensor};
use awrsr::rank::top_k;
use burn::tensor::Device;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "www/model.awrsr".into());
    let calls: usize = args.next().and_then(|c| c.parse().ok()).unwrap_or(200);
    let device = Device::flex();
    let bytes = std::fs::read(&path).expect("readable bundle");
    let recommender = Recommender::from_bytes(&bytes, &device).expect("valid bundle");
    let ids = recommender.catalogue().ids().to_vec();
    let session: Vec<String> = (0..50).map(|i| ids[(i * 7919) % ids.len()].clone()).collect();
    let window: Vec<u32> = session.iter().filter_map(|id| recommender.catalogue().index_of(id)).collect();
    let model = recommender.model();
    let n = recommender.config().max_len;
    println!("{path}: {} items, {calls} calls each", ids.len());

    let request = Request { session: session.clone(), k: Some(10), ..Request::default() };
    time("recommend (all phases)", calls, || {
        pollster::block_on(recommender.recommend(&request)).expect("recommends");
    });
    let explained = Request { explain: true, ..request.clone() };
    time("recommend with explain", calls, || {
        pollster::block_on(recommender.recommend(&explained)).expect("recommends");
    });
    time("encode (network, no scoring)", calls, || {
        let encoded = model.encode(input_tensor(&[&window], n, &device));
        Awrsr::last_hidden(&encoded).into_data();
    });
    let encoded = model.encode(input_tensor(&[&window], n, &device));
    let hidden = Awrsr::last_hidden(&encoded);
    time("score every item (matmul + read)", calls, || {
        model.score_all(hidden.clone()).into_data();
    });
    let weight = model.items.weight.val();
    let [rows, d] = weight.dims();
    let host: Vec<f32> = weight.clone().slice(1..rows).into_data().try_into_vec::<f32>().expect("f32");
    let mut transposed = vec![0.0f32; host.len()];
    for (j, row) in host.chunks(d).enumerate() {
        for (k, &v) in row.iter().enumerate() {
            transposed[k * (rows - 1) + j] = v;
        }
    }
    let items_t = burn::tensor::Tensor::<2>::from_data(burn::tensor::TensorData::new(transposed, [d, rows - 1]), &device);
    time("score every item, transposed table", calls, || {
        hidden.clone().matmul(items_t.clone()).into_data();
    });
    let scores: Vec<f32> = model.score_all(hidden.clone()).into_data().try_into_vec::<f32>().expect("f32");
    time("top 10 of every item", calls, || {
        top_k(&scores, 10, |i| i % 7 != 0);
    });
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
    println!("{name:<36} p50 {:>7.3} ms  p95 {:>7.3} ms", pick(0.5), pick(0.95));
}
