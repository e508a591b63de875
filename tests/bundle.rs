//! The model bundle: exact round trip and a precise error for every kind of bad file.

use std::collections::HashMap;

use awrsr::bundle::{
    BundleError, NO_CHECKSUM_WARNING, Precision, decode, decode_for_serving, encode, layout, verify,
};
use awrsr::catalogue::Catalogue;
use awrsr::model::{ModelConfig, Refinement, input_tensor};
use burn::tensor::Device;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

fn sample() -> (Vec<u8>, ModelConfig, Catalogue) {
    let device = Device::flex();
    let mut config = ModelConfig::new(4);
    config.max_len = 6;
    config.d_model = 8;
    config.refinement = Refinement::Additive;
    let ids = ["a", "b", "ç", "42"].map(String::from).to_vec();
    let titles = vec![
        Some("Alpha".into()),
        None,
        Some("Ça <b>va</b>".into()),
        Some("Forty-two".into()),
    ];
    let catalogue = Catalogue::new(ids, titles).unwrap();
    let model = config.init(&device);
    (
        encode(&model, &config, &catalogue, Precision::F32).unwrap(),
        config,
        catalogue,
    )
}

fn tensors(bytes: &[u8]) -> HashMap<String, (Dtype, Vec<usize>, Vec<u8>)> {
    let st = SafeTensors::deserialize(bytes).unwrap();
    st.tensors()
        .into_iter()
        .map(|(name, v)| (name, (v.dtype(), v.shape().to_vec(), v.data().to_vec())))
        .collect()
}

fn metadata(bytes: &[u8]) -> HashMap<String, String> {
    SafeTensors::read_metadata(bytes)
        .unwrap()
        .1
        .metadata()
        .clone()
        .unwrap()
}

/// Rewrites a bundle with changed metadata and tensors, without its checksum (as an older
/// awrsr wrote it), so that the later checks are reached.
fn rebuild(
    bytes: &[u8],
    edit_meta: impl FnOnce(&mut HashMap<String, String>),
    edit_tensors: impl FnOnce(&mut HashMap<String, (Dtype, Vec<usize>, Vec<u8>)>),
) -> Vec<u8> {
    let mut meta = metadata(bytes);
    meta.remove("awrsr.checksum");
    let mut all = tensors(bytes);
    edit_meta(&mut meta);
    edit_tensors(&mut all);
    let views: Vec<(String, TensorView)> = all
        .iter()
        .map(|(name, (dtype, shape, data))| {
            (
                name.clone(),
                TensorView::new(*dtype, shape.clone(), data).unwrap(),
            )
        })
        .collect();
    safetensors::serialize(views, Some(meta)).unwrap()
}

#[test]
fn round_trip_is_exact() {
    let device = Device::flex();
    let (bytes, config, catalogue) = sample();
    let loaded = decode(&bytes, &device).unwrap();
    assert_eq!(loaded.header.config, config);
    assert_eq!(loaded.header.catalogue, catalogue);
    let again = encode(
        &loaded.model,
        &loaded.header.config,
        &loaded.header.catalogue,
        Precision::F32,
    )
    .unwrap();
    assert_eq!(
        tensors(&bytes),
        tensors(&again),
        "every tensor byte survives"
    );
    assert_eq!(
        metadata(&bytes).get("awrsr.config"),
        metadata(&again).get("awrsr.config")
    );

    let first = decode(&again, &device).unwrap();
    let input = || input_tensor(&[&[1, 3, 2][..]], config.max_len, &device);
    let a = loaded
        .model
        .encode(input())
        .hidden
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    let b = first
        .model
        .encode(input())
        .hidden
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    assert_eq!(a, b);
}

fn error(bytes: &[u8]) -> BundleError {
    decode(bytes, &Device::flex()).expect_err("the bundle is bad")
}

