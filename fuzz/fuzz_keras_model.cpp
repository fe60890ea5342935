// libFuzzer target for the reader of Keras's own files (kerascpp/keras_files.hpp): each input goes
// through keras::decode_model<float> (what keras::load_model runs on a file's bytes: the zip
// archive, config.json, the HDF5 weights and the optimizer's state, or a legacy .h5), `predict` and
// `train_on_batch` on what loads, and keras::decode_weights_into a built model of the layout the
// seeds hold and an unbuilt one (load_weights). Any kerascpp exception is an expected outcome;
// anything else (a crash, a sanitizer report, another exception type, a hang, a huge allocation)
// is a finding. Built by the CMake target fuzz_keras_model (clang only, not built by default).
#include <kerascpp/keras_files.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>

namespace {

[[noreturn]] void finding(const char* where, const std::exception& e) {
  std::fprintf(stderr, "FINDING: %s threw a non-kerascpp exception: %s\n", where, e.what());
  std::abort();
}

/// Runs `f`, accepting kerascpp's exceptions.
template <typename F>
void expect_kerascpp(const char* where, F&& f) {
  try {
    f();
  } catch (const kerascpp::IOError&) {
  } catch (const kerascpp::ValueError&) {
  } catch (const kerascpp::StateError&) {
  } catch (const std::exception& e) {
    finding(where, e);
  }
}

void use(kerascpp::Sequential<float>& model) {
  if (!model.built() || model.input_width() > 64) return;
  const kerascpp::Matrix<float> x = kerascpp::Matrix<float>::Constant(2, model.input_width(), 0.5f);
  const kerascpp::Matrix<float> out = model.predict(x);
  if (!model.compiled() || out.cols() > 64) return;
  model.train_on_batch(x, kerascpp::Matrix<float>::Zero(2, out.cols()));
}

kerascpp::Sequential<float> reference() {
  using namespace kerascpp::layers;
  return kerascpp::Sequential<float>{Dense<float>(8, "relu", kerascpp::input_shape{5}), BatchNormalization<float>(0.9),
                                     Dropout<float>(0.25), Dense<float>(4, "tanh"), Dense<float>(3),
                                     Activation<float>("softmax")};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  expect_kerascpp("decode_model", [&] {
    auto model = kerascpp::keras::decode_model<float>(bytes);
    use(model);
  });
  expect_kerascpp("decode_weights_into", [&] {
    auto model = reference();
    kerascpp::keras::decode_weights_into(model, bytes);
  });
  expect_kerascpp("decode_weights_into (unbuilt)", [&] {
    using namespace kerascpp::layers;
    kerascpp::Sequential<float> model{Dense<float>(8, "relu"), Dense<float>(3)};
    kerascpp::keras::decode_weights_into(model, bytes);
  });
  return 0;
}
