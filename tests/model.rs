//! The network: causality for every refinement, refinement shapes and start-up behaviour,
//! and attention rollout.

use awrsr::model::attention::RefinedAttention;
use awrsr::model::{
    Awrsr, ModelConfig, Refinement, head_averaged, input_tensor, rollout, trimmed_width,
};
use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{Bool, Device, Distribution, Tensor};

const ALL: [Refinement; 4] = [
    Refinement::None,
    Refinement::Simple,
    Refinement::Value,
    Refinement::Additive,
];

fn small_model(refinement: Refinement, device: &Device) -> (Awrsr, ModelConfig) {
    let mut config = ModelConfig::new(30);
    config.max_len = 8;
    config.d_model = 16;
    config.heads = 2;
    config.refinement = refinement;
    config.refine_scale = 3.0;
    (config.init(device), config)
}

fn hidden(model: &Awrsr, sequence: &[u32], max_len: usize, device: &Device) -> Vec<f32> {
    let encoded = model.encode(input_tensor(&[sequence], max_len, device));
    encoded.hidden.into_data().try_to_vec::<f32>().unwrap()
}

#[test]
fn changing_a_later_item_never_changes_an_earlier_output() {
    let device = Device::flex();
    for refinement in ALL {
        let (model, config) = small_model(refinement, &device);
        let d = config.d_model;
        // Full sequence (no padding) and a short one (left padding): change item at slot 5.
        for base in [vec![3u32, 7, 1, 9, 4, 12, 5, 8], vec![3, 7, 1, 9, 4, 12]] {
            let offset = config.max_len - base.len();
            let changed_slot = 5;
            let mut altered = base.clone();
            altered[changed_slot - offset] = 21;
            let a = hidden(&model, &base, config.max_len, &device);
            let b = hidden(&model, &altered, config.max_len, &device);
            for pos in 0..config.max_len {
                let (ra, rb) = (&a[pos * d..(pos + 1) * d], &b[pos * d..(pos + 1) * d]);
                let differs = ra.iter().zip(rb).any(|(x, y)| (x - y).abs() > 1e-6);
                if pos < changed_slot {
                    assert!(
                        !differs,
                        "{refinement:?}: position {pos} changed when slot {changed_slot} did"
                    );
                } else if pos >= offset {
                    assert!(
                        differs,
                        "{refinement:?}: position {pos} ignored the change at slot {changed_slot}"
                    );
                }
            }
        }
    }
}

fn causal_mask(b: usize, n: usize, device: &Device) -> Tensor<4, Bool> {
    Tensor::<2, Bool>::tril_mask([n, n], 0, device)
        .unsqueeze_dim::<3>(0)
        .repeat_dim(0, b)
        .unsqueeze_dim(1)
}

#[test]
fn every_refinement_gives_row_stochastic_causal_weights_of_the_right_shape() {
    let device = Device::flex();
    let (b, n, d, heads) = (3, 6, 8, 2);
    for refinement in ALL {
        let layer = RefinedAttention::new(d, heads, n, refinement, 1.0, 0.0, &device);
        let x = Tensor::<3>::random([b, n, d], Distribution::Normal(0.0, 1.0), &device);
        let out = layer.forward(x, causal_mask(b, n, &device), false);
        assert_eq!(out.context.dims(), [b, n, d], "{refinement:?}");
        assert_eq!(out.weights.dims(), [b, heads, n, n], "{refinement:?}");
        let w = out.weights.into_data().try_to_vec::<f32>().unwrap();
        for row in w.chunks(n).enumerate() {
            let (index, values) = row;
            let i = index % n;
            let sum: f32 = values.iter().sum();
            assert!(
                (sum - 1.0).abs() < 1e-4,
                "{refinement:?}: row sums to {sum}"
            );
            assert!(
                values[i + 1..].iter().all(|v| v.abs() < 1e-7),
                "{refinement:?}: weight on a future key"
            );
        }
    }
}

