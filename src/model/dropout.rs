//! Dropout as burn's [`Dropout`] layer defines it, with a cheaper mask on the CPU.
//!
//! burn's layer draws its mask with `random_like(Bernoulli)`, which on the CPU backend samples
//! element by element through a generic sampler (one ChaCha12 draw, a match and a push per
//! element) and then multiplies twice (by the mask, then by `1 / keep`). On a Diginetica
//! session epoch that was 12 % of the time (`perf`, `docs/results.md`). Here, on the CPU
//! backend, the mask is drawn on the host by a ChaCha8 generator, with its kept values already
//! `1 / keep`, and applied by one multiplication. Same distribution, same expectation. Its seed
//! comes from the generator [`with_mask_seed`] installs on the calling thread (training installs
//! one a batch, drawn from the run's own generator, so that two runs on two threads draw
//! their masks independently and a checkpoint resumes them exactly), else from the device's
//! generator (so `Device::seed` fixes it).
//!
//! In the studio's browser build every device draws its masks this way, from the CPU
//! backend's generator ([`host_device`], which training seeds too), so that a seed gives the
//! studio the same model on WebGPU as on the CPU and in the CLI. Natively, other devices
//! (wgpu), where the mask is cheaper drawn on the device, keep burn's layer.

use burn::nn::Dropout;
use burn::tensor::Tensor;
// Used only by the host mask below: native, and in the studio's build.
#[cfg(any(not(target_arch = "wasm32"), feature = "studio"))]
use burn::tensor::{Device, Distribution, Int, TensorData};

/// `layer` applied to `input`: identity unless training on an autodiff device.
pub fn dropout<const D: usize>(layer: &Dropout, input: Tensor<D>) -> Tensor<D> {
    let device = input.device();
    if !layer.training.is_enabled() || !device.is_autodiff() || layer.prob == 0.0 {
        return input;
    }
    #[cfg(any(not(target_arch = "wasm32"), feature = "studio"))]
    if device.clone().without_autodiff() == Device::flex() || cfg!(target_arch = "wasm32") {
        let shape = input.shape();
        let mask = host_mask(shape.num_elements(), layer.prob, mask_seed());
        return input * Tensor::from_data(TensorData::new(mask, shape), &device);
    }
    layer.forward(input)
}

/// The device whose generator draws the host masks and, in training, the initial weights
/// on every device: the CPU backend with autodiff (what CPU training runs on).
#[cfg(any(not(target_arch = "wasm32"), feature = "studio"))]
pub fn host_device() -> Device {
    Device::flex().autodiff()
}

thread_local! {
    /// The generator of this thread's mask seeds while [`with_mask_seed`] runs.
    static MASK_SEEDS: std::cell::RefCell<Option<rand_chacha::ChaCha8Rng>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `f` with this thread's dropout masks drawn from a generator seeded with `seed`
/// (instead of the host device's generator, which every thread shares).
pub fn with_mask_seed<T>(seed: u64, f: impl FnOnce() -> T) -> T {
    use rand::SeedableRng;
    let generator = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let outer = MASK_SEEDS.with(|cell| cell.replace(Some(generator)));
    let result = f();
    MASK_SEEDS.with(|cell| cell.replace(outer));
    result
}

/// The seed of the next mask: from [`with_mask_seed`]'s generator when one is installed on
/// this thread, else from the host device's.
#[cfg(any(not(target_arch = "wasm32"), feature = "studio"))]
fn mask_seed() -> u64 {
    use rand::RngCore;
    let installed = MASK_SEEDS.with(|cell| cell.borrow_mut().as_mut().map(RngCore::next_u64));
    installed.unwrap_or_else(|| seed(&host_device()))
}

/// A seed drawn from the device's generator (two 30-bit draws: the int type may be 32-bit).
#[cfg(any(not(target_arch = "wasm32"), feature = "studio"))]
fn seed(device: &Device) -> u64 {
    let draws = Tensor::<1, Int>::random([2], Distribution::Uniform(0.0, 2f64.powi(30)), device)
        .into_data();
    draws.iter::<i64>().fold(0, |acc, d| (acc << 30) ^ d as u64)
}

/// `n` mask values: `1 / (1 − prob)` kept with probability `1 − prob`, else 0.
#[cfg(any(not(target_arch = "wasm32"), feature = "studio"))]
fn host_mask(n: usize, prob: f64, seed: u64) -> Vec<f32> {
    use rand::{RngCore, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    // Kept when a uniform 32-bit draw is at or above prob · 2³².
    let threshold = (prob * 4_294_967_296.0).round().min(u32::MAX as f64) as u32;
    let kept = (1.0 / (1.0 - prob)) as f32;
    let mut mask = Vec::with_capacity(n);
    mask.extend((0..n).map(|_| {
        if rng.next_u32() >= threshold {
            kept
        } else {
            0.0
        }
    }));
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_mask_keeps_the_expected_share_scaled() {
        let mask = host_mask(200_000, 0.2, 7);
        let kept = mask.iter().filter(|&&v| v > 0.0).count() as f64 / mask.len() as f64;
        assert!((kept - 0.8).abs() < 0.005, "kept share {kept}");
        assert!(mask.iter().all(|&v| v == 0.0 || v == 1.25));
        let mean = mask.iter().map(|&v| v as f64).sum::<f64>() / mask.len() as f64;
        assert!((mean - 1.0).abs() < 0.01, "mean {mean}");
        assert_ne!(mask, host_mask(200_000, 0.2, 8));
    }
}
