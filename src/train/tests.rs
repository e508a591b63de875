//! Unit tests of training's internals: how long histories are cut into windows, which
//! sequences a warm retrain's epoch replays, the full-softmax loss and the sampled softmax (their values and gradients against autodiff).

use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};

use super::adam::HostAdam;
use super::batching::{epoch_sequences, replayed, windows};
use super::loss::{
    Proposal, exp_nonpositive, full_softmax_cross_entropy, sampled_residual,
    sampled_residual_on_host, sampled_softmax_cross_entropy,
};
use crate::model::{Awrsr, ModelConfig, input_tensor};

#[test]
fn windows_make_every_item_after_the_first_a_target_exactly_once() {
    for len in 0..40usize {
        for n in 1..8usize {
            let sequence: Vec<u32> = (1..=len as u32).collect();
            let cut = windows(&sequence, n);
            let mut targets: Vec<u32> = cut.iter().flat_map(|w| w[1..].iter().copied()).collect();
            targets.sort_unstable();
            let expected: Vec<u32> = sequence.iter().skip(1).copied().collect();
            assert_eq!(targets, expected, "len {len}, n {n}");
            for w in &cut {
                assert!(
                    w.len() >= 2 && w.len() <= n + 1,
                    "len {len}, n {n}: window {w:?}"
                );
                assert!(
                    sequence.windows(w.len()).any(|s| s == *w),
                    "a window is a contiguous run"
                );
            }
            if len > 1 {
                assert_eq!(
                    cut[0].last(),
                    sequence.last(),
                    "the newest window ends at the newest item"
                );
            }
        }
    }
}

#[test]
fn an_epoch_replays_a_fresh_share_of_the_old_sequences_and_every_new_one() {
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(7);
    assert_eq!(
        epoch_sequences(150, 100, 1.0, &mut rng),
        (0..150).collect::<Vec<_>>()
    );
    assert_eq!(
        epoch_sequences(150, 0, 0.25, &mut rng),
        (0..150).collect::<Vec<_>>()
    );
    let mut drawn = Vec::new();
    for _ in 0..2 {
        let mut order = epoch_sequences(150, 100, 0.25, &mut rng);
        order.sort_unstable();
        order.dedup();
        assert_eq!(order.len(), 75, "25 old and 50 new, each once");
        assert!(order[25..].iter().copied().eq(100..150), "every new one");
        assert!(order[24] < 100);
        drawn.push(order[..25].to_vec());
    }
    assert_ne!(drawn[0], drawn[1], "each epoch draws afresh");
    assert_eq!(
        (replayed(100, 0.25), replayed(3, 0.01), replayed(0, 0.5)),
        (25, 1, 0)
    );
}

/// The loss and the gradients of every item embedding and position embedding, through
/// `loss_of(model, hidden)`, `hidden` being the network's output `[18, 16]` for three sessions.
fn loss_and_gradients(
    model: &Awrsr,
    loss_of: impl Fn(&Awrsr, Tensor<2>) -> Tensor<1>,
) -> (f32, Vec<f32>, Vec<f32>) {
    let device = model.items.weight.val().device();
    let sessions: [&[u32]; 3] = [&[3, 9, 27, 4, 5, 6], &[11, 2], &[40, 39, 38, 1]];
    let hidden = model
        .encode(input_tensor(&sessions, 6, &device))
        .hidden
        .reshape([18, 16]);
    let loss = loss_of(model, hidden);
    let value = loss.clone().into_scalar::<f32>();
    let grads = loss.backward();
    let items = model
        .items
        .weight
        .grad(&grads)
        .expect("item embeddings have a gradient");
    let positions = model
        .positions
        .weight
        .grad(&grads)
        .expect("position embeddings have a gradient");
    (
        value,
        items.into_data().try_to_vec().unwrap(),
        positions.into_data().try_to_vec().unwrap(),
    )
}

fn assert_close(what: &str, a: &[f32], b: &[f32]) {
    let largest = b.iter().fold(0f32, |m, x| m.max(x.abs()));
    assert!(largest > 0.0, "{what}: the reference gradient is zero");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= 1e-5 + 1e-4 * largest,
            "{what}[{i}]: {x} against {y}"
        );
    }
}

