//! Bounded fuzzing of the bundle decoder (proptest; cargo-fuzz would need nightly): a real
//! small bundle made here, mutated by byte flips, overwrites, truncations, insertions,
//! configuration edits with huge numbers and NaN weights. `decode` must never panic, hang
//! or allocate without bound; a mutated checksummed bundle either fails or loads the exact
//! original content. `AWRSR_FUZZ_CASES=100000 cargo test --release --test fuzz_bundle` runs
//! deeper (docs/fuzzing.md).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use awrsr::bundle::{Precision, decode, encode};
use awrsr::catalogue::Catalogue;
use awrsr::model::{ModelConfig, Refinement};
use burn::tensor::Device;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use safetensors::SafeTensors;
use safetensors::tensor::TensorView;

/// Cases per property: `AWRSR_FUZZ_CASES`, else a few seconds' worth.
fn cases(default: u32) -> u32 {
    std::env::var("AWRSR_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn sample() -> (Vec<u8>, ModelConfig, Catalogue) {
    sample_in(Precision::F32)
}

fn sample_in(precision: Precision) -> (Vec<u8>, ModelConfig, Catalogue) {
    let config = ModelConfig {
        max_len: 4,
        d_model: 4,
        layers: 1,
        heads: 2,
        refinement: Refinement::Additive,
        ..ModelConfig::new(3)
    };
    let catalogue = Catalogue::new(
        vec!["a".into(), "b".into(), "c".into()],
        vec![Some("A".into()), None, Some("C".into())],
    )
    .unwrap();
    let bytes = encode(
        &config.init(&Device::flex()),
        &config,
        &catalogue,
        precision,
    )
    .unwrap();
    (bytes, config, catalogue)
}

/// One change to a bundle.
#[derive(Clone, Debug)]
enum Mutation {
    FlipBit(usize),
    SetByte(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    /// Sets a configuration field (re-serialised, checksum kept: it no longer matches).
    Config(&'static str, String),
    /// Sets a configuration field and drops the checksum (an old-style bundle).
    ConfigUnsealed(&'static str, String),
    /// Writes a non-finite value into a weight and drops the checksum.
    NonFinite(usize, f32),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let fields = prop::sample::select(vec![
        "num_items",
        "max_len",
        "d_model",
        "layers",
        "heads",
        "dropout",
        "refine_scale",
        "trained_until",
    ]);
    let numbers = prop::sample::select(vec![
        "0",
        "1",
        "2",
        "4",
        "3",
        "-1",
        "4096",
        "4097",
        "10000",
        "100000",
        "1000000000",
        "50000001",
        "9223372036854775807",
        "18446744073709551615",
        "18446744073709551616",
        "1e300",
        "0.5",
        "null",
        "\"4\"",
    ]);
    let value = (fields.clone(), numbers.clone());
    prop_oneof![
        any::<usize>().prop_map(Mutation::FlipBit),
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::SetByte(at, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, b)| Mutation::Insert(at, b)),
        value.prop_map(|(f, v)| Mutation::Config(f, v.to_string())),
        (fields, numbers).prop_map(|(f, v)| Mutation::ConfigUnsealed(f, v.to_string())),
        (
            any::<usize>(),
            prop::sample::select(vec![f32::NAN, f32::INFINITY, f32::NEG_INFINITY])
        )
            .prop_map(|(i, v)| Mutation::NonFinite(i, v)),
    ]
}

/// Re-serialises `bytes` with edited metadata and tensors.
fn rebuild(
    bytes: &[u8],
    edit: impl FnOnce(&mut HashMap<String, String>, &mut Vec<(String, Vec<usize>, Vec<u8>)>),
) -> Option<Vec<u8>> {
    let container = SafeTensors::deserialize(bytes).ok()?;
    let mut meta = SafeTensors::read_metadata(bytes)
        .ok()?
        .1
        .metadata()
        .clone()?;
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = container
        .tensors()
        .into_iter()
        .map(|(n, v)| (n, v.shape().to_vec(), v.data().to_vec()))
        .collect();
    let dtypes: HashMap<String, safetensors::Dtype> = container
        .tensors()
        .into_iter()
        .map(|(n, v)| (n, v.dtype()))
        .collect();
    tensors.sort();
    edit(&mut meta, &mut tensors);
    let views: Vec<(String, TensorView)> = tensors
        .iter()
        .map(|(n, s, d)| Some((n.clone(), TensorView::new(dtypes[n], s.clone(), d).ok()?)))
        .collect::<Option<_>>()?;
    safetensors::serialize(views, Some(meta)).ok()
}

fn set_config(bytes: &[u8], field: &str, value: &str, seal: bool) -> Vec<u8> {
    rebuild(bytes, |meta, _| {
        let config = meta
            .get("awrsr.config")
            .and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok());
        if let Some(mut config) = config.filter(serde_json::Value::is_object) {
            config[field] = serde_json::from_str(value).unwrap_or(serde_json::Value::Null);
            meta.insert(
                "awrsr.config".into(),
                config.to_string().replace("null", value),
            );
        }
        if !seal {
            meta.remove("awrsr.checksum");
        }
    })
    .unwrap_or_else(|| bytes.to_vec())
}

/// Applies `m` to `bytes`.
fn apply(bytes: &[u8], m: &Mutation) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let at = |i: usize, len: usize| if len == 0 { 0 } else { i % len };
    match m {
        Mutation::FlipBit(bit) if !out.is_empty() => {
            let bit = at(*bit, out.len() * 8);
            out[bit / 8] ^= 1 << (bit % 8);
        }
        Mutation::SetByte(i, b) if !out.is_empty() => {
            let i = at(*i, out.len());
            out[i] = *b;
        }
        Mutation::Truncate(len) => out.truncate(at(*len, out.len())),
        Mutation::Insert(i, extra) => {
            let i = at(*i, out.len() + 1);
            out.splice(i..i, extra.iter().copied());
        }
        Mutation::Config(field, value) => out = set_config(&out, field, value, true),
        Mutation::ConfigUnsealed(field, value) => out = set_config(&out, field, value, false),
        Mutation::NonFinite(i, value) => {
            out = rebuild(&out, |meta, tensors| {
                meta.remove("awrsr.checksum");
                let k = at(*i, tensors.len());
                let data = &mut tensors[k].2;
                if data.len() >= 4 {
                    // f32 bytes (in an f16 or int8 tensor, whatever values they make there)
                    let j = at(*i / 7, data.len() / 4) * 4;
                    data[j..j + 4].copy_from_slice(&value.to_le_bytes());
                }
            })
            .unwrap_or(out)
        }
        _ => {}
    }
    out
}

#[test]
fn mutated_bundles_never_crash_and_never_load_changed_content() {
    for precision in [Precision::F32, Precision::F16, Precision::Int8] {
        fuzz_decode(precision);
    }
}

/// Mutations of a bundle stored in `precision`.
fn fuzz_decode(precision: Precision) {
    let (original, config, catalogue) = sample_in(precision);
    let device = Device::flex();
    let total = cases(2000);
    let mut runner = TestRunner::new(Config {
        cases: total,
        failure_persistence: None,
        ..Config::default()
    });
    let (loaded, refused) = (std::cell::Cell::new(0u32), std::cell::Cell::new(0u32));
    let outcome = runner.run(&prop::collection::vec(mutation(), 1..4), |mutations| {
        let mut bytes = original.clone();
        for m in &mutations {
            bytes = apply(&bytes, m);
        }
        let started = Instant::now();
        let result = decode(&bytes, &device);
        prop_assert!(
            started.elapsed() < Duration::from_secs(2),
            "decode took {:?}",
            started.elapsed()
        );
        match result {
            Err(e) => {
                refused.set(refused.get() + 1);
                prop_assert!(
                    e.to_string().len() < 1000,
                    "a {}-byte message",
                    e.to_string().len()
                );
            }
            Ok(bundle) => {
                loaded.set(loaded.get() + 1);
                prop_assert!(bundle.header.config.validate().is_ok());
                if bundle.header.warnings.is_empty() {
                    // The checksum was verified: nothing may have changed.
                    prop_assert_eq!(&bundle.header.config, &config);
                    prop_assert_eq!(&bundle.header.catalogue, &catalogue);
                }
            }
        }
        Ok(())
    });
    eprintln!(
        "fuzz_bundle ({precision:?}): {total} cases, {} loaded, {} refused",
        loaded.get(),
        refused.get()
    );
    outcome.unwrap();
}

#[test]
fn huge_numbers_in_any_field_are_refused_quickly() {
    let (original, ..) = sample();
    for field in ["num_items", "max_len", "d_model", "layers", "heads"] {
        for value in [
            "100000",
            "1000000000",
            "9223372036854775807",
            "18446744073709551615",
        ] {
            for seal in [true, false] {
                let started = Instant::now();
                assert!(
                    decode(&set_config(&original, field, value, seal), &Device::flex()).is_err(),
                    "{field} = {value}"
                );
                assert!(
                    started.elapsed() < Duration::from_millis(500),
                    "{field} = {value}"
                );
            }
        }
    }
}