#[test]
fn refinement_starts_at_scaled_identity_and_near_uniform_refined_weights() {
    let device = Device::flex();
    let (b, n, d, heads) = (2, 10, 8, 1);
    let scale = 1.0;
    let layer = RefinedAttention::new(d, heads, n, Refinement::Simple, scale, 0.0, &device);
    let refiner = layer
        .refiner
        .as_ref()
        .expect("simple refinement has parameters");
    let w = refiner
        .w_query
        .val()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    for (k, v) in w.iter().enumerate() {
        let (i, j) = ((k / n) % n, k % n);
        assert_eq!(*v, if i == j { scale } else { 0.0 }, "W₁[{i},{j}]");
    }
    assert!(refiner.gate.is_none(), "only additive has a gate");
    assert!(
        RefinedAttention::new(d, heads, n, Refinement::None, 1.0, 0.0, &device)
            .refiner
            .is_none()
    );

    // With W = I, A_q A_kᵀ / √n lies in [0, 1/√n]: the refined weights of a row are almost
    // uniform over its visible keys (max/min ≤ e^{1/√n}).
    let x = Tensor::<3>::random([b, n, d], Distribution::Normal(0.0, 3.0), &device);
    let refined = layer
        .forward(x, causal_mask(b, n, &device), false)
        .weights
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    let bound = (1.0 / (n as f32).sqrt()).exp() + 1e-4;
    for (index, row) in refined.chunks(n).enumerate() {
        let visible = &row[..=index % n];
        let max = visible.iter().cloned().fold(f32::MIN, f32::max);
        let min = visible.iter().cloned().fold(f32::MAX, f32::min);
        assert!(
            max / min <= bound,
            "row {index}: max/min {} above {bound}",
            max / min
        );
    }
}

#[test]
fn additive_gate_starts_at_one_half() {
    let device = Device::flex();
    let layer = RefinedAttention::new(8, 1, 5, Refinement::Additive, 1.0, 0.0, &device);
    let gate = layer
        .refiner
        .unwrap()
        .gate
        .expect("additive has a gate")
        .val();
    assert_eq!(
        gate.into_data().try_to_vec::<f32>().unwrap(),
        vec![0.0],
        "sigmoid(0) = 0.5"
    );
}

#[test]
fn rollout_is_a_distribution_over_visible_positions_and_the_product_of_the_layers() {
    let device = Device::flex();
    for refinement in ALL {
        let (model, config) = small_model(refinement, &device);
        let n = config.max_len;
        let encoded = model.encode(input_tensor(&[&[4, 2, 9][..]], n, &device));
        let layers: Vec<Tensor<2>> = head_averaged(&encoded);
        let host: Vec<Vec<f32>> = layers
            .iter()
            .map(|l| l.clone().into_data().try_to_vec::<f32>().unwrap())
            .collect();
        let r = rollout(&host, n);
        assert_eq!(r.len(), n);
        let padding: f32 = r[..n - 3].iter().map(|v| v.abs()).sum();
        let visible: f32 = r[n - 3..].iter().sum();
        assert!(
            padding < 1e-5,
            "{refinement:?}: padding got weight {padding}"
        );
        assert!(
            (visible - 1.0).abs() < 1e-4,
            "{refinement:?}: weights sum to {visible}"
        );
        // The same read-out as a full matrix product on the device: R = Π (½Ā + ½I).
        let eye = Tensor::<2>::eye(n, &device);
        let product = layers.iter().fold(eye.clone(), |acc, a| {
            (a.clone() + eye.clone()).mul_scalar(0.5).matmul(acc)
        });
        let last_row = product
            .slice(n - 1..n)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        for (got, want) in r.iter().zip(&last_row) {
            assert!((got - want).abs() < 1e-5, "{refinement:?}: {got} vs {want}");
        }
    }
}

#[test]
fn config_validation_names_the_problem() {
    let mut config = ModelConfig::new(10);
    config.heads = 3;
    assert!(config.validate().unwrap_err().contains("divisible"));
    config.heads = 1;
    config.max_len = 0;
    assert!(config.validate().unwrap_err().contains("max_len"));
    config.max_len = 5;
    config.dropout = 1.5;
    assert!(config.validate().unwrap_err().contains("dropout"));
}

