// libFuzzer target for kerascpp's model and weights loaders (serialization.hpp).
//
// Each input is loaded twice: as is, which mostly exercises the header and checksum checks, and
// with its last four bytes replaced by the CRC-32 of the rest, so that mutated content reaches the
// section parsers and the consistency checks behind the checksum. Both go through
// decode_model<float>, decode_model<double> and decode_weights_into a small built model. Any
// kerascpp exception is an expected outcome; anything else (a crash, a sanitizer report, another
// exception type, a hang, a huge allocation) is a finding.
#include <kerascpp/serialization.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

namespace {

[[noreturn]] void finding(const char* where, const std::exception& e) {
  std::fprintf(stderr, "FINDING: %s threw a non-kerascpp exception: %s\n", where, e.what());
  std::abort();
}

template <typename Scalar>
void use(kerascpp::Sequential<Scalar>& model) {
  if (!model.built() || model.input_width() > 64) return;
  const kerascpp::Matrix<Scalar> x = kerascpp::Matrix<Scalar>::Constant(2, model.input_width(), Scalar(0.5));
  const kerascpp::Matrix<Scalar> out = model.predict(x);
  if (!model.compiled() || out.cols() > 64) return;
  const kerascpp::Matrix<Scalar> y = kerascpp::Matrix<Scalar>::Zero(2, out.cols());
  model.train_on_batch(x, y);
}

template <typename Scalar>
void load(std::string_view bytes) {
  try {
    auto model = kerascpp::serialization::decode_model<Scalar>(bytes, "<fuzz>");
    use(model);
  } catch (const kerascpp::IOError&) {
  } catch (const kerascpp::ValueError&) {
  } catch (const kerascpp::StateError&) {
  } catch (const std::exception& e) {
    finding("decode_model", e);
  }
}

kerascpp::Sequential<float>& weights_target() {
  static kerascpp::Sequential<float> model = [] {
    kerascpp::Sequential<float> m;
    m.add(kerascpp::layers::Dense<float>(2, "relu", kerascpp::input_shape{2}));
    m.add(kerascpp::layers::Dropout<float>(0.25));
    m.add(kerascpp::layers::BatchNormalization<float>());
    m.add(kerascpp::layers::Dense<float>(1, "sigmoid"));
    return m;
  }();
  return model;
}

void load_weights(std::string_view bytes) {
  try {
    kerascpp::serialization::decode_weights_into(weights_target(), bytes, "<fuzz>");
  } catch (const kerascpp::IOError&) {
  } catch (const kerascpp::ValueError&) {
  } catch (const kerascpp::StateError&) {
  } catch (const std::exception& e) {
    finding("decode_weights_into", e);
  }
  try {
    kerascpp::Sequential<double> unbuilt;
    unbuilt.add(kerascpp::layers::Dense<double>(2, "relu"));
    unbuilt.add(kerascpp::layers::Dropout<double>(0.25));
    unbuilt.add(kerascpp::layers::BatchNormalization<double>());
    unbuilt.add(kerascpp::layers::Dense<double>(1, "sigmoid"));
    kerascpp::serialization::decode_weights_into(unbuilt, bytes, "<fuzz>");
  } catch (const kerascpp::IOError&) {
  } catch (const kerascpp::ValueError&) {
  } catch (const kerascpp::StateError&) {
  } catch (const std::exception& e) {
    finding("decode_weights_into (unbuilt)", e);
  }
}

void run(std::string_view bytes) {
  load<float>(bytes);
  load<double>(bytes);
  load_weights(bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string raw(reinterpret_cast<const char*>(data), size);
  run(raw);
  if (size >= kerascpp::serialization::header_size + kerascpp::serialization::checksum_size) {
    std::string fixed = raw;
    const std::uint32_t crc = kerascpp::serialization::crc32(std::string_view(fixed).substr(0, size - 4));
    for (int k = 0; k < 4; ++k) fixed[size - 4 + static_cast<std::size_t>(k)] = static_cast<char>((crc >> (8 * k)) & 0xFFU);
    if (fixed != raw) run(fixed);
  }
  return 0;
}
