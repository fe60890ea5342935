// A model file of Keras itself: loads data/red-wine.keras (Dense(16, relu) → Dense(1), compiled with
// Adam and MAE, with its optimizer state; see data/README.md), evaluates it on the course's red-wine
// validation split, fine-tunes it for a few epochs from where its optimizer stopped, and saves it
// back as a .keras file that Keras 3 loads with keras.saving.load_model. Built when the target
// kerascpp::keras_files exists (HDF5, libzip and nlohmann/json installed).
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
