// kerascpp/data.hpp — CSV loading and preprocessing: `read_csv`, `DataFrame`, `RandomState`, and the
// `MinMaxScaler` / `StandardScaler` column scalers (namespace kerascpp::data).
#pragma once

#include <kerascpp/data/csv.hpp>
#include <kerascpp/data/random_state.hpp>
#include <kerascpp/data/scalers.hpp>
#include <kerascpp/data/table.hpp>