/// Each target's log-probability under `log_softmax` of the scores `[18, 1]`: the autodiff
/// route that the full-softmax loss is checked against.
fn target_log_probs(model: &Awrsr, hidden: Tensor<2>, targets: &[i64]) -> Tensor<2> {
    let columns: Vec<i64> = targets.iter().map(|t| t - 1).collect();
    let columns = Tensor::<2, Int>::from_data(TensorData::new(columns, [18, 1]), &hidden.device());
    log_softmax(model.score_all(hidden), 1).gather(1, columns)
}

/// The model of `config` with its item vectors enlarged by noise of standard deviation `spread`.
/// The embeddings of the sampled softmax's candidates: `targets`' rows, then `negatives`'.
fn candidate_rows(model: &Awrsr, targets: &[i64], negatives: &[i64]) -> Tensor<2> {
    let rows: Vec<i64> = targets.iter().chain(negatives).map(|i| i - 1).collect();
    let n = rows.len();
    let vectors = model.item_vectors();
    let device = vectors.device();
    vectors.select(
        0,
        Tensor::<1, Int>::from_data(TensorData::new(rows, [n]), &device),
    )
}

fn model_with_spread_items(config: &ModelConfig, spread: f64) -> Awrsr {
    let mut model = config.init(&Device::flex().autodiff());
    model.items.weight = model.items.weight.map(|w| {
        let w = w.inner();
        (w.clone() + w.random_like(Distribution::Normal(0.0, spread)))
            .autodiff()
            .require_grad()
    });
    model
}

#[test]
fn the_full_softmax_loss_has_the_value_and_gradients_of_log_softmax_through_autodiff() {
    let mut config = ModelConfig::new(40);
    config.max_len = 6;
    config.d_model = 16;
    config.heads = 2;
    config.dropout = 0.0; // the two losses run the network twice
    // Targets repeat across rows (18 targets among 11 items).
    let targets: Vec<i64> = (0..18).map(|i| (i * 7 % 11 + 1) as i64).collect();
    let scale = 1.0 / 13.0;
    // Spread 1: a softmax far from uniform. Spread 40: logits hundreds apart, so some targets'
    // probabilities underflow f32 while their log-probabilities stay finite.
    for spread in [1.0, 40.0] {
        let model = model_with_spread_items(&config, spread);
        if spread > 1.0 {
            let lowest = loss_and_gradients(&model, |model, hidden| {
                target_log_probs(model, hidden, &targets).min()
            });
            assert!(
                lowest.0 < -110.0,
                "no target's probability underflows f32 (lowest log-probability {})",
                lowest.0
            );
        }
        let fused = loss_and_gradients(&model, |model, hidden| {
            full_softmax_cross_entropy(model.item_vectors(), hidden, &targets, scale)
        });
        let reference = loss_and_gradients(&model, |model, hidden| {
            target_log_probs(model, hidden, &targets)
                .sum()
                .neg()
                .mul_scalar(scale)
        });
        assert!(
            reference.0.is_finite() && reference.0 > 0.0,
            "spread {spread}: reference loss {}",
            reference.0
        );
        assert!(
            (fused.0 - reference.0).abs() <= 1e-5 * reference.0,
            "spread {spread}: loss {} against {}",
            fused.0,
            reference.0
        );
        assert_close(
            &format!("spread {spread}: item embedding gradient"),
            &fused.1,
            &reference.1,
        );
        assert_close(
            &format!("spread {spread}: position embedding gradient"),
            &fused.2,
            &reference.2,
        );
    }
}

/// With every other item as its negatives, once each and uncorrected, a target's sampled
/// softmax is its full softmax: row by row, the two losses and their gradients agree.
#[test]
fn the_sampled_softmax_over_every_item_is_the_full_softmax() {
    let mut config = ModelConfig::new(40);
    config.max_len = 6;
    config.d_model = 16;
    config.dropout = 0.0;
    let model = model_with_spread_items(&config, 1.0);
    let targets: Vec<i64> = (0..18).map(|i| (i * 7 % 11 + 1) as i64).collect();
    let sampled = loss_and_gradients(&model, |model, hidden| {
        let rows = (0..targets.len()).map(|r| {
            let others: Vec<i64> = (1..=40).filter(|&i| i != targets[r]).collect();
            let row = hidden.clone().slice(r..r + 1);
            sampled_softmax_cross_entropy(
                candidate_rows(model, &targets[r..r + 1], &others),
                row,
                &targets[r..r + 1],
                &others,
                |_| 0.0,
                0.5,
            )
        });
        rows.reduce(|a, b| a + b).unwrap()
    });
    let full = loss_and_gradients(&model, |model, hidden| {
        full_softmax_cross_entropy(model.item_vectors(), hidden, &targets, 0.5)
    });
    assert!(
        (sampled.0 - full.0).abs() <= 1e-5 * full.0,
        "loss {} against {}",
        sampled.0,
        full.0
    );
    assert_close("item embedding gradient", &sampled.1, &full.1);
    assert_close("position embedding gradient", &sampled.2, &full.2);
}

