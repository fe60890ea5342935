// Lesson 1, "A Single Neuron": one linear unit, y = w·x + b. First the lesson's picture —
// calories from sugars alone — then the unit with three inputs: sugars, fiber and protein.
#include "common.hpp"

#include <kerascpp/data.hpp>

#include <cmath>
#include <cstdio>

namespace keras = kerascpp;
using namespace keras::layers;

int main(int argc, char** argv) {
  const example::Args args = example::parse(argc, argv, 2000);
  return example::run([&] {
    namespace data = keras::data;
    data::CsvOptions options;
    options.na_values = {"", "-1"};  // cereal.csv writes -1 for a missing value
    const data::DataFrame cereal = data::read_csv(args.data / "cereal.csv", options);

    // Keep the cereals whose sugars, fiber, protein and calories are all known.
    std::vector<keras::Index> complete;
    for (keras::Index i = 0; i < cereal.rows(); ++i) {
      bool known = true;
      for (const char* column : {"sugars", "fiber", "protein", "calories"})
        known = known && !std::isnan(cereal.numbers(column)[static_cast<std::size_t>(i)]);
      if (known) complete.push_back(i);
    }
    const data::DataFrame df = cereal.take(complete);
    const keras::Matrix<float> calories = df.to_matrix<float>({"calories"});
    if (!args.quiet) std::cout << df.rows() << " cereals with complete values\n\n";

    const auto train = [&](keras::Sequential<float>& model, const keras::Matrix<float>& x) {
      model.set_seed(args.seed);
      // The inputs are grams and the target is calories (about 100): a large learning rate
      // lets one linear unit get there in a few thousand small steps.
      model.compile(keras::optimizers::Adam{0.5}, "mae");
      return model.fit(x, calories, {.batch_size = 32, .epochs = args.epochs, .verbose = 0});
    };

    keras::Sequential one{Dense(1, "linear", keras::input_shape{1})};
    const keras::History h1 = train(one, df.to_matrix<float>({"sugars"}));
    const auto w1 = one.get_weights();
    std::printf("calories = %.3f * sugars + %.3f\n", w1[0](0, 0), w1[1](0, 0));
    keras::Matrix<float> five(1, 1);
    five << 5.0f;
    std::printf("prediction for 5 g of sugar: %.1f calories\n", one.predict(five)(0, 0));
    if (h1.epochs() > 0) std::printf("training MAE: %.2f calories\n\n", h1.at("loss").back());

    keras::Sequential three{Dense(1, "linear", keras::input_shape{3})};
    const keras::History h3 = train(three, df.to_matrix<float>({"sugars", "fiber", "protein"}));
    const auto w3 = three.get_weights();
    std::printf("calories = %.3f * sugars + %.3f * fiber + %.3f * protein + %.3f\n", w3[0](0, 0), w3[0](1, 0),
                w3[0](2, 0), w3[1](0, 0));
    keras::Matrix<float> sample(1, 3);
    sample << 5.0f, 0.0f, 0.0f;
    std::printf("prediction for 5 g of sugar (no fiber, no protein): %.1f calories\n", three.predict(sample)(0, 0));
    if (h3.epochs() > 0) {
      std::printf("training MAE: %.2f calories\n", h3.at("loss").back());
      example::save_history(h3, args, "Cereals: one linear unit, 3 inputs");
    }
  });
}
