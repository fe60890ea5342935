// kerascpp/serialization.hpp — saving and loading models: save_model, load_model, save_weights,
// load_weights and the byte-level encode/decode functions. Kept for compatibility; the code is in
// kerascpp/saving/ (codec.hpp: the file format, model_file.hpp: models in that format).
#pragma once

#include <kerascpp/saving/codec.hpp>
#include <kerascpp/saving/model_file.hpp>
