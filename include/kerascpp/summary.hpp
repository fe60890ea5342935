// kerascpp/summary.hpp — the model summary table as tf.keras prints it.
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/layers/layer.hpp>

#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

namespace kerascpp::detail {

/// Prints the tf.keras table: layer name and type, output shape and parameter count, one row per
/// layer (long names wrap), then total, trainable and non-trainable parameter counts.
template <typename Scalar>
void print_summary(const std::vector<LayerPtr<Scalar>>& layers, std::ostream& out, const std::string& model_name) {
  constexpr std::size_t line = 65, first = 29, second = 55, wrap = 26;
  const auto row = [&](const std::string& name, const std::string& shape, const std::string& params) {
    for (std::size_t start = 0; start == 0 || start < name.size(); start += wrap) {
      std::string s(1, ' ');
      s += name.substr(start, wrap);
      s.resize(first, ' ');
      s += start == 0 ? shape : std::string();
      s.resize(second, ' ');
      s += start == 0 ? params : std::string();
      s.resize(line, ' ');
      out << s << "\n";
    }
  };
  const std::string spacer(line, ' ');
  out << "Model: \"" << model_name << "\"\n" << std::string(line, '_') << "\n";
  row("Layer (type)", "Output Shape", "Param #");
  out << std::string(line, '=') << "\n";
  Index total = 0, trainable = 0;
  for (const auto& layer : layers) {
    auto& l = *layer;
    Index params = 0;
    for (const auto& w : l.weights()) {
      params += w.value->size();
      if (w.trainable()) trainable += w.value->size();
    }
    total += params;
    const std::string shape = l.built() ? detail::cat("(None, ", l.output_width(), ")") : std::string("(unbuilt)");
    row(l.name() + " (" + l.type() + ")", shape, std::to_string(params));
    out << spacer << "\n";
  }
  const auto size = [](Index n) {
    const double bytes = static_cast<double>(n) * sizeof(Scalar);
    char buf[64];
    if (bytes < 1024) std::snprintf(buf, sizeof buf, "%.2f Byte", bytes);
    else if (bytes < 1024.0 * 1024) std::snprintf(buf, sizeof buf, "%.2f KB", bytes / 1024);
    else std::snprintf(buf, sizeof buf, "%.2f MB", bytes / (1024.0 * 1024));
    return std::string(buf);
  };
  out << std::string(line, '=') << "\n"
      << "Total params: " << total << " (" << size(total) << ")\n"
      << "Trainable params: " << trainable << " (" << size(trainable) << ")\n"
      << "Non-trainable params: " << total - trainable << " (" << size(total - trainable) << ")\n"
      << std::string(line, '_') << "\n";
}

}  // namespace kerascpp::detail
