// Lesson 6, "Binary Classification": radar returns from the ionosphere classified good or bad by
// a small network ending in a sigmoid, trained with binary cross-entropy and early stopping.
#include "common.hpp"
#include "course_data.hpp"

#include <cstdio>

namespace keras = kerascpp;
using namespace keras::layers;

int main(int argc, char** argv) {
  const example::Args args = example::parse(argc, argv, 1000);
  return example::run([&] {
    const example::Split ion = example::ionosphere(args.data);

    keras::Sequential model{
        Dense(4, "relu", keras::input_shape{33}),
        Dense(4, "relu"),
        Dense(1, "sigmoid"),
    };
    model.set_seed(args.seed);
    model.compile("adam", "binary_crossentropy", {"binary_accuracy"});

    keras::callbacks::EarlyStopping early_stopping({.min_delta = 0.001, .patience = 10, .restore_best_weights = true});
    const keras::History history =
        model.fit(ion.x_train, ion.y_train,
                  {.batch_size = 512, .epochs = args.epochs, .verbose = 0, .callbacks = {&early_stopping},
                   .validation_data = keras::Dataset{ion.x_valid, ion.y_valid}});

    if (history.epochs() == 0) return;
    std::printf("Best Validation Loss: %0.4f\nBest Validation Accuracy: %0.4f\n", history.min("val_loss"),
                history.max("val_binary_accuracy"));
    std::printf("Epochs run: %zu\n", history.epochs());
    example::save_history(history, args, "Ionosphere: cross-entropy and accuracy");
  });
}
