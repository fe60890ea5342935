// kerascpp/layers.hpp — every layer: Dense, Activation, Dropout, BatchNormalization, Normalization,
// and the layer registry of Scalar with them.
#pragma once

#include <kerascpp/layers/activation.hpp>
#include <kerascpp/layers/batch_normalization.hpp>
#include <kerascpp/layers/dense.hpp>
#include <kerascpp/layers/dropout.hpp>
#include <kerascpp/layers/layer.hpp>
#include <kerascpp/layers/normalization.hpp>
#include <kerascpp/registry.hpp>

#include <vector>

namespace kerascpp {

/// The layer registry of Scalar, with the built-in layers first (each with the codec its own header
/// defines).
template <typename Scalar>
Registry<LayerEntry<Scalar>>& layer_registry() {
  namespace l = layers;
  return registry_with_builtins<LayerEntry<Scalar>>([] {
    return std::vector{
        layer_entry<l::Dense<Scalar>, l::DenseCodec<Scalar>>("Dense"),
        layer_entry<l::Activation<Scalar>, l::ActivationCodec<Scalar>>("Activation"),
        layer_entry<l::Dropout<Scalar>, l::DropoutCodec<Scalar>>("Dropout"),
        layer_entry<l::BatchNormalization<Scalar>, l::BatchNormalizationCodec<Scalar>>("BatchNormalization"),
        layer_entry<l::Normalization<Scalar>, l::NormalizationCodec<Scalar>>("Normalization")};
  });
}

}  // namespace kerascpp
