// Lesson 2, "Deep Neural Networks": networks built from Dense layers and ReLU activations with
// Sequential, each shown with summary(). Nothing is trained here.
#include "common.hpp"

namespace keras = kerascpp;
using namespace keras::layers;

int main(int argc, char** argv) {
  const example::Args args = example::parse(argc, argv, 0);
  return example::run([&] {
    // The lesson's network: two hidden layers of 4 and 3 ReLU units, one linear output.
    keras::Sequential model{
        Dense(4, "relu", keras::input_shape{2}),
        Dense(3, "relu"),
        Dense(1),
    };
    model.summary(std::cout, "lesson_network");

    // The exercise's network for 8 inputs: three hidden layers of 512 units.
    keras::Sequential deep{
        Dense(512, "relu", keras::input_shape{8}),
        Dense(512, "relu"),
        Dense(512, "relu"),
        Dense(1),
    };
    deep.summary(std::cout, "deep_network");

    // The same idea with the activations as layers of their own.
    keras::Sequential separate{
        Dense(32, "linear", keras::input_shape{8}),
        Activation("relu"),
        Dense(32),
        Activation("relu"),
        Dense(1),
    };
    separate.summary(std::cout, "activation_layers");

    // Wider and deeper variants of the lesson's network (used again in lesson 4).
    keras::Sequential wider{Dense(16, "relu", keras::input_shape{2}), Dense(1)};
    wider.summary(std::cout, "wider");
    keras::Sequential deeper{Dense(16, "relu", keras::input_shape{2}), Dense(16, "relu"), Dense(1)};
    deeper.summary(std::cout, "deeper");

    // A forward pass through the lesson's network with its initial weights.
    keras::Matrix<float> x(3, 2);
    x << 0.0f, 0.0f, 1.0f, 2.0f, -1.0f, 0.5f;
    if (!args.quiet) std::cout << "Outputs of the untrained lesson network for three inputs:\n" << model.predict(x) << "\n";
  });
}
