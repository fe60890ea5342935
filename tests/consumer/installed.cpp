// The program of the find_package consumer: it checks what installing gives a user (the headers,
// the exported target kerascpp::kerascpp and its C++20 requirement), so it stays small. The
// README's full program is built by the add_subdirectory consumer, whose headers are not system
// headers there and so pass -Wall -Wextra -Wpedantic -Werror themselves.
#include <kerascpp/kerascpp.hpp>
#include <kerascpp/data.hpp>

#include <cmath>
#include <iostream>
#include <vector>

int main() {
  namespace keras = kerascpp;
  keras::Sequential<float> model{keras::layers::Dense<float>(1, "linear", keras::input_shape{2})};
  keras::Matrix<float> kernel(2, 1), bias(1, 1), x(3, 2);
  kernel << 2, 1;
  bias << 1;
  x << 0, 0, 1, 0, 1, 1;
  model.set_weights(std::vector<keras::Matrix<float>>{kernel, bias});
  const keras::Matrix<float> y = model.predict(x);  // x·kernel + bias: 1, 3, 4
  const keras::data::DataFrame frame = keras::data::read_csv(KERASCPP_DATA_DIR "/red-wine.csv");
  std::cout << "installed kerascpp: predictions " << y.transpose() << ", red-wine rows " << frame.rows() << '\n';
  const bool right = std::abs(y(0, 0) - 1) + std::abs(y(1, 0) - 3) + std::abs(y(2, 0) - 4) < 1e-6f;
  return right && frame.rows() == 1599 ? 0 : 1;
}
