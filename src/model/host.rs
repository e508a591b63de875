//! A network's weights read back to the host, asynchronously, as WebGPU requires: what the
//! studio validates and stores a model trained on the GPU with (burn's CPU backend reads
//! synchronously; a browser's WebGPU cannot).

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor, TensorData, Transaction};

use super::{Awrsr, ModelConfig};

/// A copy of `model` (of `config`) on burn's CPU device, its weights read back in one
/// asynchronous transaction.
pub async fn to_host(model: &Awrsr, config: &ModelConfig) -> Result<Awrsr, String> {
    let mut weights = Weights(Transaction::default());
    model.visit(&mut weights);
    let data = weights
        .0
        .execute_async()
        .await
        .map_err(|e| format!("reading the weights back failed: {e:?}"))?;
    let host = Device::flex();
    let mut fill = Fill {
        data: data.into_iter(),
        device: host.clone(),
    };
    Ok(config.init(&host).map(&mut fill))
}

/// Registers every float parameter, in visiting order.
struct Weights(Transaction);

impl ModuleVisitor for Weights {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let transaction = std::mem::take(&mut self.0);
        self.0 = transaction.register(param.val());
    }
}

/// Sets every float parameter from `data`, in visiting order (the same network's).
struct Fill {
    data: std::vec::IntoIter<TensorData>,
    device: Device,
}

impl ModuleMapper for Fill {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let data = self.data.next().expect("one read-back per parameter");
        let device = self.device.clone();
        param.map(|_| Tensor::from_data(data, &device))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The copy holds the same weights (on the CPU: the copy is exact).
    #[test]
    fn the_host_copy_has_the_same_weights() {
        let mut config = ModelConfig::new(12);
        (config.max_len, config.d_model) = (5, 8);
        let model = config.init(&Device::flex());
        let copy = pollster::block_on(to_host(&model, &config)).unwrap();
        let (a, b) = (
            crate::train::checkpoint::save_module(&model).unwrap(),
            crate::train::checkpoint::save_module(&copy).unwrap(),
        );
        assert_eq!(a.len(), b.len());
        let weight = |m: &Awrsr| {
            m.items
                .weight
                .val()
                .into_data()
                .try_to_vec::<f32>()
                .unwrap()
        };
        assert_eq!(weight(&model), weight(&copy));
        assert_ne!(weight(&model), weight(&config.init(&Device::flex())));
    }
}
