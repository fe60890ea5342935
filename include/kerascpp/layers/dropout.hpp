// kerascpp/layers/dropout.hpp — Dropout: in training, y = x ∘ mask / (1 − rate) with mask ~
// Bernoulli(1 − rate); at inference, y = x. The mask comes from a counter-based generator: the draw
// for element (row, col) is a hash of (key, optimizer step, row within the whole batch, col), so it
// does not depend on how the batch is split between threads or processes, and a resumed run draws
// the same masks as an uninterrupted one.
#pragma once

#include <kerascpp/layers/layer.hpp>
#include <kerascpp/registry.hpp>

#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

namespace kerascpp::layers {

template <typename Scalar = float>
class Dropout : public Layer<Scalar> {
 public:
  /// rate is the fraction of inputs dropped, in [0, 1). Without a seed the layer draws its seed
  /// from the model's seed when the model is built.
  explicit Dropout(double rate, std::optional<std::uint64_t> seed = std::nullopt) : rate_(rate), seed_(seed) {
    if (!(rate >= 0.0 && rate < 1.0)) detail::fail("Dropout: rate must be in [0, 1), received rate=", rate);
    if (seed) key_ = *seed;
  }

  std::string type() const override { return "Dropout"; }
  std::string name_prefix() const override { return "dropout"; }
  std::unique_ptr<Layer<Scalar>> clone() const override { return std::make_unique<Dropout>(*this); }
  Config config() const override {
    Config c{{"rate", detail::number(rate_)}};
    if (seed_) c["seed"] = std::to_string(*seed_);
    return c;
  }
  Index output_width() const override { return this->input_width_; }
  double rate() const { return rate_; }
  std::optional<std::uint64_t> seed() const { return seed_; }
  /// The generator's whole state: the masks of a step are a function of it and the step.
  std::uint64_t key() const { return key_; }
  void set_key(std::uint64_t key) { key_ = key; }

  void seed_layer(std::uint64_t seed) override {
    if (!seed_) key_ = seed;
  }
  void set_position(BatchPosition position) override { position_ = position; }

  /// Uses the given mask (1 keeps, 0 drops) instead of random draws; for tests.
  void set_fixed_mask(RowMatrix<Scalar> mask) { fixed_mask_ = std::move(mask); }

  ConstMatrixView<Scalar> forward(ConstMatrixView<Scalar> x, bool training) override {
    rows_ = x.rows();
    training_ = training && rate_ > 0.0;
    if (!training_) return x;
    const Index cols = x.cols();
    auto mask = mask_.view(rows_, cols);
    const Scalar keep_scale = Scalar(1.0 / (1.0 - rate_));
    if (fixed_mask_.size() != 0) {
      if (fixed_mask_.rows() != rows_ || fixed_mask_.cols() != cols)
        detail::fail(this->name_, ": fixed mask has shape ", detail::shape_string(fixed_mask_.rows(), fixed_mask_.cols()),
                     " but the input has shape ", detail::shape_string(rows_, cols));
      mask = fixed_mask_ * keep_scale;
    } else {
      // One 64-bit hash gives the 32-bit uniforms of two neighbouring inputs (its low half the
      // even one); an input is kept when its uniform ≥ rate. The hashes of a row are computed in
      // one loop and compared in another, so that both vectorize.
      const auto threshold = static_cast<std::uint32_t>(rate_ * 4294967296.0);
      const std::uint64_t step_key = mix(key_ + (position_.step + 1) * 0x9E3779B97F4A7C15ULL);
      const Index pairs = (cols + 1) / 2;
      if (words_.size() < static_cast<std::size_t>(pairs)) {
        words_.resize(static_cast<std::size_t>(pairs));
        draws_.resize(static_cast<std::size_t>(2 * pairs));
      }
      for (Index r = 0; r < rows_; ++r) {
        const auto row = static_cast<std::uint64_t>(position_.first_row + r);
        const std::uint64_t row_key = mix(step_key ^ (row * 0xD1B54A32D192ED03ULL + 1));
        std::uint64_t* words = words_.data();
        for (Index k = 0; k < pairs; ++k)
          words[k] = mix(row_key + static_cast<std::uint64_t>(2 * k + 2) * 0x9E3779B97F4A7C15ULL);
        std::uint32_t* draws = draws_.data();
        halves(words, pairs, draws);
        Scalar* m = mask.data() + r * cols;
        for (Index j = 0; j < cols; ++j) m[j] = draws[j] >= threshold ? keep_scale : Scalar(0);
      }
    }
    auto y = y_.view(rows_, cols);
    y.array() = x.array() * mask.array();  // y = x ∘ mask / (1 − rate)
    return as_const(y);
  }

  ConstMatrixView<Scalar> backward(ConstMatrixView<Scalar> dy, bool need_input_grad, bool /*logits_grad*/) override {
    this->require_forward(rows_);
    if (!need_input_grad) return this->empty_view();
    if (!training_) return dy;
    auto mask = mask_.view(rows_, this->input_width_);
    auto dx = dx_.view(rows_, this->input_width_);
    dx.array() = dy.array() * mask.array();  // dx = dy ∘ mask / (1 − rate)
    return as_const(dx);
  }

 protected:
  void build_weights(Rng&) override {}

 private:
  /// splitmix64's output function: a bijection of 64-bit words that mixes every input bit.
  static std::uint64_t mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  /// The 32-bit halves of `n` words, low half first: draws[2k] = low(words[k]), draws[2k + 1] = high(words[k]).
  static void halves(const std::uint64_t* words, Index n, std::uint32_t* draws) {
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(draws, words, static_cast<std::size_t>(n) * sizeof(std::uint64_t));
    } else {
      for (Index k = 0; k < n; ++k) {
        draws[2 * k] = static_cast<std::uint32_t>(words[k]);
        draws[2 * k + 1] = static_cast<std::uint32_t>(words[k] >> 32);
      }
    }
  }

  double rate_;
  std::optional<std::uint64_t> seed_;
  std::uint64_t key_ = 0;
  BatchPosition position_;
  RowMatrix<Scalar> fixed_mask_;
  Buffer<Scalar> mask_, y_, dx_;
  std::vector<std::uint64_t> words_;  // one row's hashes, grown to the widest row and then reused
  std::vector<std::uint32_t> draws_;  // the same as 32-bit uniforms
  Index rows_ = -1;
  bool training_ = false;
};

}  // namespace kerascpp::layers

namespace kerascpp::layers {

/// How Dropout is saved: rate and optional seed; no weights; its random stream as saved state.
template <typename Scalar>
struct DropoutCodec {
  static LayerPtr<Scalar> from_config(ConfigReader& c, input_shape shape) {
    const double rate = c.number("rate");
    const std::optional<std::uint64_t> seed = c.optional_unsigned("seed");
    c.finish();
    if (shape.width != 0) c.fail(detail::cat("a Dropout layer cannot declare an input width, found ", shape.width));
    return std::make_unique<Dropout<Scalar>>(rate, seed);
  }
  static std::vector<WeightSpec> weight_specs(const Dropout<Scalar>&, Index width, Index& output_width) {
    output_width = width;
    return {};
  }
  static std::uint64_t get_state(Dropout<Scalar>& layer) { return layer.key(); }
  static void set_state(Dropout<Scalar>& layer, std::uint64_t state) { layer.set_key(state); }
  static Config sample_config() { return {{"rate", "0.25"}, {"seed", "7"}}; }
};

}  // namespace kerascpp::layers