#[test]
fn truncated_and_foreign_files_are_refused() {
    let (bytes, ..) = sample();
    assert!(matches!(
        error(&bytes[..bytes.len() / 2]),
        BundleError::NotSafetensors(_)
    ));
    assert!(matches!(error(&bytes[..5]), BundleError::NotSafetensors(_)));
    assert!(matches!(
        error(b"<html>not a model</html>"),
        BundleError::NotSafetensors(_)
    ));
    assert!(matches!(error(&[]), BundleError::NotSafetensors(_)));

    let foreign = rebuild(
        &bytes,
        |m| {
            m.remove("awrsr.format");
        },
        |_| {},
    );
    let message = error(&foreign).to_string();
    assert!(message.contains("not an awrsr model bundle"), "{message}");
    let other = rebuild(
        &bytes,
        |m| {
            m.insert("awrsr.format".into(), "other".into());
        },
        |_| {},
    );
    assert!(matches!(error(&other), BundleError::WrongTag(tag) if tag == "other"));
}

#[test]
fn version_and_metadata_problems_are_named() {
    let (bytes, ..) = sample();
    let future = rebuild(
        &bytes,
        |m| {
            m.insert("awrsr.version".into(), "99".into());
        },
        |_| {},
    );
    assert!(matches!(error(&future), BundleError::UnsupportedVersion { found } if found == "99"));

    let config = rebuild(
        &bytes,
        |m| {
            m.insert("awrsr.config".into(), "{\"num_items\": ".into());
        },
        |_| {},
    );
    assert!(matches!(
        error(&config),
        BundleError::BadMetadata {
            key: "awrsr.config",
            ..
        }
    ));

    let heads = rebuild(
        &bytes,
        |m| {
            let mut c: serde_json::Value = serde_json::from_str(&m["awrsr.config"]).unwrap();
            c["heads"] = 3.into();
            m.insert("awrsr.config".into(), c.to_string());
        },
        |_| {},
    );
    let message = error(&heads).to_string();
    assert!(message.contains("divisible"), "{message}");

    let items = rebuild(
        &bytes,
        |m| {
            m.insert("awrsr.items".into(), "[\"a\",\"b\"]".into());
        },
        |_| {},
    );
    let message = error(&items).to_string();
    assert!(
        message.contains("2 item ids for a model of 4 items"),
        "{message}"
    );

    let duplicate = rebuild(
        &bytes,
        |m| {
            m.insert("awrsr.items".into(), "[\"a\",\"b\",\"a\",\"c\"]".into());
        },
        |_| {},
    );
    assert!(
        error(&duplicate)
            .to_string()
            .contains("\"a\" appears twice")
    );

    let missing = rebuild(
        &bytes,
        |m| {
            m.remove("awrsr.items");
        },
        |_| {},
    );
    assert!(matches!(
        error(&missing),
        BundleError::BadMetadata {
            key: "awrsr.items",
            ..
        }
    ));
}

#[test]
fn tensor_problems_are_named() {
    let (bytes, ..) = sample();
    let name = "items.weight".to_string();

    let shape = rebuild(
        &bytes,
        |_| {},
        |t| {
            let (dtype, _, data) = t.remove(&name).unwrap();
            t.insert(name.clone(), (dtype, vec![8, 5], data));
        },
    );
    match error(&shape) {
        BundleError::BadTensor {
            name: n,
            expected,
            found,
        } => {
            assert_eq!(n, name);
            assert_eq!(expected, "F32 [5, 8]");
            assert_eq!(found, "F32 [8, 5]");
        }
        other => panic!("expected a tensor error, got {other}"),
    }

    let dtype = rebuild(
        &bytes,
        |_| {},
        |t| {
            let (_, shape, data) = t.remove(&name).unwrap();
            t.insert(name.clone(), (Dtype::I32, shape, data));
        },
    );
    assert!(matches!(error(&dtype), BundleError::BadTensor { .. }));

    let missing = rebuild(
        &bytes,
        |_| {},
        |t| {
            t.remove(&name);
        },
    );
    assert!(matches!(error(&missing), BundleError::MissingTensor(n) if n == name));

    let extra = rebuild(
        &bytes,
        |_| {},
        |t| {
            t.insert("spare".into(), (Dtype::F32, vec![1], vec![0; 4]));
        },
    );
    assert!(matches!(error(&extra), BundleError::UnexpectedTensor(n) if n == "spare"));
}

