//! Ranking and metrics against hand-computed cases.

use awrsr::metrics::Metrics;
use awrsr::rank::{rank_of, top_k};

#[test]
fn rank_counts_strictly_better_items_and_skips_excluded_ones() {
    // items 1..=5 with scores
    let scores = [0.5, 0.9, 0.1, 0.7, 0.9];
    assert_eq!(
        rank_of(&scores, 2, &[]),
        0,
        "ties do not push the target down"
    );
    assert_eq!(rank_of(&scores, 4, &[]), 2);
    assert_eq!(rank_of(&scores, 3, &[]), 4);
    assert_eq!(
        rank_of(&scores, 4, &[2, 2, 4]),
        1,
        "excluded item 2 no longer counts; the target itself never is"
    );
    assert_eq!(
        rank_of(&[f32::NAN, 0.2], 1, &[]),
        2,
        "a NaN target ranks last"
    );
}

#[test]
fn top_k_is_best_first_with_filters_and_stable_ties() {
    let scores = [0.5, 0.9, 0.1, 0.7, 0.9, f32::NAN];
    assert_eq!(
        top_k(&scores, 3, |_| true),
        vec![(2, 0.9), (5, 0.9), (4, 0.7)]
    );
    assert_eq!(
        top_k(&scores, 2, |i| i != 2 && i != 4),
        vec![(5, 0.9), (1, 0.5)]
    );
    let all = top_k(&scores, 10, |_| true);
    assert_eq!(all.len(), 6);
    assert_eq!(all[5].0, 6, "NaN last");
    assert!(top_k(&scores, 3, |_| false).is_empty());
}

#[test]
fn metrics_match_hand_computed_values() {
    let mut m = Metrics::default();
    for rank in [0, 3, 9, 15, 40] {
        m.add(rank);
    }
    let avg = m.averages();
    let close = |name: &str, expected: f64| {
        assert!(
            (avg[name] - expected).abs() < 1e-12,
            "{name}: {} vs {expected}",
            avg[name]
        );
    };
    close("HR@5", 2.0 / 5.0);
    close("HR@10", 3.0 / 5.0);
    close("HR@20", 4.0 / 5.0);
    // NDCG: 1/log2(rank + 2)
    let g = |r: f64| 1.0 / (r + 2.0).log2();
    close("NDCG@5", (g(0.0) + g(3.0)) / 5.0);
    close("NDCG@10", (g(0.0) + g(3.0) + g(9.0)) / 5.0);
    close("NDCG@20", (g(0.0) + g(3.0) + g(9.0) + g(15.0)) / 5.0);
    close("MRR", (1.0 + 0.25 + 0.1 + 1.0 / 16.0 + 1.0 / 41.0) / 5.0);
    assert_eq!(m.count(), 5);
}

#[test]
fn top_k_matches_a_full_sort_on_random_scores_with_ties_and_nans() {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for case in 0..300 {
        let n = 1 + (next() % 200) as usize;
        // Few distinct values, so ties are common; some NaN and infinities.
        let scores: Vec<f32> = (0..n)
            .map(|_| match next() % 12 {
                0 => f32::NAN,
                1 => f32::NEG_INFINITY,
                2 => f32::INFINITY,
                v => (v % 5) as f32 * 0.25,
            })
            .collect();
        let k = (next() % 25) as usize;
        let modulus = 1 + (next() % 4) as u32;
        let allowed = |i: u32| !i.is_multiple_of(modulus) || modulus == 1;
        let key = |s: f32| if s.is_nan() { f32::NEG_INFINITY } else { s };
        let mut reference: Vec<(u32, f32)> = scores
            .iter()
            .enumerate()
            .map(|(j, &s)| (j as u32 + 1, s))
            .filter(|&(i, _)| allowed(i))
            .collect();
        reference.sort_by(|a, b| key(b.1).total_cmp(&key(a.1)).then(a.0.cmp(&b.0)));
        reference.truncate(k);
        let got = top_k(&scores, k, allowed);
        let ids = |v: &[(u32, f32)]| v.iter().map(|&(i, _)| i).collect::<Vec<_>>();
        assert_eq!(
            ids(&got),
            ids(&reference),
            "case {case}: k {k}, scores {scores:?}"
        );
    }
}

/// A model whose weights make a score NaN or infinite is refused by the evaluation, rather
/// than ranked; a healthy one evaluates.
#[test]
fn the_evaluation_refuses_scores_that_are_not_finite() {
    use awrsr::data::Case;
    use awrsr::eval::evaluate;
    use awrsr::model::ModelConfig;
    use burn::module::Param;
    use burn::tensor::{Device, Tensor, TensorData};

    let device = Device::flex();
    let mut config = ModelConfig::new(50);
    config.max_len = 6;
    config.d_model = 8;
    let model = config.init(&device);
    let cases: Vec<Case> = (1..40)
        .map(|i| Case {
            input: vec![i, i + 1],
            target: i + 2,
        })
        .collect();
    assert!(evaluate(&model, &config, &cases, false, &device).is_ok());
    let table = model
        .items
        .weight
        .val()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    for bad in [f32::INFINITY, f32::NEG_INFINITY, f32::NAN] {
        // Item 30's first weight: only its own score (and the sessions that hold it) turn bad.
        let mut damaged = table.clone();
        damaged[config.d_model * 30] = bad;
        let mut broken = model.clone();
        let data = TensorData::new(damaged, [config.num_items + 1, config.d_model]);
        broken.items.weight = Param::from_tensor(Tensor::from_data(data, &device));
        let result = evaluate(&broken, &config, &cases, false, &device);
        assert!(result.is_err(), "{bad} in the item table was ranked");
    }
}
