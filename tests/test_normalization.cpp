// Tests of kerascpp/layers/normalization.hpp against Keras 3's Normalization
// (keras/src/layers/preprocessing/normalization.py): adapt against numpy's mean and var, the
// docstring's examples, epsilon, invert, explicit statistics and their checks, use before adapt,
// finite-difference gradients, summary, and saving and loading with the model.
#include "gradient_check.hpp"
#include "scratch_folder.hpp"

#include <kerascpp/kerascpp.hpp>

#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

// Everything of this file is in its own namespace, so that test files can share a translation unit.
namespace test_normalization {

using namespace kerascpp;
using layers::Normalization;
using Catch::Contains;
using kerascpp_test::identical;
using kerascpp_test::Mat;
using kerascpp_test::thrown_message;

/// Six rows of three features, the last constant.
Mat data() {
  Mat x(6, 3);
  x << 1.5, -2.0, 10.0, 0.25, 3.0, 10.0, -4.0, 0.5, 10.0, 2.0, 7.25, 10.0, 3.5, -1.0, 10.0, 0.125, 2.0, 10.0;
  return x;
}

Mat rows_of(std::initializer_list<std::initializer_list<double>> rows) {
  Mat m(static_cast<Index>(rows.size()), static_cast<Index>(rows.begin()->size()));
  Index i = 0;
  for (const auto& r : rows) {
    Index j = 0;
    for (const double v : r) m(i, j++) = v;
    ++i;
  }
  return m;
}

Mat apply(Normalization<double>& layer, const Mat& x) { return layer.forward(kerascpp_test::cview(x), false); }


TEST_CASE("Normalization.adapt: numpy's mean and population variance per feature", "[normalization]") {
  Normalization<double> layer;
  layer.adapt(data());
  REQUIRE(layer.built());
  CHECK(layer.input_width() == 3);
  CHECK(layer.declared_input_width() == 3);
  const auto w = layer.weights();
  REQUIRE(w.size() == 2);
  CHECK(w[0].name == "mean");
  CHECK(w[1].name == "variance");
  CHECK(!w[0].trainable());
  CHECK(!w[1].trainable());
  // numpy: x.mean(axis=0), x.var(axis=0) of data() (values printed with repr)
  CHECK(identical(*w[0].value, rows_of({{0.5625, 1.625, 10.0}})));
  CHECK((*w[1].value)(0, 0) == Approx(5.446614583333333).epsilon(1e-15));
  CHECK((*w[1].value)(0, 1) == Approx(9.161458333333334).epsilon(1e-15));
  CHECK((*w[1].value)(0, 2) == 0.0);

  // y = (x − mean) / max(sqrt(var), 1e-7): the constant feature is divided by epsilon.
  const Mat x = rows_of({{1.0, 2.0, 10.5}});
  const Mat y = apply(layer, x);
  CHECK(y(0, 0) == Approx((1.0 - 0.5625) / std::sqrt(5.446614583333333)).epsilon(1e-15));
  CHECK(y(0, 1) == Approx((2.0 - 1.625) / std::sqrt(9.161458333333334)).epsilon(1e-15));
  CHECK(y(0, 2) == Approx(0.5 / 1e-7).epsilon(1e-15));

  // Adapting again replaces the statistics; data of another width is refused.
  layer.adapt(rows_of({{1.0, 1.0, 1.0}, {3.0, 5.0, 1.0}}));
  CHECK(identical(*layer.weights()[0].value, rows_of({{2.0, 3.0, 1.0}})));
  CHECK(identical(*layer.weights()[1].value, rows_of({{1.0, 4.0, 0.0}})));
  CHECK_THAT(thrown_message<ValueError>([&] { layer.adapt(rows_of({{1.0, 2.0}})); }),
             Contains("Normalization.adapt: the layer is built for input width 3, received data with 2 columns"));
  CHECK_THAT(thrown_message<ValueError>([&] { layer.adapt(Mat(0, 3)); }), Contains("data is empty"));
  Mat nan = data();
  nan(2, 1) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THAT(thrown_message<ValueError>([&] { Normalization<double>().adapt(nan); }), Contains("row 2, column 1"));
}

TEST_CASE("Normalization.adapt refuses a variance beyond its Scalar's range and keeps its statistics", "[normalization]") {
  // Floats near ±3e38 have a variance near 1e77: the mean and variance are computed in double, and
  // a variance that float cannot hold is refused (stored, it was infinity and the outputs all 0).
  Normalization<float> layer;
  layer.adapt(RowMatrix<float>(rows_of({{1.0, 2.0}, {3.0, 6.0}}).cast<float>()));
  RowMatrix<float> huge(2, 2);
  huge << 1.0f, 3e38f, 3.0f, -3e38f;
  CHECK_THAT(thrown_message<ValueError>([&] { layer.adapt(huge); }),
             Contains("Normalization.adapt: the variance of column 1 (9.0000000") &&
                 Contains("e+76) is beyond the range of the layer's float (at most 3.40282346638529e+38); scale the data down "
                          "before adapting"));
  CHECK(layer.weights()[0].value->cast<double>() == rows_of({{2.0, 4.0}}));  // column 0 was not changed either
  CHECK(layer.weights()[1].value->cast<double>() == rows_of({{1.0, 4.0}}));

  // Doubles near ±1e308: Σx overflows, so the mean is summed as Σ x/rows; the variance overflows double.
  Normalization<double> wide;
  CHECK_THAT(thrown_message<ValueError>([&] { wide.adapt(rows_of({{1e308}, {-1e308}})); }),
             Contains("the variance of column 0 (inf) is beyond the range of the layer's double"));
  wide.adapt(rows_of({{1.5e308}, {1.5e308}}));
  CHECK(wide.weights()[0].value->coeff(0, 0) == 1.5e308);
  CHECK(wide.weights()[1].value->coeff(0, 0) == 0.0);
}

TEST_CASE("Normalization: the examples of Keras's docstring, float32", "[normalization][keras]") {
  const RowMatrix<float> adapt_data = rows_of({{0, 7, 4}, {2, 9, 6}, {0, 7, 4}, {2, 9, 6}}).cast<float>();
  Normalization<float> layer;
  layer.adapt(adapt_data);
  const RowMatrix<float> input = rows_of({{0, 7, 4}}).cast<float>();
  const RowMatrix<float> y = layer.forward(ConstMatrixView<float>(input.data(), 1, 3), false);
  CHECK(identical(y, rows_of({{-1, -1, -1}}).cast<float>()));

  Normalization<float> inverse(-1, {}, {}, true);
  inverse.adapt(adapt_data);
  const RowMatrix<float> back_input = rows_of({{1, 2, 3}}).cast<float>();
  const RowMatrix<float> back = inverse.forward(ConstMatrixView<float>(back_input.data(), 1, 3), false);
  CHECK(identical(back, rows_of({{2, 10, 8}}).cast<float>()));

  // keras.layers.Normalization(mean=3., variance=2.) on [[1], [2], [3]] gives
  // [[-1.4142135], [-0.70710677], [0.]] in float32.
  Normalization<float> given(-1, {3.0}, {2.0});
  Rng rng(1);
  given.build(1, rng);
  const RowMatrix<float> column = rows_of({{1}, {2}, {3}}).cast<float>();
  const RowMatrix<float> z = given.forward(ConstMatrixView<float>(column.data(), 3, 1), false);
  CHECK(z(0, 0) == -1.4142135f);
  CHECK(z(1, 0) == -0.70710677f);
  CHECK(z(2, 0) == 0.0f);
}

TEST_CASE("Normalization: invert undoes the normalization, explicit statistics broadcast", "[normalization]") {
  const Mat x = kerascpp_test::uniform_matrix(5, 3, -3.0, 3.0, 9);
  Normalization<double> forward_layer(-1, {0.5, -1.0, 2.0}, {4.0, 0.25, 9.0});
  Normalization<double> inverse_layer(1, {0.5, -1.0, 2.0}, {4.0, 0.25, 9.0}, true);
  Rng rng(1);
  forward_layer.build(3, rng);
  inverse_layer.build(3, rng);
  const Mat y = apply(forward_layer, x);
  CHECK(y(0, 1) == Approx((x(0, 1) + 1.0) / 0.5).epsilon(1e-15));
  CHECK(y(4, 2) == Approx((x(4, 2) - 2.0) / 3.0).epsilon(1e-15));
  const Mat back = apply(inverse_layer, y);
  for (Index k = 0; k < x.size(); ++k) CHECK(back.data()[k] == Approx(x.data()[k]).epsilon(1e-14));

  Normalization<double> scalar(-1, {1.0}, {4.0});  // one value for every feature
  scalar.build(3, rng);
  CHECK(identical(*scalar.weights()[0].value, rows_of({{1.0, 1.0, 1.0}})));
  CHECK(identical(*scalar.weights()[1].value, rows_of({{4.0, 4.0, 4.0}})));
}

TEST_CASE("Normalization: arguments are checked, and using it without statistics is a StateError", "[normalization][errors]") {
  CHECK_THAT(thrown_message<ValueError>([] { Normalization<float>(-1, {1.0}); }),
             Contains("Normalization: mean and variance must be given together and with as many values, received 1 mean "
                      "value(s) and 0 variance value(s)"));
  CHECK_THAT(thrown_message<ValueError>([] { Normalization<float>(0); }),
             Contains("Normalization: axis must be -1 or 1 (the feature axis of (batch, features) inputs), received axis=0"));
  CHECK_THAT(thrown_message<ValueError>([] { Normalization<float>(-1, {1.0}, {-2.0}); }),
             Contains("variance must be finite and non-negative, received variance[0]=-2"));
  CHECK_THAT(thrown_message<ValueError>([] { Normalization<float>(-1, {1e300}, {1.0}); }),
             Contains("Normalization: mean must be finite in the model's Scalar, received mean[0]=1e+300"));
  CHECK_THROWS_AS(Normalization<float>(-1, {0.0}, {1e39}), ValueError);
  CHECK_NOTHROW(Normalization<double>(-1, {1e300}, {1e300}));
  Normalization<float> two(-1, {1.0, 2.0}, {1.0, 1.0});
  Rng rng(1);
  CHECK_THAT(thrown_message<ValueError>([&] { two.build(3, rng); }),
             Contains("mean and variance have 2 values but the input has width 3; give one value or 3"));

  Sequential<float> model{Normalization<float>(-1, {}, {}, false, input_shape{2}), layers::Dense<float>(1)};
  const Matrix<float> x = Matrix<float>::Ones(4, 2);
  CHECK_THAT(thrown_message<StateError>([&] { model.predict(x); }),
             Contains("normalization (Normalization): the layer has no statistics yet (its mean or variance is NaN, or the "
                      "variance negative); call adapt(x) first, give mean and variance to the constructor, or load weights"));
  model.compile("sgd", "mse");
  CHECK_THROWS_AS(model.fit(x, Matrix<float>::Zero(4, 1), {.verbose = 0}), StateError);
  // Setting the statistics as weights makes the layer usable.
  model.set_weights({Matrix<float>::Zero(1, 2), Matrix<float>::Ones(1, 2), Matrix<float>::Ones(2, 1), Matrix<float>::Zero(1, 1)});
  CHECK(model.predict(x)(0, 0) == 2.0f);
}

TEST_CASE("Normalization: dx against central differences, plain and inverted", "[normalization][gradients]") {
  const Mat x = kerascpp_test::uniform_matrix(7, 4, -2.0, 2.0, 13);
  for (const bool invert : {false, true}) {
    INFO("invert " << invert);
    Normalization<double> layer(-1, {}, {}, invert);
    layer.adapt(kerascpp_test::uniform_matrix(20, 4, -5.0, 5.0, 14));
    kerascpp_test::check_layer_gradients(layer, x);
  }
}

TEST_CASE("Normalization in a model: not trained, summarized, saved and loaded", "[normalization][saving]") {
  const RowMatrix<float> x = kerascpp_test::uniform_as<float>(32, 3, -4.0, 6.0, 21);
  const RowMatrix<float> y = kerascpp_test::uniform_as<float>(32, 1, -1.0, 1.0, 22);
  Normalization<float> norm;
  norm.adapt(x);
  Sequential<float> model{norm, layers::Dense<float>(4, "relu"), layers::Dense<float>(1)};
  REQUIRE(model.built());  // adapt gave the layer its input width
  model.set_seed(4);       // re-initializes the Dense layers, keeps the statistics
  const RowMatrix<float> mean = *model.layer(0).weights()[0].value;
  CHECK(identical(mean, *norm.weights()[0].value));

  std::ostringstream summary;
  model.summary(summary);
  // The name column wraps after 26 characters, as for any long name.
  CHECK_THAT(summary.str(), Contains(" normalization (Normalizati  (None, 3)                 6         \n on)"));
  CHECK_THAT(summary.str(), Contains("Non-trainable params: 6 (24.00 Byte)"));
  CHECK_THAT(summary.str(), Contains("Trainable params: 21 (84.00 Byte)"));

  model.compile("adam", "mse");
  model.fit(x, y, {.batch_size = 8, .epochs = 2, .verbose = 0});
  CHECK(identical(*model.layer(0).weights()[0].value, mean));  // not trainable

  kerascpp_test::ScratchFolder folder;
  model.save(folder.path() / "m.kcpp");
  Sequential<float> loaded = load_model<float>(folder.path() / "m.kcpp");
  CHECK(loaded.layer(0).type() == "Normalization");
  CHECK(identical(*loaded.layer(0).weights()[1].value, *model.layer(0).weights()[1].value));
  CHECK(identical(loaded.predict(x), model.predict(x)));

  // Weights alone into a model whose Normalization never saw data.
  model.save_weights(folder.path() / "w.kcpp");
  Sequential<float> fresh{Normalization<float>(-1, {}, {}, false, input_shape{3}), layers::Dense<float>(4, "relu"),
                          layers::Dense<float>(1)};
  fresh.load_weights(folder.path() / "w.kcpp");
  CHECK(identical(fresh.predict(x), model.predict(x)));

  // Explicit statistics are part of the config and come back with the file.
  Sequential<double> given{Normalization<double>(-1, {1.0, 2.0}, {4.0, 0.5}, true, input_shape{2}), layers::Dense<double>(1)};
  given.save(folder.path() / "g.kcpp");
  const Sequential<double> again = load_model<double>(folder.path() / "g.kcpp");
  const auto& layer = dynamic_cast<const Normalization<double>&>(again.layer(0));
  CHECK(layer.given_mean() == std::vector<double>{1.0, 2.0});
  CHECK(layer.given_variance() == std::vector<double>{4.0, 0.5});
  CHECK(layer.invert());
}

TEST_CASE("Normalization adapted after it was added: the message says the model holds a copy, and adapting the copy works",
          "[normalization][errors]") {
  const Matrix<float> x = kerascpp_test::uniform_as<float>(8, 2, -3.0, 5.0, 31);
  const Matrix<float> y = kerascpp_test::uniform_as<float>(8, 1, -1.0, 1.0, 32);
  Normalization<float> norm;
  Sequential<float> model{norm, layers::Dense<float>(1)};
  norm.adapt(x);  // reaches only the variable, not the model's copy
  model.compile("adam", "mse");
  CHECK_THAT(thrown_message<StateError>([&] { model.fit(x, y, {.verbose = 0}); }),
             Contains("call adapt(x) first") && Contains("A model holds a copy of each layer, made when the layer was added") &&
                 Contains("adapt the layer before adding it, or adapt the model's copy, "
                          "dynamic_cast<kerascpp::layers::Normalization<float>&>(model.layer(i)).adapt(x)"));
  // The advice works: the model's own layer takes the statistics.
  dynamic_cast<Normalization<float>&>(model.layer(0)).adapt(x);
  model.fit(x, y, {.verbose = 0});
  CHECK(identical(*model.layer(0).weights()[0].value, *norm.weights()[0].value));
  Sequential<double> twice{Normalization<double>(-1, {}, {}, false, input_shape{2}), layers::Dense<double>(1)};
  CHECK_THAT(thrown_message<StateError>([&] { twice.predict(Matrix<double>::Ones(2, 2)); }),
             Contains("dynamic_cast<kerascpp::layers::Normalization<double>&>(model.layer(i))"));
}

}  // namespace test_normalization
