//! The session baselines (`awrsr::baselines`): sequential rules and V-SKNN against scores
//! worked out by hand, tie-breaking by popularity, and both on a fixed tenth of the shared
//! Diginetica test cases against the full-run figures.

mod common;

use awrsr::baselines::{
    Baseline, GapWeighting, KnnParams, Popularity, PositionWeighting, RulesParams, SequentialRules,
    SessionKnn, evaluate,
};
use awrsr::data::{Case, LoadOptions, load, load_cases};

/// The scores of `baseline` for `input` over `n` items.
fn scores(baseline: &dyn Baseline, input: &[u32], n: usize) -> Vec<f32> {
    let mut s = vec![f32::NAN; n];
    baseline.score(input, &mut s);
    s
}

fn assert_close(actual: &[f32], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len());
    for (j, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a as f64 - e).abs() < 1e-5,
            "item {}: {a} != {e} (all: {actual:?})",
            j + 1
        );
    }
}

#[test]
fn sequential_rules_weigh_by_gap_and_score_from_the_last_click() {
    let sessions = vec![vec![1, 2, 3], vec![1, 3], vec![4, 4]];
    let sr = SequentialRules::fit(&sessions, 5);
    // 1→2: 1 (gap 1); 1→3: 1/2 (gap 2) + 1 (gap 1); 2→3: 1; 4→4: 1.
    assert_close(&scores(&sr, &[3, 2, 1], 5), &[0.0, 1.0, 1.5, 0.0, 0.0]);
    assert_close(&scores(&sr, &[1, 2], 5), &[0.0, 0.0, 1.0, 0.0, 0.0]);
    assert_close(&scores(&sr, &[4], 5), &[0.0, 0.0, 0.0, 1.0, 0.0]);
    assert_close(&scores(&sr, &[3], 5), &[0.0; 5]);
    assert_close(&scores(&sr, &[], 5), &[0.0; 5]);
    assert_close(&scores(&sr, &[0, 9], 5), &[0.0; 5]);
    let one_step = RulesParams {
        steps: 1,
        ..RulesParams::default()
    };
    let sr1 = SequentialRules::fit_with(&sessions, 5, one_step);
    assert_close(&scores(&sr1, &[1], 5), &[0.0, 1.0, 1.0, 0.0, 0.0]);
    let quadratic = RulesParams {
        weighting: GapWeighting::Quadratic,
        ..RulesParams::default()
    };
    let srq = SequentialRules::fit_with(&sessions, 5, quadratic);
    assert_close(&scores(&srq, &[1], 5), &[0.0, 1.0, 1.25, 0.0, 0.0]);
}

#[test]
fn pruning_keeps_the_heaviest_rules_and_ties_go_to_the_first_made() {
    let sessions = vec![vec![1, 5], vec![1, 2], vec![1, 3], vec![1, 3]];
    let prune = |pruning| {
        SequentialRules::fit_with(
            &sessions,
            5,
            RulesParams {
                pruning,
                ..RulesParams::default()
            },
        )
    };
    assert_eq!(
        prune(0).rules(1).collect::<Vec<_>>(),
        vec![(3, 2.0), (5, 1.0), (2, 1.0)]
    );
    assert_eq!(
        prune(2).rules(1).collect::<Vec<_>>(),
        vec![(3, 2.0), (5, 1.0)]
    );
    assert_eq!(prune(1).rules(1).collect::<Vec<_>>(), vec![(3, 2.0)]);
    assert_eq!(prune(1).rules(0).count() + prune(1).rules(6).count(), 0);
}

/// Sessions 0..=3 (oldest first) for the V-SKNN cases, over items 1..=6.
fn knn_sessions() -> Vec<Vec<u32>> {
    vec![vec![1, 2, 5], vec![2, 3], vec![1, 4], vec![3, 6]]
}

