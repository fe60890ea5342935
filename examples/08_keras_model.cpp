// A model in Keras's file format: loads data/red-wine.keras (Dense(16, relu) → Dense(1), compiled
// with Adam and MAE, with its optimizer state; see data/README.md), evaluates it on the course's
// red-wine validation split, fine-tunes it for a few epochs from where its optimizer stopped (Adam's
// moments and step count, with a tenth of the learning rate), and saves it back as a .keras file in
// the layout Keras 3 writes. Built when the target kerascpp::keras_files exists (HDF5, libzip and
// nlohmann/json installed).
#include "common.hpp"
#include "course_data.hpp"

#include <kerascpp/keras_files.hpp>

namespace keras = kerascpp;

int main(int argc, char** argv) {
  const example::Args args = example::parse(argc, argv, 10);
  return example::run([&] {
    const example::Split wine = example::red_wine(args.data);

    keras::Sequential<float> model = keras::keras::load_model<float>(args.data / "red-wine.keras");
    if (!args.quiet) model.summary();
    const double before = model.evaluate(wine.x_valid, wine.y_valid).at("loss");
    std::cout << "Loaded: " << model.optimizer().name() << " after " << model.optimizer().iterations()
              << " steps, validation MAE " << before << "\n";

    model.set_learning_rate(1e-3);  // fine-tuning: smaller steps than the 0.01 it was trained with
    const keras::History history =
        model.fit(wine.x_train, wine.y_train,
                  {.batch_size = 256, .epochs = args.epochs, .verbose = args.quiet ? 0 : 2,
                   .validation_data = keras::Dataset{wine.x_valid, wine.y_valid}});
    const double after = model.evaluate(wine.x_valid, wine.y_valid).at("loss");
    std::cout << "Fine-tuned for " << history.epochs() << " epochs: validation MAE " << after << "\n";

    std::filesystem::create_directories(args.out);
    const std::filesystem::path saved = args.out / "red-wine-fine-tuned.keras";
    keras::keras::save_model(model, saved);
    std::cout << "Saved " << saved.string() << " (" << std::filesystem::file_size(saved) << " bytes)\n";
    if (history.epochs() > 0) example::save_history(history, args, "Red wine, a Keras model fine-tuned");
  });
}
