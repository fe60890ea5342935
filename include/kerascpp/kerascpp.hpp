// kerascpp/kerascpp.hpp — the umbrella header: the whole library in one include.
#pragma once

#include <kerascpp/activations.hpp>
#include <kerascpp/callbacks.hpp>
#include <kerascpp/callbacks/model_checkpoint.hpp>
#include <kerascpp/classification_report.hpp>
#include <kerascpp/core.hpp>
#include <kerascpp/initializers.hpp>
#include <kerascpp/layers.hpp>
#include <kerascpp/losses.hpp>
#include <kerascpp/metrics.hpp>
#include <kerascpp/optimizers.hpp>
#include <kerascpp/progress.hpp>
#include <kerascpp/regularizers.hpp>
#include <kerascpp/saving/model_file.hpp>
#include <kerascpp/sequential.hpp>
#include <kerascpp/threads.hpp>