fn knn(k: usize, sample_size: usize, idf_weighting: f64) -> SessionKnn {
    let params = KnnParams {
        k,
        sample_size,
        idf_weighting,
        ..KnnParams::default()
    };
    SessionKnn::fit_with(&knn_sessions(), 6, params)
}

#[test]
fn vsknn_samples_recent_sessions_and_decays_by_the_latest_shared_click() {
    // Input [1, 3]: quadratic position weights 1 → 1/4, 3 → 1, over 2 distinct items, so
    // sessions 0 and 2 (item 1) have similarity 1/8, sessions 1 and 3 (item 3) 1/2. Linear
    // score decay: 0.9 when the neighbour holds 3 (the last click), 0.8 when only 1.
    let input = [1, 3];
    // sample 3 drops session 0; k 2 keeps sessions 3 and 1: 0.45 to each of their items.
    assert_close(
        &scores(&knn(2, 3, 0.0), &input, 6),
        &[0.0, 0.45, 0.9, 0.0, 0.0, 0.45],
    );
    // k 3 adds session 2: 1/8 · 0.8 = 0.1 to items 1 and 4.
    assert_close(
        &scores(&knn(3, 3, 0.0), &input, 6),
        &[0.1, 0.45, 0.9, 0.1, 0.0, 0.45],
    );
    // sample 4, k 3: sessions 0 and 2 tie at 1/8, the newer (2) wins.
    assert_close(
        &scores(&knn(3, 4, 0.0), &input, 6),
        &[0.1, 0.45, 0.9, 0.1, 0.0, 0.45],
    );
    // k 4: session 0 too (items 1, 2, 5).
    assert_close(
        &scores(&knn(4, 4, 0.0), &input, 6),
        &[0.2, 0.55, 0.9, 0.1, 0.1, 0.45],
    );
    // A repeated click takes its later position: [3, 1, 3] weighs 3 → 1, 1 → (2/3)² over 2.
    let w1 = 4.0 / 9.0 / 2.0;
    let expected = [w1 * 0.8, 0.45, 0.9, w1 * 0.8, 0.0, 0.45];
    assert_close(&scores(&knn(3, 3, 0.0), &[3, 1, 3], 6), &expected);
}

#[test]
fn weightings_follow_session_rec_including_its_linear_cut_offs() {
    assert_eq!(PositionWeighting::Quadratic.weight(1, 2), 0.25);
    assert_eq!(PositionWeighting::Div.weight(3, 4), 0.75);
    assert!((PositionWeighting::Linear.weight(9, 10) - 0.9).abs() < 1e-12);
    assert_eq!(
        PositionWeighting::Linear.weight(11, 12),
        0.0,
        "position past 10: 0"
    );
    assert!((PositionWeighting::Log.weight(4, 4) - 1.0 / 1.7f64.log10()).abs() < 1e-12);
    assert!((GapWeighting::Linear.weight(1) - 0.9).abs() < 1e-12);
    assert!(
        GapWeighting::Linear.weight(12) < 0.0,
        "session-rec's linear decay goes negative"
    );
    assert_eq!(GapWeighting::Linear.weight(101), 0.0);
    assert_eq!(GapWeighting::Div.weight(4), 0.25);
    // session-rec's constructor defaults: div position weights (1/2, 1) and div decay.
    let defaults = SessionKnn::fit_with(&knn_sessions(), 6, KnnParams::session_rec_defaults());
    // similarities: sessions 0, 2 → 1/4, sessions 1, 3 → 1/2; decay 1 (holds 3) or 1/2.
    assert_close(
        &scores(&defaults, &[1, 3], 6),
        &[0.25, 0.625, 1.0, 0.125, 0.125, 0.5],
    );
}

