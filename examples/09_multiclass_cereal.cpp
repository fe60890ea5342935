// Multi-class classification with text labels: which of 7 manufacturers (mfr: A, G, K, N, P, Q, R)
// makes a breakfast cereal, from its nutrition facts and its type (C cold, H hot). The labels are
// encoded with LabelEncoder, the type one-hot with get_dummies, the numbers standardized; the model
// trains with sparse categorical cross-entropy and a decaying learning rate, and the validation rows
// get scikit-learn's classification report.
#include "common.hpp"

#include <kerascpp/data.hpp>

#include <iostream>

namespace keras = kerascpp;
namespace data = kerascpp::data;
using namespace keras::layers;

int main(int argc, char** argv) {
  const example::Args args = example::parse(argc, argv, 300);
  return example::run([&] {
    data::DataFrame cereal = data::read_csv(args.data / "cereal.csv").drop({"name"});

    // Text labels to class indices 0..6 (classes sorted as strings), learned on every row so that
    // a manufacturer with a single cereal still has its class.
    data::LabelEncoder labels;
    cereal = labels.fit_transform(cereal, "mfr");
    cereal = data::get_dummies(cereal, {"type"});  // type -> type_C, type_H

    data::DataFrame train = cereal.sample(0.75, static_cast<std::int64_t>(args.seed));
    data::DataFrame valid = cereal.drop_rows(train);
    const keras::Matrix<float> y_train = train.to_matrix({"mfr"}), y_valid = valid.to_matrix({"mfr"});
    data::StandardScaler<float> scaler;
    const keras::Matrix<float> x_train = scaler.fit_transform(train.drop({"mfr"})).to_matrix();
    const keras::Matrix<float> x_valid = scaler.transform(valid.drop({"mfr"})).to_matrix();
    if (!args.quiet)
      std::cout << "Training rows: " << x_train.rows() << ", validation rows: " << x_valid.rows()
                << ", features: " << x_train.cols() << ", classes: " << labels.classes().size() << "\n";

    const auto classes = static_cast<keras::Index>(labels.classes().size());
    keras::Sequential model{
        Dense(32, "relu", keras::input_shape{x_train.cols()}),
        Dropout(0.2),
        Dense(classes, "softmax"),
    };
    model.set_seed(args.seed);
    // The learning rate starts at 0.01 and is multiplied by 0.9 every 20 optimizer steps.
    const keras::optimizers::schedules::ExponentialDecay decay(0.01, 20, 0.9);
    model.compile(keras::optimizers::Adam(decay), "sparse_categorical_crossentropy", {"accuracy"});

    const keras::History history =
        model.fit(x_train, y_train,
                  {.batch_size = 16, .epochs = args.epochs, .verbose = args.quiet ? 0 : 2,
                   .validation_data = {x_valid, y_valid}});
    if (history.epochs() == 0) return;

    std::cout << "Validation accuracy after " << history.epochs() << " epochs: " << history.at("val_accuracy").back()
              << " (best " << history.max("val_accuracy") << "), learning rate now "
              << model.optimizer().learning_rate() << "\n\n";
    std::cout << keras::classification_report(model, x_valid, y_valid, labels.classes());
    example::save_history(history, args, "Cereal manufacturers: cross-entropy and accuracy");
  });
}
