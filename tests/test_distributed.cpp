// Data-parallel training over MPI (kerascpp/distributed/mpi.hpp), run by ctest under mpiexec on 2
// and 3 processes: History and weights equal those of one process training on the whole batches,
// the weights are bit-identical on every process after every epoch, EarlyStopping stops at the
// same epoch, a run saved on some processes resumes on all of them, files are written by process 0
// alone (save, CSVLogger, and with KERASCPP_TEST_KERAS_FILES the Keras-file saves) and its failure
// to write ends fit on every process, and a process that fails ends fit on every process with its
// message. The hidden cases [.mpi_killed] and [.mpi_resume] are run by tests/mpi_killed_process.cmake:
// a job with a process killed by SIGKILL, then its training resumed on 3 processes. Compiled only
// with KERASCPP_TEST_MPI (set by tests/CMakeLists.txt when the target kerascpp::mpi exists), so that
// a build without MPI compiles this file to nothing.
#ifdef KERASCPP_TEST_MPI

#include <catch2/catch.hpp>
#include <kerascpp/data/csv.hpp>
#include <kerascpp/distributed/mpi.hpp>
#ifdef KERASCPP_TEST_KERAS_FILES
#include <kerascpp/keras_files.hpp>
#endif

#include "scratch_folder.hpp"

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace test_distributed {

namespace k = kerascpp;
using namespace k::layers;
using k::distributed::MpiStrategy;
using Catch::Matchers::Contains;

int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
int world_size() {
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

/// 103 rows of 5 features and one target, the same on every process: with validation_split 0.2
/// and batch_size 16, 82 training rows make five full batches and a last one of 2 rows, which 3
/// processes split as 0, 1 and 1 rows.
template <typename Scalar>
void make_data(k::Matrix<Scalar>& x, k::Matrix<Scalar>& y) {
  k::Rng rng(42);
  x.resize(103, 5);
  y.resize(103, 1);
  for (k::Index i = 0; i < x.rows(); ++i) {
    for (k::Index j = 0; j < x.cols(); ++j) x(i, j) = Scalar(rng.uniform() * 4.0 - 2.0);
    y(i, 0) = Scalar(std::sin(double(x(i, 0))) + 0.5 * double(x(i, 1) * x(i, 2)) - 0.25 * double(x(i, 4)));
  }
}

template <typename Scalar>
k::Sequential<Scalar> make_model() {
  k::Sequential<Scalar> model{Dense<Scalar>(16, "relu", k::input_shape{5}), BatchNormalization<Scalar>(0.9),
                              Dropout<Scalar>(0.25), Dense<Scalar>(8, "tanh", k::regularizers::l2(0.01)),
                              Dense<Scalar>(1)};
  model.set_seed(7);
  model.compile(k::optimizers::Adam<Scalar>(0.01), "mse", {"mae"});
  return model;
}

template <typename Scalar>
constexpr double tolerance() {
  return std::is_same_v<Scalar, float> ? 1e-6 : 1e-12;
}

/// |a − b| within `tol` relative to the larger magnitude (absolute below 1).
bool close(double a, double b, double tol) { return std::abs(a - b) <= tol * std::max({1.0, std::abs(a), std::abs(b)}); }

/// `got`, the History of the epochs from `first_epoch` on (a resumed fit's), against the same
/// epochs of `want`.
template <typename Scalar>
void check_same_history(const k::History<Scalar>& got, const k::History<Scalar>& want, std::size_t first_epoch = 0) {
  CHECK(got.epochs() + first_epoch == want.epochs());
  if (first_epoch <= want.epoch.size())
    CHECK(got.epoch == std::vector<int>(want.epoch.begin() + static_cast<std::ptrdiff_t>(first_epoch), want.epoch.end()));
  REQUIRE(got.history.size() == want.history.size());
  for (const auto& [key, values] : want.history) {
    const auto& mine = got.history.at(key);
    REQUIRE(mine.size() + first_epoch == values.size());
    for (std::size_t e = 0; e < mine.size(); ++e) {
      INFO(key << " epoch " << e + first_epoch << ": " << mine[e] << " against " << values[e + first_epoch]);
      CHECK(close(double(mine[e]), double(values[e + first_epoch]), tolerance<Scalar>()));
    }
  }
}

/// The History that a CSVLogger wrote to `file`.
template <typename Scalar>
k::History<Scalar> history_from_csv(const std::filesystem::path& file) {
  const auto frame = k::data::read_csv(file);
  k::History<Scalar> history;
  for (const double epoch : frame.numbers("epoch")) history.epoch.push_back(static_cast<int>(epoch));
  for (const auto& name : frame.columns())
    if (name != "epoch") history.history[name] = frame.numbers(name);
  return history;
}

/// The names of the entries of `folder`, sorted.
std::vector<std::string> entries_of(const std::filesystem::path& folder) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

template <typename Scalar>
void check_same_weights(k::Sequential<Scalar>& got, k::Sequential<Scalar>& want) {
  const auto a = got.get_weights(), b = want.get_weights();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double scale = std::max(1.0, double(b[i].cwiseAbs().maxCoeff()));
    INFO("weight " << i);
    CHECK(double((a[i] - b[i]).cwiseAbs().maxCoeff()) <= tolerance<Scalar>() * scale);
  }
}

/// Whether every process of `comm` holds bit-identical weights.
template <typename Scalar>
bool identical_everywhere(const k::Sequential<Scalar>& model, MPI_Comm comm = MPI_COMM_WORLD) {
  std::uint64_t low = MpiStrategy<Scalar>::weights_fingerprint(model), high = low;
  MPI_Allreduce(MPI_IN_PLACE, &low, 1, MPI_UINT64_T, MPI_MIN, comm);
  MPI_Allreduce(MPI_IN_PLACE, &high, 1, MPI_UINT64_T, MPI_MAX, comm);
  return low == high;
}

template <typename Scalar>
k::FitOptions<Scalar> options(int epochs) {
  k::FitOptions<Scalar> o;
  o.batch_size = 16;
  o.epochs = epochs;
  o.verbose = 0;
  o.validation_split = 0.2;
  return o;
}

TEMPLATE_TEST_CASE("History and weights on every process equal one process's, bit-identical across processes",
                   "[mpi]", float, double) {
  using Scalar = TestType;
  k::Matrix<Scalar> x, y;
  make_data(x, y);

  auto alone = make_model<Scalar>();
  const auto want = alone.fit(x, y, options<Scalar>(5));

  MpiStrategy<Scalar> strategy;
  auto model = make_model<Scalar>();
  strategy.attach(model);
  std::vector<int> identical;
  k::callbacks::LambdaCallback<Scalar> fingerprints;
  fingerprints.epoch_end = [&](int, k::Logs&) { identical.push_back(identical_everywhere(model) ? 1 : 0); };
  auto o = options<Scalar>(5);
  o.callbacks = {&fingerprints};
  const auto got = model.fit(x, y, o);

  CHECK(identical == std::vector<int>(5, 1));
  check_same_history(got, want);
  check_same_weights(model, alone);

  // evaluate is sharded too, and gives one process's values.
  const auto eval_got = model.evaluate(x, y, {.batch_size = 10});
  const auto eval_want = alone.evaluate(x, y, {.batch_size = 10});
  for (const auto& [key, value] : eval_want) CHECK(close(eval_got.at(key), value, tolerance<Scalar>()));
}

TEMPLATE_TEST_CASE("gradients summed and the step shared in shared memory, or summed by MPI_Allreduce, give one "
                   "process's History, weights and optimizer state, with and without gradient clipping", "[mpi]", float,
                   double) {
  using Scalar = TestType;
  k::Matrix<Scalar> x, y;
  make_data(x, y);
  for (const bool clip : {false, true}) {
    INFO("global_clipnorm " << (clip ? "0.5" : "none"));
    const auto make = [&] {
      auto model = make_model<Scalar>();
      k::optimizers::Adam<Scalar> adam(0.01);
      if (clip) adam.set_clipping({.global_clipnorm = 0.5});
      model.compile(adam, "mse", {"mae"});
      return model;
    };
    auto alone = make();
    const auto want = alone.fit(x, y, options<Scalar>(3));
    for (const bool shared : {true, false}) {
      INFO((shared ? "shared memory" : "MPI_Allreduce"));
      MpiStrategy<Scalar> strategy;
      strategy.use_shared_memory(shared);
      auto model = make();
      strategy.attach(model);
      const auto got = model.fit(x, y, options<Scalar>(3));
      // Every process of this test runs on one machine, where the sum goes through shared memory
      // unless switched off.
      CHECK(strategy.summing_in_shared_memory() == (shared && world_size() > 1));
      // ... and each process updates its part of the weights and of Adam's slots, which sit in
      // shared memory during fit and are the optimizer's own again after it.
      CHECK(strategy.sharing_step() == (shared && world_size() > 1));
      CHECK(model.optimizer().slots_place() == nullptr);
      CHECK(strategy.gradient_traffic().calls == (world_size() > 1 ? 18u : 0u));  // 3 epochs of 6 batches
      CHECK(identical_everywhere(model));
      check_same_history(got, want);
      check_same_weights(model, alone);
      REQUIRE(model.optimizer().slot_count() == alone.optimizer().slot_count());
      // The slots average raw gradients, whose float rounding (the order of the sum over processes)
      // they carry undamped: within 10× the weights' tolerance.
      for (std::size_t i = 0; i < model.optimizer().slot_weights(); ++i)
        for (int k = 0; k < 2; ++k) {
          INFO("slot " << k << " of weight " << i);
          const auto a = model.optimizer().slot(i, k), b = alone.optimizer().slot(i, k);
          CHECK(double((a - b).cwiseAbs().maxCoeff()) <= 10 * tolerance<Scalar>() * std::max(1.0, double(b.cwiseAbs().maxCoeff())));
        }
    }
  }
}

TEST_CASE("EarlyStopping stops at the same epoch on every process as on one process", "[mpi]") {
  k::Matrix<double> x, y;
  make_data(x, y);
  const auto early = [] {
    return k::callbacks::EarlyStopping<double>({.monitor = "val_loss", .min_delta = 0.05, .patience = 1,
                                                .restore_best_weights = true});
  };
  auto alone = make_model<double>();
  auto stop_alone = early();
  auto o = options<double>(40);
  o.callbacks = {&stop_alone};
  const auto want = alone.fit(x, y, o);
  REQUIRE(want.epochs() < 40);

  MpiStrategy<double> strategy;
  auto model = make_model<double>();
  strategy.attach(model);
  auto stop = early();
  o.callbacks = {&stop};
  const auto got = model.fit(x, y, o);
  CHECK(got.epochs() == want.epochs());
  check_same_history(got, want);
  check_same_weights(model, alone);
  CHECK(identical_everywhere(model));
}

/// The same folder on every process: process 0's scratch folder, sent to the others.
std::filesystem::path shared_folder(const kerascpp_test::ScratchFolder& scratch) {
  std::string folder;
  if (world_rank() == 0) folder = scratch.path().string();
  std::int64_t length = static_cast<std::int64_t>(folder.size());
  MPI_Bcast(&length, 1, MPI_INT64_T, 0, MPI_COMM_WORLD);
  folder.resize(static_cast<std::size_t>(length));
  MPI_Bcast(folder.data(), static_cast<int>(length), MPI_CHAR, 0, MPI_COMM_WORLD);
  return folder;
}

/// fit fails on every process because process 0 cannot write into a folder named "missing": each
/// process throws an IOError, and the others' messages name process 0.
template <typename Scalar>
void check_write_failure_everywhere(k::Sequential<Scalar>& model, const k::Matrix<Scalar>& x,
                                    const k::Matrix<Scalar>& y, const k::FitOptions<Scalar>& o) {
  std::string message;
  try {
    model.fit(x, y, o);
  } catch (const k::IOError& e) {
    message = e.what();
  }
  CHECK_THAT(message, Contains("cannot write") && Contains("missing"));
  if (world_rank() != 0) CHECK_THAT(message, Contains("process 0 of " + std::to_string(world_size()) + " failed"));
}

TEST_CASE("a run saved on fewer processes resumes on all of them as if uninterrupted", "[mpi]") {
  k::Matrix<double> x, y;
  make_data(x, y);
  auto alone = make_model<double>();
  const auto want = alone.fit(x, y, options<double>(4));

  // The first max(1, n − 1) processes train two epochs and save; every process resumes.
  const int savers = std::max(1, world_size() - 1);
  kerascpp_test::ScratchFolder scratch;
  const std::filesystem::path file = shared_folder(scratch) / "half.kcpp";

  MPI_Comm part = MPI_COMM_NULL;
  MPI_Comm_split(MPI_COMM_WORLD, world_rank() < savers ? 0 : MPI_UNDEFINED, world_rank(), &part);
  k::History<double> first;
  if (part != MPI_COMM_NULL) {
    MpiStrategy<double> strategy(part);
    auto model = make_model<double>();
    strategy.attach(model);
    first = model.fit(x, y, options<double>(2));
    model.save(file);  // process 0 of `part` writes
    MPI_Comm_free(&part);
  }
  MPI_Barrier(MPI_COMM_WORLD);

  MpiStrategy<double> strategy;
  auto resumed = k::load_model<double>(file);
  strategy.attach(resumed);
  strategy.check_identical(resumed);
  auto o = options<double>(4);
  o.initial_epoch = 2;
  const auto second = resumed.fit(x, y, o);
  check_same_history(second, want, 2);
  check_same_weights(resumed, alone);
  CHECK(identical_everywhere(resumed));
  MPI_Barrier(MPI_COMM_WORLD);  // nobody removes the folder while another process reads the file
}

TEST_CASE("save and save_weights write on process 0 alone when a strategy is attached", "[mpi]") {
  kerascpp_test::ScratchFolder scratch;
  const std::filesystem::path folder = shared_folder(scratch);
  const std::filesystem::path model_file = folder / "model.kcpp", weights_file = folder / "model.weights.kcpp";
  MpiStrategy<double> strategy;
  auto model = make_model<double>();
  strategy.attach(model);

  // The other processes save first, while process 0 waits: no file appears.
  if (world_rank() != 0) {
    model.save(model_file);
    model.save_weights(weights_file);
    k::ModelInterface<double>& through_callbacks = model;
    through_callbacks.save(model_file);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  CHECK_FALSE(std::filesystem::exists(model_file));
  CHECK_FALSE(std::filesystem::exists(weights_file));
  MPI_Barrier(MPI_COMM_WORLD);

  if (world_rank() == 0) {
    model.save(model_file);
    model.save_weights(weights_file);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  CHECK(std::filesystem::exists(model_file));
  CHECK(std::filesystem::exists(weights_file));
  MPI_Barrier(MPI_COMM_WORLD);  // nobody removes the folder while another process looks at it
}

TEST_CASE("CSVLogger writes on process 0 alone, and its failure to write ends fit on every process", "[mpi]") {
  kerascpp_test::ScratchFolder scratch;
  const std::filesystem::path folder = shared_folder(scratch);
  k::Matrix<double> x, y;
  make_data(x, y);
  MpiStrategy<double> strategy;
  auto model = make_model<double>();
  strategy.attach(model);

  // Every process names a file of its own: only process 0's is written, with the History's values.
  k::callbacks::CSVLogger<double> log(folder / ("log-" + std::to_string(world_rank()) + ".csv"));
  auto o = options<double>(2);
  o.callbacks = {&log};
  const auto history = model.fit(x, y, o);
  MPI_Barrier(MPI_COMM_WORLD);
  CHECK(entries_of(folder) == std::vector<std::string>{"log-0.csv"});
  check_same_history(history_from_csv<double>(folder / "log-0.csv"), history);
  MPI_Barrier(MPI_COMM_WORLD);

  // Process 0's log is in a folder that does not exist: every process throws its IOError.
  k::callbacks::CSVLogger<double> lost(world_rank() == 0 ? folder / "missing" / "log.csv" : folder / "log.csv");
  o.callbacks = {&lost};
  check_write_failure_everywhere(model, x, y, o);
  MPI_Barrier(MPI_COMM_WORLD);
  CHECK(entries_of(folder) == std::vector<std::string>{"log-0.csv"});
  MPI_Barrier(MPI_COMM_WORLD);  // nobody removes the folder while another process looks at it
}

#ifdef KERASCPP_TEST_KERAS_FILES
TEST_CASE("keras::save_model and keras::save_weights write on process 0 alone, and a failure in fit reaches every "
          "process", "[mpi]") {
  kerascpp_test::ScratchFolder scratch;
  const std::filesystem::path folder = shared_folder(scratch);
  const std::filesystem::path model_file = folder / "model.keras", weights_file = folder / "model.weights.h5";
  k::Matrix<double> x, y;
  make_data(x, y);
  MpiStrategy<double> strategy;
  auto model = make_model<double>();
  strategy.attach(model);

  // The other processes save first, while process 0 waits: no file appears.
  if (world_rank() != 0) {
    k::keras::save_model(model, model_file);
    k::keras::save_weights(model, weights_file);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  CHECK(entries_of(folder).empty());
  MPI_Barrier(MPI_COMM_WORLD);
  if (world_rank() == 0) {
    k::keras::save_model(model, model_file);
    k::keras::save_weights(model, weights_file);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  CHECK(entries_of(folder) == std::vector<std::string>{"model.keras", "model.weights.h5"});
  MPI_Barrier(MPI_COMM_WORLD);

  // Saved from a callback that every process runs, into a folder that does not exist: process 0
  // fails, and every process throws its IOError.
  k::callbacks::LambdaCallback<double> saving;
  saving.epoch_end = [&](int, k::Logs&) { k::keras::save_model(model, folder / "missing" / "model.keras"); };
  auto o = options<double>(1);
  o.callbacks = {&saving};
  check_write_failure_everywhere(model, x, y, o);
  MPI_Barrier(MPI_COMM_WORLD);  // nobody removes the folder while another process looks at it
}
#endif

TEST_CASE("a process that throws in a callback ends fit on every process with its message", "[mpi]") {
  k::Matrix<double> x, y;
  make_data(x, y);
  MpiStrategy<double> strategy;
  auto model = make_model<double>();
  strategy.attach(model);
  k::callbacks::LambdaCallback<double> failing;
  failing.epoch_end = [&](int epoch, k::Logs&) {
    if (epoch == 1 && world_rank() == world_size() - 1) throw k::IOError("cannot write report.csv: disk full");
  };
  auto o = options<double>(5);
  o.callbacks = {&failing};
  std::string message;
  bool io_error = false;
  try {
    model.fit(x, y, o);
  } catch (const k::IOError& e) {
    io_error = true;
    message = e.what();
  }
  CHECK(io_error);
  CHECK_THAT(message, Contains("cannot write report.csv: disk full"));
  if (world_rank() != world_size() - 1) CHECK_THAT(message, Contains("process " + std::to_string(world_size() - 1)));

  // The processes are in step again: the same model trains on.
  o.callbacks = {};
  o.epochs = 1;
  CHECK(model.fit(x, y, o).epochs() == 1);
  CHECK(identical_everywhere(model));
}

TEST_CASE("fit refuses data or options that differ between processes, on every process", "[mpi]") {
  if (world_size() < 2) return;  // one process cannot differ from itself
  k::Matrix<double> x, y;
  make_data(x, y);
  MpiStrategy<double> strategy;
  auto model = make_model<double>();
  strategy.attach(model);
  auto o = options<double>(1);
  if (world_rank() == world_size() - 1) o.batch_size = 8;
  std::string message;
  try {
    model.fit(x, y, o);
  } catch (const k::ValueError& e) {
    message = e.what();
  }
  CHECK_THAT(message, Contains("disagree on batch_size") && Contains("process 0 has 16, another process has 8"));

  const k::Index rows = world_rank() == world_size() - 1 ? 90 : 103;
  o.batch_size = 16;
  message.clear();
  try {
    model.fit(x.topRows(rows), y.topRows(rows), o);
  } catch (const k::ValueError& e) {
    message = e.what();
  }
  CHECK_THAT(message, Contains("disagree on rows of the training data"));
}

/// A layer that fails inside a training step on the last process: the others wait for it in the
/// step's collective sums, so the job ends with its message (hidden: run by its own ctest case,
/// which expects the job to end).
template <typename Scalar>
class FailingLayer : public Activation<Scalar> {
 public:
  FailingLayer() : Activation<Scalar>("linear") {}
  std::unique_ptr<k::Layer<Scalar>> clone() const override { return std::make_unique<FailingLayer>(*this); }
  k::ConstMatrixView<Scalar> forward(k::ConstMatrixView<Scalar> x, bool training) override {
    if (training && ++calls_ == 3 && world_rank() == world_size() - 1)
      k::detail::fail("failing_layer: made to fail on process ", world_rank());
    return Activation<Scalar>::forward(x, training);
  }

 private:
  int calls_ = 0;
};

TEST_CASE("a process that fails inside a training step ends the job with its message", "[.mpi_abort]") {
  k::Matrix<double> x, y;
  make_data(x, y);
  MpiStrategy<double> strategy;
  k::Sequential<double> model{Dense<double>(8, "relu", k::input_shape{5}), FailingLayer<double>(), Dense<double>(1)};
  model.compile("sgd", "mse");
  strategy.attach(model);
  model.fit(x, y, options<double>(2));
}

/// A value that tests/mpi_killed_process.cmake sets in the environment of the killed-process tests.
std::string from_environment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) FAIL(name << " is not set: run this test through tests/mpi_killed_process.cmake");
  return value;
}

/// What ModelCheckpoint does when it replaces a checkpoint (save writes a temporary file and
/// renames it over `path`), killed with SIGKILL halfway through writing the temporary file.
void killed_while_replacing(const k::Sequential<float>& model, const std::filesystem::path& path) {
  const std::string bytes = k::serialization::encode_model(model);
  k::io::write_file_atomically(path, [&](std::ostream& out) {
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
    out.flush();
    std::raise(SIGKILL);
  });
}

TEST_CASE("a process killed at the start of epoch 3 ends the job after the checkpoint of epoch 2", "[.mpi_killed]") {
  const std::filesystem::path folder = from_environment("KERASCPP_TEST_FOLDER");
  const std::string kill = from_environment("KERASCPP_TEST_KILL");
  REQUIRE((kill == "last" || kill == "chief_while_saving"));
  k::Matrix<float> x, y;
  make_data(x, y);
  MpiStrategy<float> strategy;
  auto model = make_model<float>();
  strategy.attach(model);
  k::callbacks::ModelCheckpoint<float> checkpoint(folder / "epoch-{epoch:02d}.kcpp");
  k::callbacks::CSVLogger<float> log(folder / "log.csv", ',', true);
  k::callbacks::LambdaCallback<float> killer;
  killer.epoch_begin = [&](int epoch, k::Logs&) {
    if (epoch != 2) return;
    if (kill == "last" && world_rank() == world_size() - 1) std::raise(SIGKILL);
    if (kill == "chief_while_saving" && world_rank() == 0) killed_while_replacing(model, folder / "epoch-02.kcpp");
  };
  auto o = options<float>(5);
  o.callbacks = {&checkpoint, &log, &killer};
  model.fit(x, y, o);
  FAIL("fit returned, but a process was to be killed at the start of epoch 3");
}

TEST_CASE("training resumes from the last checkpoint with the History of a run that was not killed", "[.mpi_resume]") {
  const std::filesystem::path folder = from_environment("KERASCPP_TEST_FOLDER");
  k::Matrix<float> x, y;
  make_data(x, y);
  auto alone = make_model<float>();
  const auto want = alone.fit(x, y, options<float>(5));

  // The last checkpoint is the one of the highest epoch: the killed job saved epochs 1 and 2.
  int last = 0;
  for (const auto& name : entries_of(folder))
    if (name.starts_with("epoch-") && name.ends_with(".kcpp")) last = std::max(last, std::stoi(name.substr(6, 2)));
  REQUIRE(last == 2);

  MpiStrategy<float> strategy;
  auto resumed = k::load_model<float>(folder / "epoch-02.kcpp");
  strategy.attach(resumed);
  strategy.check_identical(resumed);
  k::callbacks::CSVLogger<float> log(folder / "log.csv", ',', true);
  auto o = options<float>(5);
  o.initial_epoch = last;
  o.callbacks = {&log};
  const auto tail = resumed.fit(x, y, o);
  check_same_history(tail, want, 2);
  check_same_weights(resumed, alone);
  CHECK(identical_everywhere(resumed));

  // The log that process 0 wrote in both jobs holds every epoch once, as the uninterrupted run.
  MPI_Barrier(MPI_COMM_WORLD);
  check_same_history(history_from_csv<float>(folder / "log.csv"), want);
}

}  // namespace test_distributed

// Catch's session, from tests/test_runner.cpp.
int run_catch_session(int argc, char** argv);

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  int result = run_catch_session(argc, argv);
  MPI_Allreduce(MPI_IN_PLACE, &result, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return result;
}

#endif  // KERASCPP_TEST_MPI
