// kerascpp/data.hpp — loading, looking at and preprocessing data: `read_csv`, `read_arff`, `DataFrame`
// (printed as pandas prints it), `RandomState`,
// the `MinMaxScaler` / `StandardScaler` column scalers, and the `LabelEncoder` / `OneHotEncoder` /
// `get_dummies` / `factorize` encoders, and `CsvDataset`, a CSV file streamed in batches (namespace
// kerascpp::data).
#pragma once

#include <kerascpp/data/arff.hpp>
#include <kerascpp/data/csv.hpp>
#include <kerascpp/data/csv_dataset.hpp>
#include <kerascpp/data/display.hpp>
#include <kerascpp/data/encoders.hpp>
#include <kerascpp/data/random_state.hpp>
#include <kerascpp/data/scalers.hpp>
#include <kerascpp/data/table.hpp>
