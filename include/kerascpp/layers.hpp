// kerascpp/layers.hpp — every layer: Dense, Activation, Dropout, BatchNormalization.
#pragma once

// In this order: the layer registry lists the types in the order they register.
#include <kerascpp/layers/dense.hpp>
#include <kerascpp/layers/activation.hpp>
#include <kerascpp/layers/dropout.hpp>
#include <kerascpp/layers/batch_normalization.hpp>
#include <kerascpp/layers/layer.hpp>
