// tests/library_instances.hpp — the library's class templates for float and double, compiled once
// for all test programs that share them. The test programs see these declarations first (CMake
// adds the header before each of their sources) and so use the instances of
// library_instances.cpp, built once per Scalar with the same flags, instead of compiling
// Sequential<float>::fit and the rest again in each program: the tests run the same code.
#pragma once

#include <kerascpp/kerascpp.hpp>
#include <kerascpp/classification_report.hpp>
#include <kerascpp/data.hpp>

// Every class template of the library with Scalar as its one parameter, the family registries, and
// the saving functions (each pulls in the whole file codec).
#define KERASCPP_TEST_LIBRARY_INSTANCES(EXTERN, S)                                     \
  EXTERN template class kerascpp::Sequential<S>;                                       \
  EXTERN template struct kerascpp::engine::Network<S>;                                 \
  EXTERN template class kerascpp::engine::Trainer<S>;                                  \
  EXTERN template class kerascpp::engine::Workers<S>;                                  \
  EXTERN template class kerascpp::engine::Stager<S>;                                   \
  EXTERN template class kerascpp::ParameterStore<S>;                                   \
  EXTERN template class kerascpp::Param<S>;                                            \
  EXTERN template class kerascpp::History<S>;                                          \
  EXTERN template class kerascpp::Optimizer<S>;                                        \
  EXTERN template class kerascpp::optimizers::SGD<S>;                                  \
  EXTERN template class kerascpp::optimizers::Adam<S>;                                 \
  EXTERN template class kerascpp::optimizers::AdamW<S>;                                \
  EXTERN template class kerascpp::optimizers::RMSprop<S>;                              \
  EXTERN template class kerascpp::optimizers::Adagrad<S>;                              \
  EXTERN template class kerascpp::layers::Dense<S>;                                    \
  EXTERN template class kerascpp::layers::Dropout<S>;                                  \
  EXTERN template class kerascpp::layers::BatchNormalization<S>;                       \
  EXTERN template class kerascpp::layers::Normalization<S>;                            \
  EXTERN template class kerascpp::layers::Activation<S>;                               \
  EXTERN template class kerascpp::losses::BinaryCrossentropy<S>;                       \
  EXTERN template class kerascpp::losses::CategoricalCrossentropy<S>;                  \
  EXTERN template class kerascpp::losses::SparseCategoricalCrossentropy<S>;            \
  EXTERN template class kerascpp::losses::Huber<S>;                                    \
  EXTERN template class kerascpp::losses::MeanAbsoluteError<S>;                        \
  EXTERN template class kerascpp::losses::MeanSquaredError<S>;                         \
  EXTERN template class kerascpp::metrics::AUC<S>;                                     \
  EXTERN template class kerascpp::metrics::Precision<S>;                               \
  EXTERN template class kerascpp::metrics::Recall<S>;                                  \
  EXTERN template class kerascpp::metrics::F1Score<S>;                                 \
  EXTERN template class kerascpp::metrics::FBetaScore<S>;                              \
  EXTERN template class kerascpp::callbacks::ProgbarLogger<S>;                         \
  EXTERN template class kerascpp::callbacks::ModelCheckpoint<S>;                       \
  EXTERN template class kerascpp::callbacks::EarlyStopping<S>;                         \
  EXTERN template class kerascpp::callbacks::CSVLogger<S>;                             \
  EXTERN template class kerascpp::callbacks::ReduceLROnPlateau<S>;                     \
  EXTERN template class kerascpp::data::CsvDataset<S>;                                 \
  EXTERN template kerascpp::Registry<kerascpp::LayerEntry<S>>& kerascpp::layer_registry<S>();         \
  EXTERN template kerascpp::Registry<kerascpp::OptimizerEntry<S>>& kerascpp::optimizer_registry<S>(); \
  EXTERN template kerascpp::Registry<kerascpp::LossEntry<S>>& kerascpp::loss_registry<S>();           \
  EXTERN template kerascpp::Registry<kerascpp::metrics::MetricEntry<S>>& kerascpp::metrics::registry<S>(); \
  EXTERN template kerascpp::Registry<kerascpp::OptimizerEntry<S>>& kerascpp::detail::optimizer_makers<S>(); \
  EXTERN template kerascpp::Registry<kerascpp::LossEntry<S>>& kerascpp::detail::loss_makers<S>();       \
  EXTERN template std::unique_ptr<kerascpp::Optimizer<S>> kerascpp::optimizers::get<S>(std::string_view);  \
  EXTERN template std::unique_ptr<kerascpp::Loss<S>> kerascpp::losses::get<S>(std::string_view);           \
  EXTERN template std::unique_ptr<kerascpp::Metric<S>> kerascpp::metrics::get<S>(std::string_view, kerascpp::Index, kerascpp::Index); \
  EXTERN template std::string kerascpp::serialization::encode_model<S>(const kerascpp::Sequential<S>&);                  \
  EXTERN template std::string kerascpp::serialization::encode_weights<S>(const kerascpp::Sequential<S>&);                \
  EXTERN template kerascpp::Sequential<S> kerascpp::serialization::decode_model<S>(std::string_view, std::string_view);   \
  EXTERN template void kerascpp::serialization::decode_weights_into<S>(kerascpp::Sequential<S>&, std::string_view,       \
                                                                       std::string_view);                                 \
  EXTERN template void kerascpp::save_model<S>(const kerascpp::Sequential<S>&, const std::filesystem::path&);            \
  EXTERN template kerascpp::Sequential<S> kerascpp::load_model<S>(const std::filesystem::path&);                         \
  EXTERN template void kerascpp::save_weights<S>(const kerascpp::Sequential<S>&, const std::filesystem::path&);          \
  EXTERN template void kerascpp::load_weights<S>(kerascpp::Sequential<S>&, const std::filesystem::path&);                \
  EXTERN template void kerascpp::save_model_interface<S>(kerascpp::ModelInterface<S>&, const std::filesystem::path&, bool);

#ifndef KERASCPP_TEST_INSTANTIATE
KERASCPP_TEST_LIBRARY_INSTANCES(extern, float)
KERASCPP_TEST_LIBRARY_INSTANCES(extern, double)
#endif
