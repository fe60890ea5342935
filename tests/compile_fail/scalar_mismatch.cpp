// Must not compile: objects of another Scalar in a Sequential<double>, one case per function, all
// in one program so that one compile reports every case; the test scalar_mismatch checks that the
// compiler's messages name the fix for each (tests/compile_fail/expect_errors.cmake).
#include <kerascpp/kerascpp.hpp>

namespace k = kerascpp;

k::Sequential<double> model_of_double() { return k::Sequential<double>{k::layers::Dense<double>(1, "sigmoid", k::input_shape{2})}; }

void layers() { k::Sequential<double> model{k::layers::Dense(4, "relu", k::input_shape{2}), k::layers::Dense(1)}; }  // Dense<float>

void add() { model_of_double().add(k::layers::Dense(1)); }

void callback() {
  auto model = model_of_double();
  model.compile("adam", "binary_crossentropy");
  k::callbacks::EarlyStopping stop({.patience = 3});  // EarlyStopping<float>
  const k::Matrix<double> x = k::Matrix<double>::Zero(8, 2), y = k::Matrix<double>::Zero(8, 1);
  model.fit(x, y, {.callbacks = {&stop}});
}

void metric() { model_of_double().compile("adam", "binary_crossentropy", {k::metrics::AUC<float>()}); }

void optimizer() { model_of_double().compile(k::optimizers::Adam(1e-3), "binary_crossentropy"); }  // Adam<float>

void loss() { model_of_double().compile("adam", k::losses::BinaryCrossentropy()); }  // BinaryCrossentropy<float>

int main() {
  layers();
  add();
  callback();
  metric();
  optimizer();
  loss();
}
