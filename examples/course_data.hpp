// examples/course_data.hpp — the course's preprocessing of red-wine.csv and ion.csv, written with
// kerascpp::data in the course's own steps: read, 70/30 split as pandas draws it, min–max scaling
// with the training minimum and maximum, then features and target.
#pragma once

#include <kerascpp/data.hpp>

#include <filesystem>

namespace example {

struct Split {
  kerascpp::Matrix<float> x_train, y_train, x_valid, y_valid;
};

/// red-wine.csv: 11 features → quality. With `scaled`, every column (quality too, as the course
/// does) is mapped to [0, 1] with the training rows' minimum and maximum.
inline Split red_wine(const std::filesystem::path& data_dir, bool scaled = true) {
  namespace data = kerascpp::data;
  const data::DataFrame red_wine = data::read_csv(data_dir / "red-wine.csv");
  data::DataFrame df_train = red_wine.sample(0.7, 0);     // df.sample(frac=0.7, random_state=0)
  data::DataFrame df_valid = red_wine.drop_rows(df_train);  // df.drop(df_train.index)
  if (scaled) {
    data::MinMaxScaler<float> scaler;
    scaler.fit(df_train);
    df_train = scaler.transform(df_train);
    df_valid = scaler.transform(df_valid);
  }
  return {df_train.drop({"quality"}).to_matrix<float>(), df_train.to_matrix<float>({"quality"}),
          df_valid.drop({"quality"}).to_matrix<float>(), df_valid.to_matrix<float>({"quality"})};
}

/// ion.csv: 34 radar features → Class (good → 0, bad → 1). V2 is constant (always 0); the course
/// drops the empty column its scaling produces, so we drop V2 before scaling (MinMaxScaler would keep
/// it as zeros, as scikit-learn does, and the model would have 34 inputs instead of the course's 33).
inline Split ionosphere(const std::filesystem::path& data_dir) {
  namespace data = kerascpp::data;
  data::CsvOptions options;
  options.index_col = kerascpp::Index{0};
  data::DataFrame df = data::read_csv(data_dir / "ion.csv", options);
  df = df.map("Class", {{"good", 0.0}, {"bad", 1.0}}).drop({"V2"});
  data::DataFrame df_train = df.sample(0.7, 0);
  data::DataFrame df_valid = df.drop_rows(df_train);
  data::MinMaxScaler<float> scaler;
  scaler.fit(df_train);
  df_train = scaler.transform(df_train);
  df_valid = scaler.transform(df_valid);
  return {df_train.drop({"Class"}).to_matrix<float>(), df_train.to_matrix<float>({"Class"}),
          df_valid.drop({"Class"}).to_matrix<float>(), df_valid.to_matrix<float>({"Class"})};
}

}  // namespace example