/// The correction: an item drawn twice as a negative with log-expected count ln 2 weighs as
/// one uncorrected copy, and a negative equal to the row's own target is left out.
#[test]
fn the_sampled_softmax_corrects_for_expected_counts_and_leaves_out_the_target() {
    let mut config = ModelConfig::new(40);
    config.max_len = 6;
    config.d_model = 16;
    config.dropout = 0.0;
    let model = model_with_spread_items(&config, 1.0);
    let once = loss_and_gradients(&model, |model, hidden| {
        sampled_softmax_cross_entropy(
            candidate_rows(model, &[2], &[1, 3, 4, 5, 6]),
            hidden.slice(0..1),
            &[2],
            &[1, 3, 4, 5, 6],
            |_| 0.0,
            1.0,
        )
    });
    let doubled = loss_and_gradients(&model, |model, hidden| {
        let count = |i: i64| if i == 2 { 0.0 } else { 2f32.ln() };
        sampled_softmax_cross_entropy(
            candidate_rows(model, &[2], &[1, 1, 3, 3, 4, 4, 5, 5, 6, 6, 2]),
            hidden.slice(0..1),
            &[2],
            &[1, 1, 3, 3, 4, 4, 5, 5, 6, 6, 2],
            count,
            1.0,
        )
    });
    assert!(
        (once.0 - doubled.0).abs() <= 1e-5 * once.0,
        "loss {} against {}",
        doubled.0,
        once.0
    );
    assert_close("item embedding gradient", &doubled.1, &once.1);
}

/// The CPU backend's host softmax and the tensor operations other devices run give the same
/// loss and residual, on a batch whose targets repeat and appear among the negatives.
#[test]
fn negatives_are_drawn_in_proportion_to_the_powered_counts() {
    use rand::SeedableRng;
    let counts = [0.0, 3.0, 8.0, 15.0];
    for (power, weights) in [(1.0f32, [1.0, 4.0, 9.0, 16.0]), (0.5, [1.0, 2.0, 3.0, 4.0])] {
        let proposal = Proposal::new(&counts, power);
        let total: f64 = weights.iter().sum();
        let expected: Vec<f32> = weights.iter().map(|w| (w / total) as f32).collect();
        assert_close("probabilities", &proposal.probability, &expected);
        let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(7);
        let draws = 200_000;
        let mut seen = [0usize; 4];
        for _ in 0..draws {
            seen[proposal.draw(&mut rng) as usize - 1] += 1;
        }
        for (item, (&n, &p)) in seen.iter().zip(&expected).enumerate() {
            let share = n as f32 / draws as f32;
            assert!(
                (share - p).abs() < 0.005,
                "power {power}: item {} drawn {share}, expected {p}",
                item + 1
            );
        }
    }
}

#[test]
fn the_sampled_softmax_on_the_host_matches_its_tensor_operations() {
    let device = Device::flex();
    let targets = [3i64, 5, 3, 9, 1];
    let negatives = [5i64, 2, 3, 7, 7, 9, 4];
    let candidates: Vec<i64> = targets.iter().chain(&negatives).copied().collect();
    let (m, c) = (targets.len(), candidates.len());
    let correction: Vec<f32> = candidates
        .iter()
        .map(|&i| (i as f32 * 0.37).sin())
        .collect();
    let values: Vec<f32> = (0..m * c).map(|k| (k as f32 * 1.7).cos() * 4.0).collect();
    let logits = || Tensor::<2>::from_data(TensorData::new(values.clone(), [m, c]), &device);
    let (loss, residual) =
        sampled_residual(logits(), &targets, candidates.clone(), correction.clone());
    let (host_loss, host_residual) =
        sampled_residual_on_host(logits(), &targets, &candidates, &correction);
    let scalar = |t: Tensor<1>| t.into_data().try_to_vec::<f32>().unwrap()[0];
    let (loss, host_loss) = (scalar(loss), scalar(host_loss));
    assert!(
        (loss - host_loss).abs() <= 1e-5 * loss.abs(),
        "loss {host_loss} against {loss}"
    );
    let residual = residual.into_data().try_to_vec::<f32>().unwrap();
    let host_residual = host_residual.into_data().try_to_vec::<f32>().unwrap();
    assert_close("residual", &host_residual, &residual);
    // A row's residual sums to zero, and a repeat of its target elsewhere gets nothing.
    assert!(host_residual[..c].iter().sum::<f32>().abs() < 1e-5);
    assert_eq!(host_residual[2], 0.0, "row 0's target 3 again at column 2");
}

