//! Recommending through the Rust API: the session's items stay out of the answer, also the
//! ones older than the window the model reads.

use awrsr::bundle::encode;
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
    let bytes = encode(&config.init(&device), &config, &catalogue).unwrap();
    let recommender = Recommender::from_bytes(&bytes, &device).unwrap();
    let session: Vec<String> = ["a", "b", "c", "d"].map(String::from).to_vec();
    let request = Request { session: session.clone(), k: Some(6), ..Request::default() };
    let answer = pollster::block_on(recommender.recommend(&request)).unwrap();
    let got: Vec<&str> = answer.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(got.len(), 2, "six items, four viewed: {got:?}");
    assert!(got.iter().all(|id| !session.iter().any(|s| s == id)), "{got:?}");
    let keep = Request { exclude_seen: Some(false), ..request };
    assert_eq!(pollster::block_on(recommender.recommend(&keep)).unwrap().items.len(), 6);
}
