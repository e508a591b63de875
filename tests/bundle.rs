//! The model bundle: exact round trip and a precise error for every kind of bad file.

use std::collections::HashMap;

use awrsr::bundle::{BundleError, decode, encode};
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
    let titles = vec![Some("Alpha".into()), None, Some("Ça <b>va</b>".into()), Some("Forty-two".into())];
    let catalogue = Catalogue::new(ids, titles).unwrap();
    let model = config.init(&device);
    (encode(&model, &config, &catalogue).unwrap(), config, catalogue)
}

fn tensors(bytes: &[u8]) -> HashMap<String, (Dtype, Vec<usize>, Vec<u8>)> {
    let st = SafeTensors::deserialize(bytes).unwrap();
    st.tensors().into_iter().map(|(name, v)| (name, (v.dtype(), v.shape().to_vec(), v.data().to_vec()))).collect()
}

fn metadata(bytes: &[u8]) -> HashMap<String, String> {
    SafeTensors::read_metadata(bytes).unwrap().1.metadata().clone().unwrap()
}

/// Rewrites a bundle with changed metadata and tensors, without its checksum (as an older
/// awrsr wrote it), so that the later checks are reached.
fn rebuild(bytes: &[u8], edit_meta: impl FnOnce(&mut HashMap<String, String>), edit_tensors: impl FnOnce(&mut HashMap<String, (Dtype, Vec<usize>, Vec<u8>)>)) -> Vec<u8> {
    let mut meta = metadata(bytes);
    meta.remove("awrsr.checksum");
    let mut all = tensors(bytes);
    edit_meta(&mut meta);
    edit_tensors(&mut all);
    let views: Vec<(String, TensorView)> = all
        .iter()
        .map(|(name, (dtype, shape, data))| (name.clone(), TensorView::new(*dtype, shape.clone(), data).unwrap()))
        .collect();
    safetensors::serialize(views, Some(meta)).unwrap()
}

#[test]
fn round_trip_is_exact() {
    let device = Device::flex();
    let (bytes, config, catalogue) = sample();
    let loaded = decode(&bytes, &device).unwrap();
    assert_eq!(loaded.config, config);
    assert_eq!(loaded.catalogue, catalogue);
    let again = encode(&loaded.model, &loaded.config, &loaded.catalogue).unwrap();
    assert_eq!(tensors(&bytes), tensors(&again), "every tensor byte survives");
    assert_eq!(metadata(&bytes).get("awrsr.config"), metadata(&again).get("awrsr.config"));

    let first = decode(&again, &device).unwrap();
    let input = || input_tensor(&[&[1, 3, 2][..]], config.max_len, &device);
    let a = loaded.model.encode(input()).hidden.into_data().try_to_vec::<f32>().unwrap();
    let b = first.model.encode(input()).hidden.into_data().try_to_vec::<f32>().unwrap();
    assert_eq!(a, b);
}

fn error(bytes: &[u8]) -> BundleError {
    decode(bytes, &Device::flex()).expect_err("the bundle is bad")
}

#[test]
fn truncated_and_foreign_files_are_refused() {
    let (bytes, ..) = sample();
    assert!(matches!(error(&bytes[..bytes.len() / 2]), BundleError::NotSafetensors(_)));
    assert!(matches!(error(&bytes[..5]), BundleError::NotSafetensors(_)));
    assert!(matches!(error(b"<html>not a model</html>"), BundleError::NotSafetensors(_)));
    assert!(matches!(error(&[]), BundleError::NotSafetensors(_)));

    let foreign = rebuild(&bytes, |m| { m.remove("awrsr.format"); }, |_| {});
    let message = error(&foreign).to_string();
    assert!(message.contains("not an awrsr model bundle"), "{message}");
    let other = rebuild(&bytes, |m| { m.insert("awrsr.format".into(), "other".into()); }, |_| {});
    assert!(matches!(error(&other), BundleError::WrongTag(tag) if tag == "other"));
}

#[test]
fn version_and_metadata_problems_are_named() {
    let (bytes, ..) = sample();
    let future = rebuild(&bytes, |m| { m.insert("awrsr.version".into(), "99".into()); }, |_| {});
    assert!(matches!(error(&future), BundleError::UnsupportedVersion { found } if found == "99"));

    let config = rebuild(&bytes, |m| { m.insert("awrsr.config".into(), "{\"num_items\": ".into()); }, |_| {});
    assert!(matches!(error(&config), BundleError::BadMetadata { key: "awrsr.config", .. }));

    let heads = rebuild(&bytes, |m| {
        let c = m["awrsr.config"].replace("\"heads\":1", "\"heads\":3");
        m.insert("awrsr.config".into(), c);
    }, |_| {});
    let message = error(&heads).to_string();
    assert!(message.contains("divisible"), "{message}");

    let items = rebuild(&bytes, |m| { m.insert("awrsr.items".into(), "[\"a\",\"b\"]".into()); }, |_| {});
    let message = error(&items).to_string();
    assert!(message.contains("2 item ids for a model of 4 items"), "{message}");

    let duplicate = rebuild(&bytes, |m| { m.insert("awrsr.items".into(), "[\"a\",\"b\",\"a\",\"c\"]".into()); }, |_| {});
    assert!(error(&duplicate).to_string().contains("\"a\" appears twice"));

    let missing = rebuild(&bytes, |m| { m.remove("awrsr.items"); }, |_| {});
    assert!(matches!(error(&missing), BundleError::BadMetadata { key: "awrsr.items", .. }));
}

#[test]
fn tensor_problems_are_named() {
    let (bytes, ..) = sample();
    let name = "items.weight".to_string();

    let shape = rebuild(&bytes, |_| {}, |t| {
        let (dtype, _, data) = t.remove(&name).unwrap();
        t.insert(name.clone(), (dtype, vec![8, 5], data));
    });
    match error(&shape) {
        BundleError::BadTensor { name: n, expected, found } => {
            assert_eq!(n, name);
            assert_eq!(expected, "F32 [5, 8]");
            assert_eq!(found, "F32 [8, 5]");
        }
        other => panic!("expected a tensor error, got {other}"),
    }

    let dtype = rebuild(&bytes, |_| {}, |t| {
        let (_, shape, data) = t.remove(&name).unwrap();
        t.insert(name.clone(), (Dtype::I32, shape, data));
    });
    assert!(matches!(error(&dtype), BundleError::BadTensor { .. }));

    let missing = rebuild(&bytes, |_| {}, |t| { t.remove(&name); });
    assert!(matches!(error(&missing), BundleError::MissingTensor(n) if n == name));

    let extra = rebuild(&bytes, |_| {}, |t| { t.insert("spare".into(), (Dtype::F32, vec![1], vec![0; 4])); });
    assert!(matches!(error(&extra), BundleError::UnexpectedTensor(n) if n == "spare"));
}
