//! Recommending through the Rust API: the session's items stay out of the answer, also the
//! ones older than the window the model reads.

use awrsr::bundle::{Precision, encode};
use awrsr::catalogue::Catalogue;
use awrsr::inference::{Recommender, Request};
use awrsr::model::ModelConfig;
use burn::tensor::Device;

#[test]
fn every_session_item_is_left_out_not_only_the_newest_window() {
    let device = Device::flex();
    let mut config = ModelConfig::new(6);
    config.max_len = 2;
    config.d_model = 8;
    let ids: Vec<String> = ["a", "b", "c", "d", "e", "f"].map(String::from).to_vec();
    let catalogue = Catalogue::new(ids, vec![None; 6]).unwrap();
    let bytes = encode(&config.init(&device), &config, &catalogue, Precision::F32).unwrap();
    let recommender = Recommender::from_bytes(&bytes, &device).unwrap();
    let session: Vec<String> = ["a", "b", "c", "d"].map(String::from).to_vec();
    let request = Request {
        session: session.clone(),
        k: Some(6),
        ..Request::default()
    };
    let answer = pollster::block_on(recommender.recommend(&request)).unwrap();
    let got: Vec<&str> = answer.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(got.len(), 2, "six items, four viewed: {got:?}");
    assert!(
        got.iter().all(|id| !session.iter().any(|s| s == id)),
        "{got:?}"
    );
    let keep = Request {
        exclude_seen: Some(false),
        ..request
    };
    assert_eq!(
        pollster::block_on(recommender.recommend(&keep))
            .unwrap()
            .items
            .len(),
        6
    );
}

mod common;

/// The recommendation's score for `session` (the item alone allowed, session items allowed).
fn score_of(recommender: &Recommender, session: &[String], item: &str) -> f32 {
    let request = Request {
        session: session.to_vec(),
        k: Some(1),
        exclude_seen: Some(false),
        include: Some(vec![item.to_string()]),
        ..Request::default()
    };
    pollster::block_on(recommender.recommend(&request))
        .unwrap()
        .items[0]
        .score
}

/// `session` without every occurrence of `id`.
fn without(session: &[String], id: &str) -> Vec<String> {
    session.iter().filter(|s| *s != id).cloned().collect()
}

/// Per-item explanations on real sessions (the shipped model, the newest 20 views of 60
/// ml-latest-small users): each recommendation names its own session items, and leaving
/// out the top-named one lowers its score more than leaving out the lowest-named one.
/// The session-level rollout, the previous explanation, is measured the same way.
#[test]
fn per_item_explanations_are_faithful_on_real_sessions() {
    let device = Device::flex();
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/www/model.awrsr")).unwrap();
    let recommender = Recommender::from_bytes(&bytes, &device).unwrap();
    let log = awrsr::data::load(&common::shipped_movielens(), &Default::default()).unwrap();
    let (mut per_item, mut rollout, mut pairs, mut differing) = (0usize, 0usize, 0usize, 0usize);
    for user in log.users.iter().step_by(10).take(60) {
        let newest = &user.items[user.items.len().saturating_sub(20)..];
        let session: Vec<String> = newest
            .iter()
            .map(|&i| log.catalogue.id(i).to_string())
            .collect();
        let request = Request {
            session: session.clone(),
            k: Some(5),
            explain: true,
            ..Request::default()
        };
        let answer = pollster::block_on(recommender.recommend(&request)).unwrap();
        let attention = answer.attention.as_ref().unwrap();
        let by_rollout = |best: bool| {
            let pick = attention.ids.iter().zip(&attention.rollout).max_by(|a, b| {
                if best {
                    a.1.total_cmp(b.1)
                } else {
                    b.1.total_cmp(a.1)
                }
            });
            pick.unwrap().0.clone()
        };
        let named: Vec<Vec<&str>> = answer
            .items
            .iter()
            .map(|i| i.because.iter().flatten().map(|b| b.id.as_str()).collect())
            .collect();
        differing += usize::from(named.windows(2).any(|w| w[0] != w[1]));
        for item in &answer.items {
            let because = item.because.as_ref().unwrap();
            assert!(
                because.windows(2).all(|w| w[0].weight >= w[1].weight)
                    && because.iter().all(|b| b.weight > 0.0),
                "{because:?}"
            );
            assert!(because.iter().all(|b| session.contains(&b.id)));
            let [Some(top), Some(low)] = [because.first(), because.last()] else {
                continue;
            };
            if top.id == low.id {
                continue;
            }
            let drop =
                |id: &str| item.score - score_of(&recommender, &without(&session, id), &item.id);
            assert!(
                (drop(&top.id) - top.weight).abs() < 1e-3,
                "the weight is the score drop"
            );
            pairs += 1;
            per_item += usize::from(drop(&top.id) > drop(&low.id));
            rollout += usize::from(drop(&by_rollout(true)) > drop(&by_rollout(false)));
        }
    }
    let rate = |n: usize| n as f64 / pairs as f64;
    println!(
        "faithfulness over {pairs} recommendations: per-item {:.3}, session rollout {:.3}; sessions whose top 5 do not all name the same items: {differing} of 60",
        rate(per_item),
        rate(rollout)
    );
    assert!(pairs >= 100, "{pairs}");
    assert!(
        rate(per_item) >= 0.95,
        "per-item explanations: {:.3}",
        rate(per_item)
    );
    assert!(
        differing >= 45,
        "explanations differ per item in {differing} of 60 sessions"
    );
}

/// A model with long windows explains in several passes (each holding at most 64 MiB of
/// attention weights) and gets the same weights as leaving each item out by hand.
#[test]
fn explanations_in_several_passes_match_leaving_each_item_out() {
    let device = Device::flex();
    let mut config = ModelConfig::new(260);
    (config.max_len, config.d_model, config.heads, config.layers) = (200, 8, 2, 2); // 104 sessions a pass
    let ids: Vec<String> = (1..=260).map(|i| i.to_string()).collect();
    let catalogue = Catalogue::new(ids, vec![None; 260]).unwrap();
    let bytes = encode(&config.init(&device), &config, &catalogue, Precision::F32).unwrap();
    let recommender = Recommender::from_bytes(&bytes, &device).unwrap();
    let session: Vec<String> = (1..=200).map(|i| i.to_string()).collect();
    let request = Request {
        session: session.clone(),
        k: Some(3),
        explain: true,
        ..Request::default()
    };
    let answer = pollster::block_on(recommender.recommend(&request)).unwrap();
    let mut named = 0;
    for item in &answer.items {
        for because in item.because.as_ref().unwrap() {
            let by_hand =
                item.score - score_of(&recommender, &without(&session, &because.id), &item.id);
            assert!(
                (because.weight - by_hand).abs() <= 1e-4 * item.score.abs().max(1.0),
                "{}: {} against {by_hand}",
                because.id,
                because.weight
            );
            named += 1;
        }
    }
    assert!(named > 0, "some session item raises some recommendation");
}