#[test]
fn written_bundles_carry_a_checksum_and_load_without_warnings() {
    let (bytes, ..) = sample();
    let checksum = &metadata(&bytes)["awrsr.checksum"];
    assert!(
        checksum.starts_with("crc32:") && checksum.len() == 14,
        "{checksum}"
    );
    assert!(
        decode(&bytes, &Device::flex())
            .unwrap()
            .header
            .warnings
            .is_empty()
    );
}

#[test]
fn bundles_without_checksum_still_load_with_a_warning() {
    let (bytes, ..) = sample();
    let legacy = rebuild(&bytes, |_| {}, |_| {});
    assert_eq!(
        decode(&legacy, &Device::flex()).unwrap().header.warnings,
        [NO_CHECKSUM_WARNING]
    );

    // The shipped demo model predates checksums: format version 1 stays readable.
    let shipped = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/www/model.awrsr")).unwrap();
    if !metadata(&shipped).contains_key("awrsr.checksum") {
        assert_eq!(
            decode(&shipped, &Device::flex()).unwrap().header.warnings,
            [NO_CHECKSUM_WARNING]
        );
    } else {
        assert!(
            decode(&shipped, &Device::flex())
                .unwrap()
                .header
                .warnings
                .is_empty()
        );
    }
}

/// Flips bit `bit` of `bytes`.
fn flipped(bytes: &[u8], bit: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[bit / 8] ^= 1 << (bit % 8);
    out
}

#[test]
fn every_flipped_bit_is_refused_or_harmless() {
    let (bytes, config, catalogue) = sample();
    let header_end = 8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let (mut refused, mut harmless) = (0, 0);
    // Every bit of the length prefix and the header: refused, or the content is intact
    // (a flip in a key the checksum does not cover, such as `producer`).
    for bit in 0..header_end * 8 {
        match verify(&flipped(&bytes, bit)) {
            Err(_) => refused += 1,
            Ok(v) => {
                assert_eq!(
                    (v.config, v.catalogue),
                    (config.clone(), catalogue.clone()),
                    "bit {bit} changed the content"
                );
                harmless += 1;
            }
        }
    }
    assert!(
        refused > harmless * 10,
        "refused {refused}, harmless {harmless}"
    );
    // Every weight bit: always refused.
    for bit in (header_end * 8..bytes.len() * 8).step_by(7) {
        assert!(
            matches!(
                verify(&flipped(&bytes, bit)),
                Err(BundleError::Corrupted { .. })
            ),
            "weight bit {bit} went unnoticed"
        );
    }
}

fn with_config(bytes: &[u8], field: &str, value: &str) -> Vec<u8> {
    rebuild(
        bytes,
        |m| {
            let mut config: serde_json::Value = serde_json::from_str(&m["awrsr.config"]).unwrap();
            config[field] = serde_json::from_str(value).unwrap();
            m.insert("awrsr.config".into(), config.to_string());
        },
        |_| {},
    )
}

#[test]
fn huge_configuration_numbers_are_refused_before_anything_is_allocated() {
    let (bytes, ..) = sample();
    let values = [
        "100000",
        "1000000000",
        "9223372036854775807",
        "18446744073709551615",
        "10000",
        "4096",
        "1e300",
        "-1",
    ];
    for field in ["num_items", "max_len", "d_model", "layers", "heads"] {
        for value in values {
            let started = std::time::Instant::now();
            let message = error(&with_config(&bytes, field, value)).to_string();
            assert!(
                started.elapsed().as_millis() < 500,
                "{field} = {value} took {:?}",
                started.elapsed()
            );
            let named = ["awrsr.config", "tensor", "parameters", "item ids"]
                .iter()
                .any(|w| message.contains(w));
            assert!(named, "{field} = {value}: {message}");
        }
    }
    let message = error(&with_config(&bytes, "max_len", "10000")).to_string();
    assert!(
        message.contains("max_len 10000 is above the limit of 4096"),
        "{message}"
    );
    // Within the bounds, but not what the tensors hold: named before the network is built.
    let message = error(&with_config(&bytes, "max_len", "4096")).to_string();
    assert!(
        message.contains("4096, 4096]") && message.contains("expected F32"),
        "{message}"
    );
    let message = error(&with_config(&bytes, "refine_scale", "1e39")).to_string();
    assert!(message.contains("awrsr.config"), "{message}");
}

