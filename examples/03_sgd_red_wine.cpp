// Lesson 3, "Stochastic Gradient Descent": a 3×512 ReLU network learns red-wine quality with
// Adam and the mean absolute error, in minibatches of 256, for 10 epochs.
#include "common.hpp"
#include "course_data.hpp"

namespace keras = kerascpp;
using namespace keras::layers;

int main(int argc, char** argv) {
  const example::Args args = example::parse(argc, argv, 10);
  return example::run([&] {
    const example::Split wine = example::red_wine(args.data);
    if (!args.quiet)
      std::cout << "Training rows: " << wine.x_train.rows() << ", validation rows: " << wine.x_valid.rows()
                << ", features: " << wine.x_train.cols() << "\n";

    keras::Sequential model{
        Dense(512, "relu", keras::input_shape{11}),
        Dense(512, "relu"),
        Dense(512, "relu"),
        Dense(1),
    };
    model.set_seed(args.seed);
    model.compile("adam", "mae");

    const keras::History history =
        model.fit(wine.x_train, wine.y_train,
                  {.batch_size = 256, .epochs = args.epochs, .verbose = args.quiet ? 0 : 1,
                   .validation_data = keras::Dataset{wine.x_valid, wine.y_valid}});

    if (history.epochs() > 0)
      std::cout << "Validation MAE after " << history.epochs() << " epochs: " << history.at("val_loss").back()
                << " (minimum " << history.min("val_loss") << ")\n";
    if (history.epochs() > 0) example::save_history(history, args, "Red wine: 3x512 ReLU, Adam, MAE");
  });
}
