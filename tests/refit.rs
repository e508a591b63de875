//! A refit trained beside the run (`Start::refit_alongside`, on a thread of its own) against
//! one trained after it (`train::refit`): the same model, bit for bit, whether the run stops
//! at its last epoch or after it.

use awrsr::data::{Case, Split};
use awrsr::model::{Awrsr, ModelConfig, input_tensor};
use awrsr::train::{Batching, LogKind, Loss, Start, TrainConfig, Trained, refit, train};
use burn::tensor::Device;

const ITEMS: usize = 40;

/// Sessions that walk the catalogue in small steps from a drawn start (a linear congruential
/// generator: the same sessions every run).
fn sessions(count: usize, seed: u64) -> Vec<Vec<u32>> {
    let mut state = seed;
    let mut next = move |bound: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % bound
    };
    (0..count)
        .map(|_| {
            let length = 2 + next(6) as usize;
            let mut item = 1 + next(ITEMS as u64) as u32;
            (0..length)
                .map(|_| {
                    item = 1 + (item + next(3) as u32) % ITEMS as u32;
                    item
                })
                .collect()
        })
        .collect()
}

/// Every prefix of `sessions` as a case.
fn cases(sessions: &[Vec<u32>]) -> Vec<Case> {
    sessions
        .iter()
        .flat_map(|s| {
            (1..s.len()).map(|end| Case {
                input: s[..end].to_vec(),
                target: s[end],
            })
        })
        .collect()
}

fn settings(epochs: usize, learning_rate: f64) -> (ModelConfig, TrainConfig) {
    let mut model = ModelConfig::new(ITEMS);
    model.max_len = 8;
    model.d_model = 16;
    model.heads = 2;
    model.dropout = 0.3;
    let training = TrainConfig {
        epochs,
        learning_rate,
        batch_size: 32,
        batching: Batching::ByLength,
        loss: Loss::Sampled,
        negatives: 16,
        patience: 2,
        lr_decay: 0.5,
        progress: false,
        ..TrainConfig::for_log(LogKind::Sessions, ITEMS)
    };
    (model, training)
}

/// What the model computes: its item table and its hidden states over `sessions`.
fn outputs(model: &Awrsr, sessions: &[Vec<u32>]) -> Vec<f32> {
    let device = Device::flex();
    let mut values = model
        .items
        .weight
        .val()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    for session in sessions {
        let encoded = model.encode(input_tensor(&[&session[..]], 8, &device));
        values.extend(encoded.hidden.into_data().try_to_vec::<f32>().unwrap());
    }
    values
}

/// Where two output lists differ first, if they do.
fn first_difference(a: &[f32], b: &[f32]) -> Option<(usize, f32, f32)> {
    if a.len() != b.len() {
        return Some((a.len().min(b.len()), f32::NAN, f32::NAN));
    }
    (0..a.len())
        .find(|&i| a[i].to_bits() != b[i].to_bits())
        .map(|i| (i, a[i], b[i]))
}

/// Trains on `train` with `valid` validating, the refit alongside; returns the run and the
/// refit's model.
fn trained_alongside(
    (model, training): &(ModelConfig, TrainConfig),
    split: &Split,
    all: &[Vec<u32>],
) -> (Trained, Awrsr) {
    let start = Start {
        refit_alongside: Some((all.to_vec(), |_| {})),
        ..Start::default()
    };
    let device = Device::flex();
    let mut trained = train(model, training, split, &device, start, &mut |_| {}).unwrap();
    let alongside = trained.refit.take().expect("a refit alongside");
    (trained, alongside.finish().unwrap())
}

#[test]
fn a_refit_beside_the_run_is_the_refit_after_it() {
    let train_sessions = sessions(300, 1);
    let valid_sessions = sessions(40, 2);
    let split = Split {
        train: train_sessions.clone(),
        valid: cases(&valid_sessions),
        ..Split::default()
    };
    let all = [train_sessions, valid_sessions].concat();
    let device = Device::flex();
    // A short run that keeps its last epoch, and a long one at a rate high enough to stop
    // past its best, so that the refit drops the epochs it trained beyond it.
    for (epochs, rate, stops_past_best) in [(2, 3e-3, false), (12, 0.05, true)] {
        let settings = settings(epochs, rate);
        let (trained, beside) = trained_alongside(&settings, &split, &all);
        let past_best = trained.best_epoch < trained.epochs_run;
        assert_eq!(
            past_best, stops_past_best,
            "best epoch {} of {}: the case this run is meant to cover",
            trained.best_epoch, trained.epochs_run
        );
        let scales = trained.refit_scales.as_deref().unwrap();
        assert_eq!(scales.len(), trained.best_epoch);
        let (model, training) = &settings;
        let after = refit(
            model,
            training,
            all.clone(),
            scales,
            None,
            &device,
            &mut |_| {},
        );
        let after = after.unwrap();
        let probe = &all[..20];
        let beside = outputs(&beside, probe);
        assert_eq!(
            first_difference(&beside, &outputs(&after, probe)),
            None,
            "{epochs} epochs at {rate}: the refit beside the run differs from the one after it"
        );
        assert!(
            first_difference(&beside, &outputs(&trained.model, probe)).is_some(),
            "the refit trains on more sessions than the run"
        );
    }
}
