// Lesson 4, "Overfitting and Underfitting": the red-wine network trains for up to 500 epochs and
// EarlyStopping(min_delta=0.001, patience=20, restore_best_weights=true) ends it once the
// validation loss stops improving, keeping the best weights.
#include "common.hpp"
#include "course_data.hpp"

namespace keras = kerascpp;
using namespace keras::layers;

int main(int argc, char** argv) {
  const example::Args args = example::parse(argc, argv, 500);
  return example::run([&] {
    const example::Split wine = example::red_wine(args.data);

    keras::Sequential model{
        Dense(512, "relu", keras::input_shape{11}),
        Dense(512, "relu"),
        Dense(512, "relu"),
        Dense(1),
    };
    model.set_seed(args.seed);
    model.compile("adam", "mae");

    keras::callbacks::EarlyStopping early_stopping({
        .min_delta = 0.001,  // minimum amount of change to count as an improvement
        .patience = 20,      // how many epochs to wait before stopping
        .restore_best_weights = true,
    });
    const keras::History history =
        model.fit(wine.x_train, wine.y_train,
                  {.batch_size = 256, .epochs = args.epochs, .verbose = 0, .callbacks = {&early_stopping},
                   .validation_data = keras::Dataset{wine.x_valid, wine.y_valid}});

    if (history.epochs() == 0) return;
    std::cout << "Minimum validation loss: " << history.min("val_loss") << "\n"
              << "Epochs run: " << history.epochs() << " (best epoch " << early_stopping.best_epoch() + 1 << ")\n";
    example::save_history(history, args, "Red wine with early stopping");
  });
}
