// Lesson 3's red-wine network (examples/03_sgd_red_wine.cpp) trained by several processes at once:
//
//     mpirun -np 2 ./07_data_parallel_red_wine
//
// Every process reads the data and builds the same model; the two added lines below make them
// split each global batch of 256 rows between them and sum their gradients, so the History and the
// final validation MAE are those of the one-process lesson for the same seed (docs/distributed.md).
// Only process 0 prints and writes files. Without mpirun it trains alone, like lesson 3.
#include "common.hpp"
#include "course_data.hpp"

#include <kerascpp/distributed/mpi.hpp>

namespace keras = kerascpp;
using namespace keras::layers;

int main(int argc, char** argv) {
  keras::distributed::MpiStrategy<float> strategy(argc, argv);  // 1: MPI, one process per rank
  const example::Args args = example::parse(argc, argv, 10);
  return example::run([&] {
    const example::Split wine = example::red_wine(args.data);
    if (!args.quiet && strategy.is_chief())
      std::cout << "Processes: " << strategy.ranks() << ", training rows: " << wine.x_train.rows()
                << ", validation rows: " << wine.x_valid.rows() << ", features: " << wine.x_train.cols() << "\n";

    keras::Sequential model{
        Dense(512, "relu", keras::input_shape{11}),
        Dense(512, "relu"),
        Dense(512, "relu"),
        Dense(1),
    };
    model.set_seed(args.seed);
    model.compile("adam", "mae");
    strategy.attach(model);  // 2: train with the other processes

    const keras::History history =
        model.fit(wine.x_train, wine.y_train,
                  {.batch_size = 256, .epochs = args.epochs, .verbose = args.quiet ? 0 : 1,
                   .validation_data = keras::Dataset{wine.x_valid, wine.y_valid}});

    if (!strategy.is_chief()) return;
    if (history.epochs() > 0)
      std::cout << "Validation MAE after " << history.epochs() << " epochs: " << history.at("val_loss").back()
                << " (minimum " << history.min("val_loss") << ")\n";
    if (history.epochs() > 0) example::save_history(history, args, "Red wine: 3x512 ReLU, Adam, MAE, data-parallel");
  });
}
