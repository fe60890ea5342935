// Lesson 5, "Dropout and Batch Normalization": a wider 3×1024 ReLU network with Dropout(0.3) and
// BatchNormalization after each hidden layer, 100 epochs on red wine. With --unscaled it trains
// on the raw features, where batch normalization does the scaling the course did by hand.
#include "common.hpp"
#include "course_data.hpp"

namespace keras = kerascpp;
using namespace keras::layers;

int main(int argc, char** argv) {
  const example::Args args = example::parse(argc, argv, 100, /*has_unscaled=*/true);
  return example::run([&] {
    const example::Split wine = example::red_wine(args.data, /*scaled=*/!args.unscaled);

    keras::Sequential model{
        Dense(1024, "relu", keras::input_shape{11}),
        Dropout(0.3),
        BatchNormalization(),
        Dense(1024, "relu"),
        Dropout(0.3),
        BatchNormalization(),
        Dense(1024, "relu"),
        Dropout(0.3),
        BatchNormalization(),
        Dense(1),
    };
    model.set_seed(args.seed);
    model.compile("adam", "mae");

    const keras::History history =
        model.fit(wine.x_train, wine.y_train,
                  {.batch_size = 256, .epochs = args.epochs, .verbose = args.quiet ? 0 : 2,
                   .validation_data = keras::Dataset{wine.x_valid, wine.y_valid}});

    if (history.epochs() == 0) return;
    std::cout << "Minimum validation loss: " << history.min("val_loss") << " at epoch "
              << history.argmin("val_loss") + 1 << (args.unscaled ? " (unscaled features)" : "") << "\n";
    example::save_history(history, args,
                          args.unscaled ? "Red wine, unscaled, Dropout + BatchNormalization"
                                        : "Red wine, Dropout + BatchNormalization");
  });
}
