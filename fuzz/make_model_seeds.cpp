// Writes the seed corpus of fuzz_load_model: a few small models and weights files covering every
// layer type, optimizer and loss the format knows, float and double, built and unbuilt.
// Usage: make_model_seeds OUTPUT_FOLDER  (fuzz/run.sh seeds runs it into fuzz/corpus/load_model).
#include <kerascpp/serialization.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

namespace {

using namespace kerascpp;

template <typename Scalar>
void train(Sequential<Scalar>& model, Index inputs, Index outputs, bool sparse = false) {
  Matrix<Scalar> x(6, inputs), y(6, sparse ? 1 : outputs);
  for (Index i = 0; i < x.rows(); ++i) {
    for (Index j = 0; j < inputs; ++j) x(i, j) = static_cast<Scalar>(std::sin(0.7 * static_cast<double>(i * inputs + j)));
    for (Index j = 0; j < y.cols(); ++j) y(i, j) = sparse ? static_cast<Scalar>(i % outputs) : static_cast<Scalar>((i + j) % 2);
  }
  model.train_on_batch(x, y);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_FOLDER\n", argv[0]);
    return 2;
  }
  const std::filesystem::path out = argv[1];
  std::filesystem::create_directories(out);

  Sequential<float> tiny;
  tiny.set_seed(7);
  tiny.add(layers::Dense<float>(2, "relu", input_shape{2}));
  tiny.add(layers::Dropout<float>(0.25));
  tiny.add(layers::BatchNormalization<float>());
  tiny.add(layers::Dense<float>(1, "sigmoid"));
  tiny.compile(optimizers::Adam<float>(0.05), "binary_crossentropy", {"accuracy"});
  train(tiny, 2, 1);
  save_model(tiny, out / "tiny_adam_bce.kcpp");
  save_weights(tiny, out / "tiny.weights.kcpp");

  Sequential<double> sgd;
  sgd.add(layers::Dense<double>(3, "tanh", input_shape{2}));
  sgd.add(layers::Dense<double>(1));
  sgd.compile(optimizers::SGD<double>(0.05, 0.9, true), losses::Huber<double>(0.5), {"mae"});
  train(sgd, 2, 1);
  save_model(sgd, out / "double_sgd_huber.kcpp");

  Sequential<float> softmax;
  softmax.add(layers::Dense<float>(3, "linear", input_shape{2}, false));
  softmax.add(layers::Activation<float>("softmax"));
  softmax.compile(optimizers::RMSprop<float>(0.01, 0.9, 0.5, 1e-7, true), losses::CategoricalCrossentropy<float>(false, 0.1),
                  {"categorical_accuracy"});
  train(softmax, 2, 3);
  save_model(softmax, out / "rmsprop_cce.kcpp");

  Sequential<float> metric_objects;
  metric_objects.add(layers::Dense<float>(3, "sigmoid", input_shape{2}));
  metric_objects.compile("sgd", "binary_crossentropy",
                         {metrics::AUC<float>(50, "PR", "majoring", "pr_auc", {0.2, 0.6}),
                          metrics::Precision<float>(0.7, 1), metrics::F1Score<float>("macro", 0.4),
                          metrics::FBetaScore<float>(std::nullopt, 2.0), "accuracy"});
  train(metric_objects, 2, 3);
  save_model(metric_objects, out / "sgd_bce_metric_objects.kcpp");

  Sequential<float> sparse;
  sparse.add(layers::Dense<float>(3, "softmax", input_shape{2}, true, "he_normal", "zeros", regularizers::l2(0.01)));
  sparse.compile(optimizers::Adagrad<float>(), losses::SparseCategoricalCrossentropy<float>(true), {"accuracy"});
  train(sparse, 2, 3, true);
  save_model(sparse, out / "adagrad_scce.kcpp");

  Sequential<float> adamw;
  adamw.add(layers::BatchNormalization<float>(0.9, 1e-3, input_shape{2}));
  adamw.add(layers::Dropout<float>(0.5, 99));
  adamw.add(layers::Dense<float>(1));
  adamw.compile(optimizers::AdamW<float>(), "mse", {"rmse"});
  save_model(adamw, out / "adamw_mse_unbuilt_optimizer.kcpp");

  Sequential<float> unbuilt;
  unbuilt.add(layers::Dense<float>(4, "gelu"));
  unbuilt.add(layers::Dense<float>(1));
  save_model(unbuilt, out / "unbuilt_uncompiled.kcpp");
  return 0;
}
