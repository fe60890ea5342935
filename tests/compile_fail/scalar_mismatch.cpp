// Must not compile: an object of another Scalar in a Sequential<double>. Built once per case
// (KERASCPP_CASE 1 to 6); the tests scalar_mismatch_* check that the compiler's message names the fix.
#include <kerascpp/kerascpp.hpp>

int main() {
  using namespace kerascpp;
#if KERASCPP_CASE == 1
  Sequential<double> model{layers::Dense(4, "relu", input_shape{2}), layers::Dense(1)};  // Dense<float> layers
#else
  Sequential<double> model{layers::Dense<double>(1, "sigmoid", input_shape{2})};
#endif
#if KERASCPP_CASE == 2
  model.add(layers::Dense(1));
#elif KERASCPP_CASE == 3
  model.compile("adam", "binary_crossentropy");
  callbacks::EarlyStopping stop({.patience = 3});  // EarlyStopping<float>
  const Matrix<double> x = Matrix<double>::Zero(8, 2), y = Matrix<double>::Zero(8, 1);
  model.fit(x, y, {.callbacks = {&stop}});
#elif KERASCPP_CASE == 4
  model.compile("adam", "binary_crossentropy", {metrics::AUC<float>()});
#elif KERASCPP_CASE == 5
  model.compile(optimizers::Adam(1e-3), "binary_crossentropy");  // Adam<float>
#elif KERASCPP_CASE == 6
  model.compile("adam", losses::BinaryCrossentropy());  // BinaryCrossentropy<float>
#endif
}