#[test]
fn the_newest_position_alone_matches_the_full_encoding() {
    let device = Device::flex();
    for refinement in ALL {
        let (model, config) = small_model(refinement, &device);
        for sequence in [&[4u32, 2, 9][..], &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], &[]] {
            let full = model.encode(input_tensor(&[sequence], config.max_len, &device));
            let input = input_tensor(&[sequence], config.max_len, &device);
            let embedded = model.items.forward(input.items.clone());
            let last = model.encode_embedded(embedded, input, true);
            assert_eq!(last.hidden.dims(), [1, 1, config.d_model]);
            let want = Awrsr::last_hidden(&full)
                .into_data()
                .try_to_vec::<f32>()
                .unwrap();
            let got = Awrsr::last_hidden(&last)
                .into_data()
                .try_to_vec::<f32>()
                .unwrap();
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() < 1e-5,
                    "{refinement:?} {sequence:?}: {g} vs {w}"
                );
            }
            let weights = |e: &awrsr::model::Encoded| {
                e.attention
                    .iter()
                    .map(|a| a.clone().into_data().try_to_vec::<f32>().unwrap())
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                weights(&full),
                weights(&last),
                "attention weights stay complete"
            );
        }
    }
}

/// Moves every weight by random noise, so that no weight keeps a symmetric start (the
/// refinement's `W₁ = W₂ = s·I` would hide which of their rows a computation reads).
struct Perturb;

impl ModuleMapper for Perturb {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.map(|t| {
            let noise = t.random_like(Distribution::Normal(0.0, 0.5));
            t + noise
        })
    }
}

#[test]
fn a_batch_trimmed_to_its_longest_session_encodes_like_the_full_width() {
    let device = Device::flex();
    for refinement in ALL {
        let (model, config) = small_model(refinement, &device);
        let model = model.map(&mut Perturb);
        let batch: [&[u32]; 3] = [&[4, 2, 9], &[7], &[1, 2, 3, 4, 5]];
        let width = trimmed_width(&batch, config.max_len);
        assert_eq!(width, 5);
        let full = model
            .encode(input_tensor(&batch, config.max_len, &device))
            .hidden
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let trimmed = model
            .encode(input_tensor(&batch, width, &device))
            .hidden
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let d = config.d_model;
        for (row, session) in batch.iter().enumerate() {
            for age in 0..session.len() {
                let at =
                    |n: usize, slots: &[f32]| slots[(row * n + n - 1 - age) * d..][..d].to_vec();
                for (g, w) in at(width, &trimmed).iter().zip(at(config.max_len, &full)) {
                    assert!(
                        (g - w).abs() < 1e-4,
                        "{refinement:?} session {row}, item {age} from the newest: {g} vs {w}"
                    );
                }
            }
        }
    }
}

#[test]
fn evaluation_in_length_sorted_trimmed_batches_ranks_each_case_as_alone_at_full_width() {
    use awrsr::data::Case;
    use awrsr::eval::evaluate;
    use awrsr::rank::rank_of;
    let device = Device::flex();
    let (model, config) = small_model(Refinement::Value, &device);
    let model = model.map(&mut Perturb);
    // Lengths out of order, one longer than max_len (8), one of a single item; 300 cases so
    // that they span two evaluation batches.
    let cases: Vec<Case> = (0..300u32)
        .map(|c| Case {
            input: (0..[5, 1, 12, 3, 8, 2][c as usize % 6])
                .map(|i| 1 + (c * 7 + i * 3) % 30)
                .collect(),
            target: 1 + c % 30,
        })
        .collect();
    let metrics = evaluate(&model, &config, &cases, false, &device).unwrap();
    for (case, &rank) in cases.iter().zip(metrics.ranks()) {
        let alone = model.encode(input_tensor(
            &[case.input.as_slice()],
            config.max_len,
            &device,
        ));
        let scores = model
            .score_all(Awrsr::last_hidden(&alone))
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let want = rank_of(&scores, case.target, &[]);
        assert!(
            (rank as i64 - want as i64).abs() <= 1,
            "case {:?}: rank {rank}, alone at full width {want}",
            case.input
        );
    }
}
