#include <kerascpp/plot.hpp>

#include "scratch_folder.hpp"
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

// Everything of this file is in its own namespace, so that test files can share a translation unit.
namespace test_plot {

using kerascpp_test::ScratchFolder;

namespace fs = std::filesystem;
using kerascpp::IOError;
using kerascpp::ValueError;
using kerascpp::plot::HistoryMap;
using kerascpp::plot::LearningCurvesOptions;

namespace {

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();
constexpr double infinity = std::numeric_limits<double>::infinity();

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++count;
  return count;
}

/// The `points` attribute of every polyline, in document order.
std::vector<std::string> polyline_points(const std::string& svg) {
  std::vector<std::string> all;
  const std::string start = "<polyline";
  for (std::size_t at = svg.find(start); at != std::string::npos; at = svg.find(start, at + 1)) {
    const std::size_t open = svg.find("points=\"", at) + 8;
    all.push_back(svg.substr(open, svg.find('"', open) - open));
  }
  return all;
}

/// Number of "x,y" pairs in a points attribute.
std::size_t pair_count(const std::string& points) {
  if (points.empty()) return 0;
  return count_of(points, " ") + 1;
}

/// The y coordinates of a points attribute.
std::vector<double> y_coordinates(const std::string& points) {
  std::vector<double> ys;
  std::size_t at = 0;
  while (at < points.size()) {
    const std::size_t comma = points.find(',', at);
    std::size_t end = points.find(' ', comma);
    if (end == std::string::npos) end = points.size();
    ys.push_back(std::stod(points.substr(comma + 1, end - comma - 1)));
    at = end + 1;
  }
  return ys;
}

/// The value of attribute `name` in the first element after `marker`.
double attribute_after(const std::string& svg, const std::string& marker, const std::string& name) {
  const std::size_t from = svg.find(marker);
  REQUIRE(from != std::string::npos);
  const std::size_t open = svg.find(" " + name + "=\"", from) + name.size() + 3;
  return std::stod(svg.substr(open, svg.find('"', open) - open));
}

HistoryMap classification_history() {
  return {{"loss", {0.69, 0.52, 0.41, 0.35, 0.31}},
          {"val_loss", {0.70, 0.55, 0.47, 0.44, 0.43}},
          {"binary_accuracy", {0.55, 0.71, 0.80, 0.84, 0.87}},
          {"val_binary_accuracy", {0.53, 0.68, 0.76, 0.79, 0.80}}};
}

struct FakeHistory {
  HistoryMap history;
  int epochs_run = 0;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Nice ticks.

TEST_CASE("nice_ticks picks the smallest round step that fits", "[plot][ticks]") {
  using kerascpp::plot::nice_ticks;
  CHECK(nice_ticks(0.0921, 0.3012) == std::vector<double>{0.1, 0.15, 0.2, 0.25, 0.3});
  CHECK(nice_ticks(0.0, 1.0) == std::vector<double>{0.0, 0.2, 0.4, 0.6, 0.8, 1.0});
  CHECK(nice_ticks(0.0, 1.0, 11) == std::vector<double>{0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0});
  CHECK(nice_ticks(-3.2, 7.9) == std::vector<double>{-2.0, 0.0, 2.0, 4.0, 6.0});
  CHECK(nice_ticks(0.45, 0.55, 6) == std::vector<double>{0.46, 0.48, 0.5, 0.52, 0.54});
  CHECK(nice_ticks(0.4, 0.6, 4) == std::vector<double>{0.4, 0.5, 0.6});
  CHECK(nice_ticks(0.38, 0.62, 7) == std::vector<double>{0.4, 0.45, 0.5, 0.55, 0.6});
  CHECK(nice_ticks(-1250.0, 13500.0) == std::vector<double>{0.0, 2500.0, 5000.0, 7500.0, 10000.0, 12500.0});
  CHECK(nice_ticks(1e-5, 4e-5, 4) == std::vector<double>{1e-5, 2e-5, 3e-5, 4e-5});
  CHECK(nice_ticks(0.7, 0.7) == std::vector<double>{0.7});
}

TEST_CASE("nice_ticks with whole steps for epochs", "[plot][ticks]") {
  using kerascpp::plot::nice_ticks;
  CHECK(nice_ticks(0.45, 12.55, 9, true) == std::vector<double>{2.0, 4.0, 6.0, 8.0, 10.0, 12.0});
  CHECK(nice_ticks(0.9, 3.1, 9, true) == std::vector<double>{1.0, 2.0, 3.0});
  CHECK(nice_ticks(0.5, 1.5, 9, true) == std::vector<double>{1.0});
  CHECK(nice_ticks(-3.95, 104.95, 7, true) == std::vector<double>{0.0, 20.0, 40.0, 60.0, 80.0, 100.0});
  CHECK(nice_ticks(-0.95, 39.95, 9, true) == std::vector<double>{0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0});
}

TEST_CASE("nice_ticks keeps at least two ticks when the range allows", "[plot][ticks]") {
  using kerascpp::plot::nice_ticks;
  CHECK(nice_ticks(0.45, 12.55, 2, true) == std::vector<double>{5.0, 10.0});
  CHECK(nice_ticks(0.15, 0.95, 3) == std::vector<double>{0.25, 0.5, 0.75});
  CHECK(nice_ticks(0.26, 0.34, 2) == std::vector<double>{0.275, 0.3, 0.325});
  CHECK(nice_ticks(0.26, 0.34, 3) == std::vector<double>{0.275, 0.3, 0.325});
}

TEST_CASE("nice_ticks rejects bad bounds", "[plot][ticks]") {
  using kerascpp::plot::nice_ticks;
  CHECK_THROWS_AS(nice_ticks(not_a_number, 1.0), ValueError);
  CHECK_THROWS_AS(nice_ticks(0.0, infinity), ValueError);
  CHECK_THROWS_WITH(nice_ticks(2.0, 1.0), Catch::Contains("low <= high"));
  CHECK_THROWS_WITH(nice_ticks(0.0, 1.0, 1), Catch::Contains("max_ticks must be at least 2"));
}

TEST_CASE("nice_ticks handles ranges too narrow to divide and wider than the largest double", "[plot][ticks]") {
  using kerascpp::plot::nice_ticks;
  const double smallest = std::numeric_limits<double>::denorm_min();
  const double largest = std::numeric_limits<double>::max();
  const std::vector<double> tiny = nice_ticks(smallest, 2 * smallest);
  REQUIRE(tiny.size() == 1);
  CHECK(tiny[0] >= smallest);
  CHECK(tiny[0] <= 2 * smallest);
  CHECK(nice_ticks(1.0, 1.0 + 1e-300).size() == 1);
  const std::vector<double> huge = nice_ticks(-1e308, 1e308);
  REQUIRE(huge.size() == 5);
  CHECK(huge.front() / 1e308 == Approx(-1.0));
  CHECK(huge[2] == 0.0);
  CHECK(huge.back() / 1e308 == Approx(1.0));
  const std::vector<double> widest = nice_ticks(-largest, largest);
  REQUIRE(widest.size() >= 2);
  for (const double tick : widest) {
    CHECK(std::isfinite(tick));
    CHECK(std::abs(tick) <= largest);
  }
}

TEST_CASE("format_tick shows the same decimals on every tick of an axis", "[plot][ticks]") {
  using kerascpp::plot::format_tick;
  CHECK(format_tick(0.1, 0.05) == "0.10");
  CHECK(format_tick(0.15, 0.05) == "0.15");
  CHECK(format_tick(0.525, 0.025) == "0.525");
  CHECK(format_tick(20.0, 20.0) == "20");
  CHECK(format_tick(-2.0, 2.0) == "-2");
  CHECK(format_tick(1e-17, 0.1) == "0.0");
  CHECK(format_tick(-1e-17, 0.1) == "0.0");
  CHECK(format_tick(1e-5, 1e-5) == "0.00001");
  CHECK(format_tick(3e-8, 1e-8) == "3e-08");
  CHECK(format_tick(2.5e7, 5e6) == "2.5e+07");
}

TEST_CASE("ordered_keys puts loss first and each val_ key after its twin", "[plot]") {
  const HistoryMap history{{"val_loss", {}},
                           {"loss", {}},
                           {"val_binary_accuracy", {}},
                           {"binary_accuracy", {}},
                           {"auc", {}},
                           {"val_auc", {}},
                           {"mae", {}},
                           {"val_only", {}}};
  CHECK(kerascpp::plot::ordered_keys(history) == std::vector<std::string>{"loss", "val_loss", "auc", "val_auc",
                                                                          "binary_accuracy", "val_binary_accuracy",
                                                                          "mae", "val_only"});
}

// ---------------------------------------------------------------------------------------------
// SVG.

TEST_CASE("learning_curves_svg is a well-formed SVG document", "[plot][svg]") {
  const std::string svg = kerascpp::plot::learning_curves_svg(classification_history());
  REQUIRE(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  REQUIRE(svg.size() > 7);
  CHECK(svg.substr(svg.size() - 7) == "</svg>\n");
  CHECK(count_of(svg, "<svg") == 1);
  CHECK(count_of(svg, "</svg>") == 1);
  CHECK(count_of(svg, "<g ") + count_of(svg, "<g>") == count_of(svg, "</g>"));
  CHECK(count_of(svg, "<text") == count_of(svg, "</text>"));
  CHECK(count_of(svg, "<g class=\"panel\"") == 2);
  CHECK(svg.find("nan") == std::string::npos);
}

TEST_CASE("learning_curves_svg draws a loss panel and a metric panel with legends and labels", "[plot][svg]") {
  const std::string svg = kerascpp::plot::learning_curves_svg(classification_history());
  for (const char* legend :
       {">loss</text>", ">val_loss</text>", ">binary_accuracy</text>", ">val_binary_accuracy</text>"})
    CHECK(svg.find(legend) != std::string::npos);
  CHECK(count_of(svg, ">epoch</text>") == 2);
  CHECK(count_of(svg, ">loss</text>") == 2);
  CHECK(count_of(svg, ">binary_accuracy</text>") == 2);
  CHECK(svg.find(">Training and validation loss</text>") != std::string::npos);
  CHECK(svg.find(">Training and validation binary accuracy</text>") != std::string::npos);
  CHECK(count_of(svg, "stroke=\"#1f77b4\"") >= 2);
  CHECK(count_of(svg, "stroke=\"#ff7f0e\"") >= 2);
  CHECK(svg.find("width=\"920\" height=\"340\"") != std::string::npos);
  CHECK(svg.find(">Training and validation loss</text>") < svg.find(">Training and validation binary accuracy</text>"));
}

TEST_CASE("learning_curves_svg draws one point per epoch for each series", "[plot][svg]") {
  const std::string svg = kerascpp::plot::learning_curves_svg(classification_history());
  const std::vector<std::string> lines = polyline_points(svg);
  REQUIRE(lines.size() == 4);
  for (const auto& points : lines) CHECK(pair_count(points) == 5);
  const std::vector<double> loss_y = y_coordinates(lines[0]);
  for (std::size_t i = 1; i < loss_y.size(); ++i) CHECK(loss_y[i] > loss_y[i - 1]);
  CHECK(count_of(svg, "<circle") == 0);
}

TEST_CASE("learning_curves_svg labels ticks at nice values, epochs from 1", "[plot][svg]") {
  const HistoryMap history{{"loss", {0.3012, 0.2, 0.0921}}};
  const std::string svg = kerascpp::plot::learning_curves_svg(history);
  for (const char* label : {">0.10</text>", ">0.15</text>", ">0.20</text>", ">0.25</text>", ">0.30</text>"})
    CHECK(svg.find(label) != std::string::npos);
  CHECK(svg.find(">0.05</text>") == std::string::npos);
  CHECK(svg.find(">0.35</text>") == std::string::npos);
  for (const char* label : {">1</text>", ">2</text>", ">3</text>"}) CHECK(svg.find(label) != std::string::npos);
  CHECK(svg.find(">0</text>") == std::string::npos);
  CHECK(svg.find(">4</text>") == std::string::npos);
  CHECK(count_of(svg, "<g class=\"panel\"") == 1);
  CHECK(svg.find(">Training loss</text>") != std::string::npos);
}

TEST_CASE("learning_curves_svg skips NaN and infinite values and breaks the line", "[plot][svg]") {
  const HistoryMap history{{"loss", {0.5, not_a_number, 0.4, 0.3, infinity, 0.2}},
                           {"val_loss", {0.6, 0.5, 0.45, 0.42, 0.41, 0.4}}};
  const std::string svg = kerascpp::plot::learning_curves_svg(history);
  const std::vector<std::string> lines = polyline_points(svg);
  REQUIRE(lines.size() == 2);
  CHECK(pair_count(lines[0]) == 2);
  CHECK(pair_count(lines[1]) == 6);
  CHECK(count_of(svg, "<circle") == 2);
  CHECK(svg.find("nan") == std::string::npos);
  CHECK(svg.find("inf") == std::string::npos);
}

TEST_CASE("learning_curves_svg notes a panel without any finite value", "[plot][svg]") {
  const HistoryMap history{{"loss", {0.5, 0.4}}, {"auc", {not_a_number, not_a_number}}};
  const std::string svg = kerascpp::plot::learning_curves_svg(history);
  CHECK(count_of(svg, ">no finite values</text>") == 1);
  CHECK(polyline_points(svg).size() == 1);
}

TEST_CASE("learning_curves_svg draws a single epoch as a marker", "[plot][svg]") {
  const HistoryMap history{{"loss", {0.5}}, {"val_loss", {0.6}}};
  const std::string svg = kerascpp::plot::learning_curves_svg(history);
  CHECK(polyline_points(svg).empty());
  CHECK(count_of(svg, "<circle") == 4);
  CHECK(svg.find(">1</text>") != std::string::npos);
  CHECK(svg.find(">0.50</text>") != std::string::npos);
  CHECK(svg.find(">0.60</text>") != std::string::npos);
}

TEST_CASE("learning_curves_svg pads the range of a constant series", "[plot][svg]") {
  const HistoryMap history{{"loss", {0.5, 0.5, 0.5}}};
  const std::string svg = kerascpp::plot::learning_curves_svg(history);
  const std::vector<std::string> lines = polyline_points(svg);
  REQUIRE(lines.size() == 1);
  const std::vector<double> ys = y_coordinates(lines[0]);
  REQUIRE(ys.size() == 3);
  CHECK(ys[0] == ys[1]);
  const double top = attribute_after(svg, "<g class=\"axes\"", "y");
  const double height = attribute_after(svg, "<g class=\"axes\"", "height");
  CHECK(ys[0] == Approx(top + height / 2.0).margin(0.01));
  CHECK(svg.find(">0.50</text>") != std::string::npos);
}

TEST_CASE("learning_curves_svg plots subnormal and near-overflow values on their scale", "[plot][svg]") {
  const double smallest = std::numeric_limits<double>::denorm_min();
  const double largest = std::numeric_limits<double>::max();
  const auto check_plotted = [](const HistoryMap& history, const std::string& scale) {
    const std::string svg = kerascpp::plot::learning_curves_svg(history);
    CHECK(svg.find("nan") == std::string::npos);
    CHECK(svg.find("inf") == std::string::npos);
    CHECK(svg.find(scale) != std::string::npos);
    const double top = attribute_after(svg, "<g class=\"axes\"", "y");
    const double height = attribute_after(svg, "<g class=\"axes\"", "height");
    const std::vector<std::string> lines = polyline_points(svg);
    REQUIRE(lines.size() == 1);
    for (const double y : y_coordinates(lines[0])) {
      CHECK(y >= top - 0.01);
      CHECK(y <= top + height + 0.01);
    }
  };
  SECTION("subnormal") { check_plotted(HistoryMap{{"loss", {smallest, 2 * smallest}}}, "e-32"); }
  SECTION("a constant subnormal") { check_plotted(HistoryMap{{"loss", {smallest, smallest}}}, "e-3"); }
  SECTION("huge of both signs") { check_plotted(HistoryMap{{"loss", {-1e308, 1e308}}}, "e+308"); }
  SECTION("the largest doubles") { check_plotted(HistoryMap{{"loss", {-largest, largest, 0.0}}}, "e+30"); }
  SECTION("a constant largest double") { check_plotted(HistoryMap{{"loss", {largest, largest}}}, "e+308"); }
}

TEST_CASE("learning_curves_svg draws series of different lengths with their own lengths", "[plot][svg]") {
  const HistoryMap history{{"loss", {0.9, 0.7, 0.6, 0.55, 0.5}}, {"val_loss", {1.0, 0.8, 0.75}}};
  const std::string svg = kerascpp::plot::learning_curves_svg(history);
  const std::vector<std::string> lines = polyline_points(svg);
  REQUIRE(lines.size() == 2);
  CHECK(pair_count(lines[0]) == 5);
  CHECK(pair_count(lines[1]) == 3);
  CHECK(svg.find(">5</text>") != std::string::npos);
}

TEST_CASE("learning_curves_svg places the legend away from the curves", "[plot][svg]") {
  const std::string svg = kerascpp::plot::learning_curves_svg(classification_history());
  const std::size_t second_panel = svg.find("<g class=\"panel\"", svg.find("<g class=\"panel\"") + 1);
  const std::string loss_panel = svg.substr(0, second_panel);
  const std::string accuracy_panel = svg.substr(second_panel);
  const double loss_top = attribute_after(loss_panel, "<g class=\"axes\"", "y");
  const double accuracy_top = attribute_after(accuracy_panel, "<g class=\"axes\"", "y");
  CHECK(attribute_after(loss_panel, "<g class=\"legend\"", "y") < loss_top + 20.0);
  const double accuracy_left = attribute_after(accuracy_panel, "<g class=\"axes\"", "x");
  const double accuracy_width = attribute_after(accuracy_panel, "<g class=\"axes\"", "width");
  const bool upper_right =
      attribute_after(accuracy_panel, "<g class=\"legend\"", "y") < accuracy_top + 20.0 &&
      attribute_after(accuracy_panel, "<g class=\"legend\"", "x") > accuracy_left + accuracy_width / 2.0;
  CHECK_FALSE(upper_right);
}

TEST_CASE("learning_curves_svg options choose keys, title and layout", "[plot][svg]") {
  const HistoryMap history = classification_history();
  LearningCurvesOptions options;
  options.keys = {"val_loss", "loss"};
  options.title = "Spotify <popularity> & \"genre\"";
  std::string svg = kerascpp::plot::learning_curves_svg(history, options);
  CHECK(count_of(svg, "<g class=\"panel\"") == 1);
  CHECK(svg.find("binary_accuracy") == std::string::npos);
  CHECK(svg.find(">Spotify &lt;popularity&gt; &amp; &quot;genre&quot;</text>") != std::string::npos);
  CHECK(svg.find("<popularity>") == std::string::npos);
  CHECK(svg.find("width=\"460\" height=\"376\"") != std::string::npos);
  CHECK(polyline_points(svg).size() == 2);
  CHECK(svg.find(">loss</text>") < svg.find(">val_loss</text>"));

  options = {};
  options.columns = 1;
  options.panel_width = 600;
  options.panel_height = 300;
  svg = kerascpp::plot::learning_curves_svg(history, options);
  CHECK(svg.find("width=\"600\" height=\"600\"") != std::string::npos);

  options.keys = {"val_binary_accuracy"};
  svg = kerascpp::plot::learning_curves_svg(history, options);
  CHECK(svg.find(">Validation binary accuracy</text>") != std::string::npos);
  CHECK(polyline_points(svg).size() == 1);
  CHECK(svg.find("stroke=\"#ff7f0e\" points=") != std::string::npos);
}

TEST_CASE("learning_curves_svg escapes metric names", "[plot][svg]") {
  const HistoryMap history{{"loss", {1.0, 0.5}}, {"a<b>&\"c\"", {0.1, 0.2}}};
  const std::string svg = kerascpp::plot::learning_curves_svg(history);
  CHECK(svg.find("a&lt;b&gt;&amp;&quot;c&quot;") != std::string::npos);
  CHECK(svg.find("a<b>") == std::string::npos);
}

TEST_CASE("learning_curves_svg reports what it cannot plot", "[plot][svg]") {
  using kerascpp::plot::learning_curves_svg;
  CHECK_THROWS_AS(learning_curves_svg(HistoryMap{}), ValueError);
  CHECK_THROWS_WITH(learning_curves_svg(HistoryMap{}), Catch::Contains("nothing to plot"));
  CHECK_THROWS_WITH(learning_curves_svg(HistoryMap{{"loss", {}}, {"val_loss", {}}}),
                    Catch::Contains("nothing to plot"));

  LearningCurvesOptions options;
  options.keys = {"loss", "accuracy"};
  CHECK_THROWS_AS(learning_curves_svg(classification_history(), options), ValueError);
  CHECK_THROWS_WITH(learning_curves_svg(classification_history(), options),
                    Catch::Contains("'accuracy'") &&
                        Catch::Contains("present keys: loss, val_loss, binary_accuracy, val_binary_accuracy"));

  options = {};
  options.panel_width = 50;
  CHECK_THROWS_WITH(learning_curves_svg(classification_history(), options), Catch::Contains("panel size"));
  options = {};
  options.columns = 0;
  CHECK_THROWS_WITH(learning_curves_svg(classification_history(), options), Catch::Contains("columns"));
}

TEST_CASE("learning_curves_svg accepts any object with a history member", "[plot][svg]") {
  FakeHistory fake{classification_history(), 5};
  CHECK(kerascpp::plot::learning_curves_svg(fake) == kerascpp::plot::learning_curves_svg(fake.history));
  LearningCurvesOptions options;
  options.keys = {"loss"};
  CHECK(kerascpp::plot::learning_curves_svg(fake, options) ==
        kerascpp::plot::learning_curves_svg(fake.history, options));
  CHECK(kerascpp::plot::history_csv(fake) == kerascpp::plot::history_csv(fake.history));
}

// ---------------------------------------------------------------------------------------------
// CSV.

TEST_CASE("history_csv writes one row per epoch with round-trip numbers", "[plot][csv]") {
  const HistoryMap history{{"val_binary_accuracy", {0.7, 0.8, 0.9}},
                           {"binary_accuracy", {0.1, 1.0 / 3.0, not_a_number}},
                           {"val_loss", {0.6, 0.3}},
                           {"loss", {0.5, 0.25, 0.125}}};
  const std::string csv = kerascpp::plot::history_csv(history);
  CHECK(csv ==
        "epoch,loss,val_loss,binary_accuracy,val_binary_accuracy\n"
        "1,0.5,0.6,0.1,0.7\n"
        "2,0.25,0.3,0.3333333333333333,0.8\n"
        "3,0.125,,nan,0.9\n");
  CHECK(std::stod("0.3333333333333333") == 1.0 / 3.0);
}

TEST_CASE("history_csv handles empty histories, infinities and awkward names", "[plot][csv]") {
  using kerascpp::plot::history_csv;
  CHECK(history_csv(HistoryMap{}) == "epoch\n");
  CHECK(history_csv(HistoryMap{{"loss", {}}}) == "epoch,loss\n");
  CHECK(history_csv(HistoryMap{{"loss", {infinity, -infinity, 1e-300}}}) == "epoch,loss\n1,inf\n2,-inf\n3,1e-300\n");
  CHECK(history_csv(HistoryMap{{"loss", {1.0}}, {"a,\"b\"", {2.0}}}) == "epoch,loss,\"a,\"\"b\"\"\"\n1,1,2\n");
}

// ---------------------------------------------------------------------------------------------
// Saving.

TEST_CASE("save_learning_curves and save_history_csv write whole files", "[plot][io]") {
  ScratchFolder folder;
  const HistoryMap history = classification_history();
  const fs::path svg_path = folder.path() / "curves.svg";
  const fs::path csv_path = folder.path() / "history.csv";
  kerascpp::plot::save_learning_curves(history, svg_path);
  kerascpp::plot::save_history_csv(history, csv_path);
  CHECK(kerascpp::io::read_file(svg_path) == kerascpp::plot::learning_curves_svg(history));
  CHECK(kerascpp::io::read_file(csv_path) == kerascpp::plot::history_csv(history));

  FakeHistory fake{{{"loss", {1.0, 0.5}}}, 2};
  LearningCurvesOptions options;
  options.title = "fake";
  kerascpp::plot::save_learning_curves(fake, svg_path, options);
  kerascpp::plot::save_history_csv(fake, csv_path);
  CHECK(kerascpp::io::read_file(svg_path) == kerascpp::plot::learning_curves_svg(fake.history, options));
  CHECK(kerascpp::io::read_file(csv_path) == "epoch,loss\n1,1\n2,0.5\n");
}

TEST_CASE("saving into a missing folder throws IOError and a bad history writes nothing", "[plot][io]") {
  ScratchFolder folder;
  const fs::path missing = folder.path() / "no" / "curves.svg";
  CHECK_THROWS_AS(kerascpp::plot::save_learning_curves(classification_history(), missing), IOError);
  CHECK_THROWS_WITH(kerascpp::plot::save_history_csv(classification_history(), missing),
                    Catch::Contains(missing.string()));

  const fs::path target = folder.path() / "curves.svg";
  kerascpp::plot::save_learning_curves(classification_history(), target);
  const std::string before = kerascpp::io::read_file(target);
  CHECK_THROWS_AS(kerascpp::plot::save_learning_curves(HistoryMap{}, target), ValueError);
  CHECK(kerascpp::io::read_file(target) == before);
}

}  // namespace test_plot
