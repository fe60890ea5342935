// kerascpp/optimizers/clipping.hpp — Keras's gradient clipping settings, which every optimizer
// takes (the clipping itself is part of Optimizer's step, optimizers.hpp).
#pragma once

#include <optional>

namespace kerascpp::optimizers {

/// Keras's gradient clipping, at most one of the three: `clipnorm` scales each weight tensor's
/// gradient g to g·c / max(‖g‖, c), `global_clipnorm` scales every gradient by c / max(‖G‖, c) with
/// ‖G‖ the norm of all trainable gradients together, `clipvalue` clamps each element to [−c, c].
/// It applies to the batch's summed gradient, before the update (and before AdamW's weight decay).
struct GradientClipping {
  std::optional<double> clipnorm{};
  std::optional<double> clipvalue{};
  std::optional<double> global_clipnorm{};

  bool active() const { return clipnorm || clipvalue || global_clipnorm; }
  bool operator==(const GradientClipping&) const = default;
};

}  // namespace kerascpp::optimizers
