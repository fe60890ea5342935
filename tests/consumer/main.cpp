// The README's example, built by a project that only links kerascpp::kerascpp.
#include <kerascpp/data.hpp>
#include <kerascpp/kerascpp.hpp>

#include <iostream>

namespace keras = kerascpp;
using namespace keras::layers;

int main() {
  auto red_wine = keras::data::read_csv(DATA_FILE);
  auto df_train = red_wine.sample(0.7, 0), df_valid = red_wine.drop_rows(df_train);
  keras::data::MinMaxScaler<float> scaler;
  df_train = scaler.fit_transform(df_train);
  df_valid = scaler.transform(df_valid);

  keras::Sequential model{
      Dense(512, "relu", keras::input_shape{11}),
      Dense(512, "relu"),
      Dense(512, "relu"),
      Dense(1),
  };
  model.compile("adam", "mae");
  keras::History history = model.fit(
      df_train.drop({"quality"}).to_matrix(), df_train.to_matrix({"quality"}),
      {.batch_size = 256, .epochs = 2, .verbose = 0,
       .validation_data = keras::Dataset{df_valid.drop({"quality"}).to_matrix(), df_valid.to_matrix({"quality"})}});
  const double best = history.min("val_loss");
  std::cout << "consumer: best val_loss " << best << " after " << history.epochs() << " epochs\n";
  return best > 0.0 && best < 1.0 ? 0 : 1;
}