#[test]
fn vsknn_boosts_rare_items_by_idf() {
    // idf = ln(4 sessions / clicks): ln 2 for items 1–3 (2 clicks), ln 4 for 4–6 (1 click).
    let (l2, l4) = (2f64.ln(), 4f64.ln());
    let boost = |score: f64, idf: f64| score * (1.0 + 10.0 * idf);
    let expected = [
        boost(0.1, l2),
        boost(0.45, l2),
        boost(0.9, l2),
        boost(0.1, l4),
        0.0,
        boost(0.45, l4),
    ];
    assert_close(&scores(&knn(3, 3, 10.0), &[1, 3], 6), &expected);
}

#[test]
fn ties_are_broken_by_popularity_then_index_and_seen_items_can_be_filtered() {
    let sessions = vec![vec![1, 2, 3], vec![1, 3], vec![4, 4]];
    let popularity = Popularity::fit(&sessions, 6);
    // clicks: 1 → 2, 2 → 1, 3 → 2, 4 → 2, 5 and 6 → 0; order 1, 3, 4, 2, 5, 6.
    assert_eq!(popularity.order(), &[0, 3, 1, 2, 4, 5]);
    let sr = SequentialRules::fit(&sessions, 6);
    // The ranks of single targets under SR's scores for [2, 1]: `baselines::tests`.
    let cases = [
        Case {
            input: vec![2, 1],
            target: 4,
        },
        Case {
            input: vec![2, 1],
            target: 3,
        },
    ];
    assert_eq!(evaluate(&sr, &popularity, &cases, false).ranks(), &[3, 0]);
    assert_eq!(evaluate(&sr, &popularity, &cases, true).ranks(), &[1, 0]);
}

#[test]
fn diginetica_tenth_matches_the_full_run_figures() {
    let train = load(
        &common::shared("sessions/diginetica/train.txt"),
        &LoadOptions::default(),
    )
    .expect("train.txt");
    let sessions: Vec<Vec<u32>> = train.users.iter().map(|u| u.items.clone()).collect();
    let n = train.catalogue.len();
    assert_eq!((sessions.len(), n), (186_670, 43_097));
    let all = load_cases(
        &common::shared("sessions/diginetica/test.txt"),
        &train.catalogue,
    )
    .expect("test.txt")
    .cases;
    assert_eq!(all.len(), 60_858);
    let cases: Vec<Case> = all.into_iter().step_by(10).collect();

    let popularity = Popularity::fit(&sessions, n);
    let sr = evaluate(
        &SequentialRules::fit(&sessions, n),
        &popularity,
        &cases,
        false,
    );
    let knn = evaluate(&SessionKnn::fit(&sessions, n), &popularity, &cases, false);
    let (sr_hr, sr_mrr) = (sr.get("HR@20"), sr.get("MRR@20"));
    let (knn_hr, knn_mrr) = (knn.get("HR@20"), knn.get("MRR@20"));
    eprintln!("tenth: SR {sr_hr:.6} / {sr_mrr:.6}, V-SKNN {knn_hr:.6} / {knn_mrr:.6}");
    // This tenth's figures when written (the full set: SR 0.4038 / 0.1409, V-SKNN 0.5170 / 0.1832).
    assert!(
        (sr_hr - SR_TENTH.0).abs() < 0.002 && (sr_mrr - SR_TENTH.1).abs() < 0.001,
        "SR {sr_hr} / {sr_mrr}"
    );
    assert!(
        (knn_hr - KNN_TENTH.0).abs() < 0.003 && (knn_mrr - KNN_TENTH.1).abs() < 0.002,
        "V-SKNN {knn_hr} / {knn_mrr}"
    );
    assert!(knn_hr > sr_hr + 0.05, "V-SKNN beats SR on HR@20");
}

/// HR@20 / MRR@20 of SR on every 10th Diginetica test case, as measured.
const SR_TENTH: (f64, f64) = (0.402_563, 0.141_027);
/// HR@20 / MRR@20 of V-SKNN on every 10th Diginetica test case, as measured.
const KNN_TENTH: (f64, f64) = (0.518_896, 0.184_556);
