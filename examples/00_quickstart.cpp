// examples/00_quickstart.cpp — the README's program, "The API in 20 lines": everything below this
// comment is the README's code block, character for character (ctest readme_quickstart checks it).
#include <kerascpp/kerascpp.hpp>
#include <kerascpp/data.hpp>
#include <iostream>
namespace keras = kerascpp;
using namespace keras::layers;

int main() {
  auto red_wine = keras::data::read_csv(KERASCPP_DATA_DIR "/red-wine.csv");  // data/ in the repository
  auto df_train = red_wine.sample(0.7, 0), df_valid = red_wine.drop_rows(df_train);
  keras::data::MinMaxScaler<float> scaler;
  df_train = scaler.fit_transform(df_train), df_valid = scaler.transform(df_valid);

  keras::Sequential model{
      Dense(512, "relu", keras::input_shape{11}),
      Dense(512, "relu"),
      Dense(512, "relu"),
      Dense(1),
  };
  model.compile("adam", "mae");  // or keras::optimizers::Adam{1e-3}, keras::losses::MeanAbsoluteError{}
  keras::History history = model.fit(df_train.drop({"quality"}).to_matrix(), df_train.to_matrix({"quality"}),
      {.batch_size = 256, .epochs = 10,
       .validation_data = keras::Dataset{df_valid.drop({"quality"}).to_matrix(), df_valid.to_matrix({"quality"})}});
  std::cout << "best val_loss " << history.min("val_loss") << '\n';  // history.at("val_loss"): per epoch
}
