// Must not compile: ModelInterface::save in a program without <kerascpp/saving/model_file.hpp>.
// The test save_needs_model_file checks that the compiler's message names that header.
#include <kerascpp/sequential.hpp>

int main() {
  kerascpp::Sequential<float> model{kerascpp::layers::Dense<float>(1, "linear", kerascpp::input_shape{2})};
  kerascpp::ModelInterface<float>& seen = model;
  seen.save("model.kcpp");
}