#[test]
fn a_repeat_bonus_out_of_range_is_refused_and_one_within_it_is_read() {
    let (bytes, ..) = sample();
    for (value, named) in [
        (
            r#"{"bonus":-1,"decay":1}"#,
            "repeat bonus -1 is not a number in [0, 100]",
        ),
        (
            r#"{"bonus":0.5,"decay":2}"#,
            "repeat decay 2 is not a number in [0, 1]",
        ),
        (r#"{"bonus":1e39,"decay":1}"#, "awrsr.config"),
        (r#"{"bonus":0.5}"#, "awrsr.config"),
        (r#"{"bonus":0.5,"decay":1,"boost":1}"#, "awrsr.config"),
    ] {
        let message = error(&with_config(&bytes, "repeat", value)).to_string();
        assert!(message.contains(named), "{value}: {message}");
    }
    let read = awrsr::bundle::verify(&with_config(
        &bytes,
        "repeat",
        r#"{"bonus":0.5,"decay":0.25}"#,
    ))
    .unwrap();
    assert_eq!(read.config.repeat.at(1), 0.5);
    assert_eq!(read.config.repeat.at(3), 0.5 * 0.25 * 0.25);
}

#[test]
fn non_finite_weights_are_refused() {
    let (bytes, ..) = sample();
    for (value, shown) in [
        (f32::NAN, "NaN"),
        (f32::INFINITY, "inf"),
        (f32::NEG_INFINITY, "-inf"),
    ] {
        let bad = rebuild(
            &bytes,
            |_| {},
            |t| {
                let data = &mut t.get_mut("blocks.1.ffn_in.weight").unwrap().2;
                data[12..16].copy_from_slice(&value.to_le_bytes());
            },
        );
        match error(&bad) {
            BundleError::NonFinite { name, index, value } => {
                assert_eq!(
                    (name.as_str(), index, value.to_string().as_str()),
                    ("blocks.1.ffn_in.weight", 3, shown)
                );
            }
            other => panic!("expected a non-finite error, got {other}"),
        }
    }
}

#[test]
fn length_and_unknown_keys_are_checked() {
    let (bytes, ..) = sample();
    let mut longer = bytes.clone();
    longer.extend_from_slice(&[0; 10]);
    let message = error(&longer).to_string();
    assert!(message.contains("10 bytes after the"), "{message}");
    let message = error(&bytes[..bytes.len() - 1]).to_string();
    assert!(message.contains("truncated"), "{message}");

    let extra = rebuild(
        &bytes,
        |m| {
            m.insert("awrsr.tktles".into(), "[]".into());
        },
        |_| {},
    );
    assert!(matches!(error(&extra), BundleError::UnknownMetadata(k) if k == "awrsr.tktles"));
    let bad_sum = rebuild(
        &bytes,
        |m| {
            m.insert("awrsr.checksum".into(), "md5:1".into());
        },
        |_| {},
    );
    assert!(matches!(
        error(&bad_sum),
        BundleError::BadMetadata {
            key: "awrsr.checksum",
            ..
        }
    ));

    let long_id = "x".repeat(1_000_000);
    let long = rebuild(
        &bytes,
        |m| {
            m.insert(
                "awrsr.items".into(),
                serde_json::json!([long_id, "b", long_id, "d"]).to_string(),
            );
        },
        |_| {},
    );
    let message = error(&long).to_string();
    assert!(
        message.contains("appears twice") && message.len() < 300,
        "{} chars",
        message.len()
    );
}

#[test]
fn the_layout_computed_from_a_config_is_the_network_s() {
    use burn::store::ModuleSnapshot;
    let device = Device::flex();
    for refinement in [
        Refinement::None,
        Refinement::Simple,
        Refinement::Value,
        Refinement::Additive,
    ] {
        for (layers, heads) in [(1, 1), (3, 2)] {
            let config = ModelConfig {
                max_len: 5,
                d_model: 4,
                layers,
                heads,
                refinement,
                ..ModelConfig::new(7)
            };
            let mut network: Vec<(String, Vec<usize>)> = config
                .init(&device)
                .collect(None, None, false)
                .into_iter()
                .map(|t| (t.name.clone(), t.shape.to_vec()))
                .collect();
            network.sort();
            assert_eq!(layout::tensors(&config), network, "{config:?}");
        }
    }
}

#[test]
fn a_huge_string_in_the_header_gives_a_short_message() {
    let (bytes, ..) = sample();
    let huge = "z".repeat(5_000_000);
    for key in [
        "awrsr.config",
        "awrsr.version",
        "awrsr.format",
        "awrsr.checksum",
    ] {
        let bad = rebuild(
            &bytes,
            |m| {
                m.insert(key.into(), format!("\"{huge}\""));
            },
            |_| {},
        );
        let message = error(&bad).to_string();
        assert!(
            message.len() < 400,
            "{key}: a {}-byte message",
            message.len()
        );
    }
    // A header that is not JSON, quoting a long string.
    let header = format!("{{\"x\": {{\"dtype\": \"{huge}\"}}}}");
    let mut raw = (header.len() as u64).to_le_bytes().to_vec();
    raw.extend_from_slice(header.as_bytes());
    let message = error(&raw).to_string();
    assert!(message.len() < 400, "a {}-byte message", message.len());
}

#[test]
fn a_model_with_non_finite_weights_is_never_written() {
    use burn::module::Param;
    use burn::tensor::Tensor;
    let device = Device::flex();
    let (_, config, catalogue) = sample();
    let mut model = config.init(&device);
    model.positions.weight = Param::from_tensor(Tensor::full(
        [config.max_len, config.d_model],
        f32::NAN,
        &device,
    ));
    match encode(&model, &config, &catalogue, Precision::F32) {
        Err(BundleError::NonFinite { name, .. }) => assert_eq!(name, "positions.weight"),
        other => panic!("expected a non-finite error, got {other:?}"),
    }
}

/// Scores of every item for a fixed session, through the loaded network.
fn sample_scores(bytes: &[u8]) -> Vec<f32> {
    let device = Device::flex();
    let loaded = decode(bytes, &device).unwrap();
    let encoded = loaded.model.encode(input_tensor(
        &[&[1, 3, 2]],
        loaded.header.config.max_len,
        &device,
    ));
    let hidden = awrsr::model::Awrsr::last_hidden(&encoded);
    loaded
        .model
        .score_all(hidden)
        .into_data()
        .try_into_vec::<f32>()
        .unwrap()
}

#[test]
fn narrow_precisions_are_smaller_close_and_checked() {
    let (bytes, config, catalogue) = sample();
    let exact = sample_scores(&bytes);
    let loaded = decode(&bytes, &Device::flex()).unwrap();
    for (precision, dtype, tolerance) in [
        (Precision::F16, Dtype::F16, 2e-2),
        (Precision::Int8, Dtype::I8, 5e-2),
    ] {
        let narrow = encode(&loaded.model, &config, &catalogue, precision).unwrap();
        assert!(
            narrow.len() < bytes.len(),
            "{precision:?}: {} vs {} bytes",
            narrow.len(),
            bytes.len()
        );
        assert_eq!(metadata(&narrow)["awrsr.precision"], precision.name());
        let stored = tensors(&narrow);
        assert_eq!(stored["items.weight"].0, dtype);
        let verified = verify(&narrow).unwrap();
        assert_eq!(verified.precision, precision);
        assert!(verified.warnings.is_empty(), "{:?}", verified.warnings);
        let close = sample_scores(&narrow);
        let worst = exact
            .iter()
            .zip(&close)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < tolerance, "{precision:?}: scores move by {worst}");
        // Widened and written back as f32, then narrowed again: the same bytes.
        let widened = decode(&narrow, &Device::flex()).unwrap();
        let again = encode(&widened.model, &config, &catalogue, precision).unwrap();
        assert_eq!(
            tensors(&again),
            stored,
            "{precision:?} is stable under a round trip"
        );
    }
    let int8 = encode(&loaded.model, &config, &catalogue, Precision::Int8).unwrap();
    let scales = &tensors(&int8)["items.weight.scale"];
    assert_eq!(
        (scales.0, scales.1.clone()),
        (Dtype::F16, vec![config.num_items + 1])
    );
    assert!(
        tensors(&int8).contains_key("blocks.0.norm_ffn.gamma"),
        "vectors stay f32"
    );
    assert_eq!(tensors(&int8)["blocks.0.norm_ffn.gamma"].0, Dtype::F32);
}

#[test]
fn narrow_bundles_that_lie_are_refused() {
    let (bytes, config, catalogue) = sample();
    let loaded = decode(&bytes, &Device::flex()).unwrap();
    let int8 = encode(&loaded.model, &config, &catalogue, Precision::Int8).unwrap();
    let error = |bytes: &[u8]| verify(bytes).unwrap_err().to_string();
    // An unknown precision name.
    let odd = rebuild(
        &int8,
        |m| {
            m.insert("awrsr.precision".into(), "int4".into());
        },
        |_| {},
    );
    assert!(
        error(&odd).contains("awrsr.precision") && error(&odd).contains("int4"),
        "{}",
        error(&odd)
    );
    // Int8 tensors in a bundle that claims f32 (key removed).
    let unlabelled = rebuild(
        &int8,
        |m| {
            m.remove("awrsr.precision");
        },
        |_| {},
    );
    assert!(
        error(&unlabelled).contains("unexpected tensor"),
        "{}",
        error(&unlabelled)
    );
    // A scale tensor missing.
    let no_scale = rebuild(
        &int8,
        |_| {},
        |t| {
            t.remove("items.weight.scale");
        },
    );
    assert!(
        error(&no_scale).contains("items.weight.scale"),
        "{}",
        error(&no_scale)
    );
    // A NaN scale.
    let nan_scale = rebuild(
        &int8,
        |_| {},
        |t| {
            let scale = t.get_mut("items.weight.scale").unwrap();
            scale.2[2..4].copy_from_slice(&half::f16::NAN.to_le_bytes());
        },
    );
    assert!(
        error(&nan_scale).contains("non-finite")
            && error(&nan_scale).contains("items.weight.scale"),
        "{}",
        error(&nan_scale)
    );
    // An infinite f16 weight.
    let f16 = encode(&loaded.model, &config, &catalogue, Precision::F16).unwrap();
    let inf = rebuild(
        &f16,
        |_| {},
        |t| {
            let w = t.get_mut("positions.weight").unwrap();
            w.2[0..2].copy_from_slice(&half::f16::INFINITY.to_le_bytes());
        },
    );
    assert!(
        error(&inf).contains("non-finite") && error(&inf).contains("positions.weight"),
        "{}",
        error(&inf)
    );
    // A flipped bit in the int8 data is caught by the checksum.
    let mut flipped = int8.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    assert!(error(&flipped).contains("corrupted"), "{}", error(&flipped));
}

/// Loading for serving holds the item table once: the network keeps one item row, the
/// table comes back whole, and every other weight is the full load's, in every precision.
#[test]
fn serving_loads_the_item_table_once_in_every_precision() {
    let (bytes, config, catalogue) = sample();
    let device = Device::flex();
    let model = decode(&bytes, &device).unwrap().model;
    for precision in [Precision::F32, Precision::F16, Precision::Int8] {
        let narrow = encode(&model, &config, &catalogue, precision).unwrap();
        let full = decode(&narrow, &device).unwrap();
        let served = decode_for_serving(&narrow, &device).unwrap();
        assert_eq!(
            served.model.items.weight.dims(),
            [1, config.d_model],
            "{precision:?}"
        );
        assert_eq!(served.item_table, full.item_table, "{precision:?}");
        assert_eq!(served.header.catalogue.ids(), catalogue.ids());
        let weights = |m: &awrsr::model::Awrsr| {
            let positions = m.positions.weight.val().into_data();
            let norm = m.final_norm.gamma.val().into_data();
            [positions, norm].map(|t| t.try_into_vec::<f32>().unwrap())
        };
        assert_eq!(
            weights(&served.model),
            weights(&full.model),
            "{precision:?}"
        );
    }
}
