// examples/common.hpp — what every course example shares: command-line options, finding the
// bundled data, and writing the History as CSV and learning curves as SVG.
#pragma once

#include <kerascpp/kerascpp.hpp>
#include <kerascpp/plot.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>

#ifndef KERASCPP_DATA_DIR
#define KERASCPP_DATA_DIR "data"
#endif

namespace example {

struct Args {
  std::uint64_t seed = 0;
  int epochs = 0;
  bool quiet = false;
  bool unscaled = false;
  std::filesystem::path out = "out";
  std::filesystem::path data = KERASCPP_DATA_DIR;
};

inline void usage(const char* program, int default_epochs, bool has_unscaled) {
  std::cout << "usage: " << program << " [--seed N] [--epochs N] [--quiet] [--out DIR] [--data DIR]"
            << (has_unscaled ? " [--unscaled]" : "") << "\n"
            << "  --seed N     seed for initialization, shuffling and dropout (default 0)\n"
            << "  --epochs N   number of epochs (default " << default_epochs << ")\n"
            << "  --quiet      no progress bar\n"
            << "  --out DIR    folder for history.csv and learning_curves.svg (default ./out)\n"
            << "  --data DIR   folder holding the course's CSV files (default " << KERASCPP_DATA_DIR << ")\n";
  if (has_unscaled) std::cout << "  --unscaled   train on the raw, unscaled features\n";
}

/// Parses the options every example accepts; exits with a message on a bad one.
inline Args parse(int argc, char** argv, int default_epochs, bool has_unscaled = false) {
  Args args;
  args.epochs = default_epochs;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << argv[0] << ": " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    const auto number = [&](const std::string& text) {
      try {
        std::size_t used = 0;
        const long long n = std::stoll(text, &used);
        if (used != text.size() || n < 0) throw std::invalid_argument(text);
        return n;
      } catch (const std::exception&) {
        std::cerr << argv[0] << ": " << a << " needs a non-negative integer, received '" << text << "'\n";
        std::exit(2);
      }
    };
    if (a == "--seed") args.seed = static_cast<std::uint64_t>(number(value()));
    else if (a == "--epochs") args.epochs = static_cast<int>(number(value()));
    else if (a == "--quiet") args.quiet = true;
    else if (a == "--out") args.out = value();
    else if (a == "--data") args.data = value();
    else if (a == "--unscaled" && has_unscaled) args.unscaled = true;
    else if (a == "--help" || a == "-h") {
      usage(argv[0], default_epochs, has_unscaled);
      std::exit(0);
    } else {
      std::cerr << argv[0] << ": unknown option '" << a << "'\n";
      usage(argv[0], default_epochs, has_unscaled);
      std::exit(2);
    }
  }
  return args;
}

/// Writes history.csv and learning_curves.svg into args.out and says where they are.
template <typename Scalar>
void save_history(const kerascpp::History<Scalar>& history, const Args& args, const std::string& title) {
  std::filesystem::create_directories(args.out);
  kerascpp::plot::save_history_csv(history, args.out / "history.csv");
  kerascpp::plot::LearningCurvesOptions options;
  options.title = title;
  kerascpp::plot::save_learning_curves(history, args.out / "learning_curves.svg", options);
  if (!args.quiet)
    std::cout << "History written to " << (args.out / "history.csv").string() << ", learning curves to "
              << (args.out / "learning_curves.svg").string() << "\n";
}

/// Runs an example's body and turns any exception into a message and exit status 1.
template <typename Body>
int run(Body&& body) {
  try {
    body();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace example