/// The host softmax's exponential: within 2.5·10⁻⁷ of `f32::exp` relatively over its range,
/// and 0 where the exponential is below the smallest normal float and at −∞.
#[test]
fn the_host_exponential_matches_exp_where_it_is_defined() {
    for k in 0..=880_000 {
        let x = -(k as f32) * 1e-4;
        let (fast, exact) = (exp_nonpositive(x), x.exp());
        if x < -87.336_55 {
            assert_eq!(fast, 0.0, "at {x}");
        } else {
            assert!(
                (fast - exact).abs() <= 2.5e-7 * exact,
                "at {x}: {fast} against {exact}"
            );
        }
    }
    assert_eq!(exp_nonpositive(f32::NEG_INFINITY), 0.0);
    assert_eq!(exp_nonpositive(0.0), 1.0);
}

/// The fused host Adam steps a parameter as burn's Adam does (the first step, then with
/// moments; more elements than one rayon chunk), and a module optimizer's record written by
/// burn's Adam (an older checkpoint) resumes in it.
#[test]
fn the_host_adam_steps_as_burns_adam_and_resumes_its_records() {
    use burn::module::Module;
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::{AdamConfig, GradientsParams, Optimizer};

    let device = Device::flex();
    let shape = [1_100, 64]; // 70,400 elements: three chunks
    let (reference, host) = (AdamConfig::new().build(), HostAdam::new());
    let mut theirs = Tensor::<2>::random(shape, Distribution::Normal(0.0, 1.0), &device);
    let mut ours = theirs.clone();
    let (mut their_state, mut our_state) = (None, None);
    let largest_difference =
        |a: Tensor<2>, b: Tensor<2>| -> f32 { (a - b).abs().max().into_scalar() };
    for (step, lr) in [3e-3, 1.5e-3, 3e-3, 7.5e-4].into_iter().enumerate() {
        let spread = 0.1 * (step + 1) as f64;
        let grad = Tensor::<2>::random(shape, Distribution::Normal(0.0, spread), &device);
        (theirs, their_state) = reference.step(lr, theirs, grad.clone(), their_state);
        (ours, our_state) = host.step(lr, ours, grad, our_state);
        let difference = largest_difference(theirs.clone(), ours.clone());
        assert!(
            difference <= 1e-7,
            "step {step}: parameters differ by {difference}"
        );
    }
    let (theirs, ours) = (their_state.unwrap().momentum, our_state.unwrap().momentum);
    assert_eq!(theirs.time, ours.time);
    for (a, b) in [
        (theirs.moment_1, ours.moment_1),
        (theirs.moment_2, ours.moment_2),
    ] {
        let difference = largest_difference(a, b);
        assert!(difference <= 1e-9, "moments differ by {difference}");
    }

    let autodiff = device.autodiff();
    let input = Tensor::<2>::random([5, 8], Distribution::Normal(0.0, 1.0), &autodiff);
    let grads = |model: &Linear| {
        let loss = model.forward(input.clone()).powi_scalar(2).sum();
        GradientsParams::from_grads(loss.backward(), model)
    };
    let mut burns = AdamConfig::new().init();
    let model = LinearConfig::new(8, 4).init(&autodiff);
    let model = burns.step(1e-2, model.clone(), grads(&model));
    let mut resumed = HostAdam::init().load_record(burns.to_record());
    let theirs = burns.step(1e-2, model.clone(), grads(&model));
    let ours = resumed.step(1e-2, model.clone(), grads(&model));
    let weight = |model: &Linear| model.clone().valid().weight.val();
    let difference = largest_difference(weight(&theirs), weight(&ours));
    assert!(difference <= 1e-7, "a resumed step differs by {difference}");
    assert!(
        largest_difference(weight(&model), weight(&ours)) > 1e-4,
        "no step was taken"
    );
}
