//! The item table as served: both of its layouts (on the device, on the host with the
//! scoring kernel) give the same embeddings and scores as the model's own table.

use awrsr::bundle::{Precision, decode, encode};
use awrsr::catalogue::Catalogue;
use awrsr::model::{Awrsr, ModelConfig, input_tensor};
use awrsr::scoring::ServingItems;
use burn::tensor::{Device, Distribution, Tensor};

fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

#[test]
fn served_embeddings_and_scores_match_the_model_table() {
    let device = Device::flex();
    let mut config = ModelConfig::new(203); // not a multiple of the kernel's block
    config.max_len = 7;
    config.d_model = 12;
    let model = config.init(&device);
    let ids = (0..config.num_items)
        .map(|i| format!("i{i}"))
        .collect::<Vec<_>>();
    let catalogue = Catalogue::new(ids, vec![None; config.num_items]).unwrap();
    let bytes = encode(&model, &config, &catalogue, Precision::F32).unwrap();
    let window = [5u32, 203, 1, 77];
    let hidden = Tensor::<2>::random([1, config.d_model], Distribution::Normal(0.0, 1.0), &device);
    let expected_scores = floats(model.score_all(hidden.clone()));
    let input = input_tensor(&[&window], config.max_len, &device);
    let expected_hidden = floats(Awrsr::last_hidden(&model.encode(input)));

    for on_host in [false, true] {
        let table = decode(&bytes, &device).unwrap().item_table;
        let items = ServingItems::from_table(&table, &config, on_host, &device).unwrap();
        let scores = items.finish(floats(items.to_read(hidden.clone())));
        assert_eq!(scores.len(), config.num_items);
        for (j, (got, want)) in scores.iter().zip(&expected_scores).enumerate() {
            assert!(
                (got - want).abs() <= 1e-5 * want.abs().max(1.0),
                "on_host {on_host}: item {}: {got} vs {want}",
                j + 1
            );
        }
        let embedded = items.embed(&[&window], config.max_len, &device);
        let input = input_tensor(&[&window], config.max_len, &device);
        let got_hidden = floats(Awrsr::last_hidden(
            &model.encode_embedded(embedded, input, true),
        ));
        for (got, want) in got_hidden.iter().zip(&expected_hidden) {
            assert!(
                (got - want).abs() <= 1e-5,
                "on_host {on_host}: hidden {got} vs {want}"
            );
        }
    }
}
