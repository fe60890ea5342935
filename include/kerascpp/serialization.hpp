// kerascpp/serialization.hpp — saving and loading models.
//
// `save_model(model, path)` writes one binary file holding the architecture, every weight, the
// compile configuration and the training state (optimizer iterations and slots, the model seed,
// the shuffle and Dropout random streams), so that `load_model<Scalar>(path)` gives a model whose
// `predict` is bit-identical and whose `fit(..., {.initial_epoch = k})` goes on exactly where the
// saved one stopped. `save_weights` / `load_weights` do the weights alone, checking that the file
// matches the model's architecture.
//
// docs/file_format.md describes the format: little-endian whatever the host, a magic string and
// a format version, length-prefixed sections, and a CRC-32 of everything before it at the end.
// Files are written through `io::write_file_atomically`, so an interrupted save leaves the previous
// file untouched. Loading checks every field before it trusts it: a truncated, corrupted or
// hostile file throws `IOError` saying which check failed and at which byte; a valid file whose
// weights do not fit the model given to `load_weights` throws `ValueError` naming the first
// mismatching layer.
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/io.hpp>
#include <kerascpp/layers.hpp>
#include <kerascpp/losses.hpp>
#include <kerascpp/metrics.hpp>
#include <kerascpp/optimizers.hpp>
#include <kerascpp/sequential.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace kerascpp {
namespace serialization {

/// The 8 bytes every kerascpp file starts with.
inline constexpr std::string_view magic = "KERASCPP";
/// The format version this build writes and the only one it reads.
inline constexpr std::uint32_t format_version = 1;
/// Magic, kind byte, three reserved zero bytes, version.
inline constexpr std::size_t header_size = 16;
/// The CRC-32 at the end of the file.
inline constexpr std::size_t checksum_size = 4;

/// The byte after the magic: what the file holds.
enum class FileKind : std::uint8_t { model = 'M', weights = 'W' };

/// The tag byte before every array of numbers.
enum class DType : std::uint8_t { float32 = 1, float64 = 2 };

namespace detail {
/// The CRC-32 lookup table for the reflected polynomial 0xEDB88320.
inline constexpr std::array<std::uint32_t, 256> crc_table = [] {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1U) != 0 ? 0xEDB88320U ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}();
}  // namespace detail

/// CRC-32 of `bytes` as zlib and PNG compute it (IEEE 802.3 polynomial, reflected, initial value
/// and final xor 0xFFFFFFFF): crc32("123456789") == 0xCBF43926.
inline std::uint32_t crc32(std::string_view bytes) {
  std::uint32_t c = 0xFFFFFFFFU;
  for (const char ch : bytes) c = detail::crc_table[(c ^ static_cast<unsigned char>(ch)) & 0xFFU] ^ (c >> 8);
  return c ^ 0xFFFFFFFFU;
}

namespace detail {

using kerascpp::detail::cat;
using kerascpp::detail::join;
using kerascpp::detail::number;

/// The largest width, unit count or tensor dimension a file may declare.
inline constexpr std::int64_t max_dimension = std::numeric_limits<std::int32_t>::max();

/// The layer types a file may name, in the order the documentation lists them.
inline constexpr std::array<std::string_view, 4> layer_types{"Dense", "Activation", "Dropout", "BatchNormalization"};
/// The optimizer names a file may name (`Optimizer::name()`).
inline constexpr std::array<std::string_view, 5> optimizer_names{"SGD", "Adam", "AdamW", "RMSprop", "Adagrad"};
/// The loss names a file may name (`Loss::name()`).
inline constexpr std::array<std::string_view, 6> loss_names{
    "mean_absolute_error", "mean_squared_error", "huber", "binary_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy"};

/// Whether `name` is one of `names`.
template <std::size_t N>
bool contains(const std::array<std::string_view, N>& names, std::string_view name) {
  for (const auto n : names)
    if (n == name) return true;
  return false;
}

/// `names` joined with commas, for error messages.
template <std::size_t N>
std::string list(const std::array<std::string_view, N>& names) {
  return join(std::vector<std::string>(names.begin(), names.end()));
}

/// A string from a file, quoted for an error message: non-printable bytes escaped, long text cut.
inline std::string quote(std::string_view text) {
  constexpr std::size_t limit = 80;
  std::string out = "'";
  for (std::size_t k = 0; k < text.size() && k < limit; ++k) {
    const auto c = static_cast<unsigned char>(text[k]);
    if (c >= 0x20 && c < 0x7F && c != '\\' && c != '\'') {
      out += static_cast<char>(c);
    } else {
      constexpr std::string_view hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xFU];
    }
  }
  if (text.size() > limit) out += cat("...' (", text.size(), " bytes)");
  else out += "'";
  return out;
}

/// The little-endian unsigned number in the `n` bytes at `p`.
inline std::uint64_t load_le(const char* p, int n) {
  std::uint64_t value = 0;
  for (int k = n - 1; k >= 0; --k) value = (value << 8) | static_cast<unsigned char>(p[k]);
  return value;
}

/// The dtype tag of a Scalar type; fails to compile for types other than float and double.
template <typename Scalar>
constexpr DType dtype_of() {
  static_assert(std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>,
                "kerascpp serialization supports float and double models");
  return std::is_same_v<Scalar, float> ? DType::float32 : DType::float64;
}

// ---------------------------------------------------------------------------------------------
// Writing.

/// Appends little-endian fields to a byte string; sections get their length patched in at the end.
class Writer {
 public:
  explicit Writer(FileKind kind) {
    bytes_.append(magic);
    u8(static_cast<std::uint8_t>(kind));
    bytes_.append(3, '\0');
    u32(format_version);
  }

  void u8(std::uint8_t v) { bytes_.push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v) { put(v, 4); }
  void u64(std::uint64_t v) { put(v, 8); }
  void i64(std::int64_t v) { put(static_cast<std::uint64_t>(v), 8); }
  void boolean(bool v) { u8(v ? 1 : 0); }

  /// A count of items as uint32; throws when there are too many to record.
  void count(std::size_t n, std::string_view what) {
    if (n > std::numeric_limits<std::uint32_t>::max())
      throw ValueError(cat("save: cannot record ", n, " ", what, "; the format allows at most 4294967295"));
    u32(static_cast<std::uint32_t>(n));
  }

  /// A uint32 byte length, then the bytes.
  void str(std::string_view s) {
    count(s.size(), "bytes in one string");
    bytes_.append(s);
  }

  void config(const Config& c) {
    count(c.size(), "config entries");
    for (const auto& [key, value] : c) {
      str(key);
      str(value);
    }
  }

  /// dtype byte, rows, cols (uint64), then the values row by row.
  template <typename Derived>
  void tensor(const Eigen::MatrixBase<Derived>& tensor) {
    using Scalar = typename Derived::Scalar;
    const RowMatrix<Scalar>& m = tensor.derived();  // a weight of the store, or a copy of an expression
    u8(static_cast<std::uint8_t>(dtype_of<Scalar>()));
    u64(static_cast<std::uint64_t>(m.rows()));
    u64(static_cast<std::uint64_t>(m.cols()));
    const Scalar* data = m.data();
    const auto n = static_cast<std::size_t>(m.size());
    bytes_.reserve(bytes_.size() + n * sizeof(Scalar));
    for (std::size_t k = 0; k < n; ++k) {
      if constexpr (std::is_same_v<Scalar, float>) u32(std::bit_cast<std::uint32_t>(data[k]));
      else u64(std::bit_cast<std::uint64_t>(data[k]));
    }
  }

  /// Writes the tag and a placeholder length; returns where the length goes.
  std::size_t begin_section(std::string_view tag) {
    bytes_.append(tag);
    const std::size_t at = bytes_.size();
    u64(0);
    return at;
  }

  void end_section(std::size_t at) {
    const std::uint64_t length = bytes_.size() - at - 8;
    for (int k = 0; k < 8; ++k) bytes_[at + static_cast<std::size_t>(k)] = static_cast<char>((length >> (8 * k)) & 0xFFU);
  }

  /// Appends the CRC-32 of everything written and returns the file content.
  std::string finish() && {
    u32(crc32(bytes_));
    return std::move(bytes_);
  }

 private:
  void put(std::uint64_t v, int n) {
    for (int k = 0; k < n; ++k) bytes_.push_back(static_cast<char>((v >> (8 * k)) & 0xFFU));
  }

  std::string bytes_;
};

// ---------------------------------------------------------------------------------------------
// Reading.

/// Which function reads which file, for error messages.
struct Origin {
  std::string function;  // "load_model", "load_weights"
  std::string source;    // the path in quotes, or a caller's name for bytes in memory
};

/// Throws the IOError of a file that failed a check, naming the byte offset and what was read there.
[[noreturn]] inline void file_error(const Origin& origin, std::size_t offset, std::string_view context,
                                    std::string_view message) {
  throw IOError(cat(origin.function, ": cannot load ", origin.source, ": at byte ", offset,
                    context.empty() ? std::string() : cat(" (", context, ")"), ": ", message));
}

/// Reads little-endian fields from [begin, end) of a buffer, checking every length against what
/// remains before reading or allocating anything.
class Reader {
 public:
  Reader(std::string_view bytes, std::size_t begin, std::size_t end, const Origin& origin, std::string scope)
      : bytes_(bytes), pos_(begin), end_(end), origin_(origin), scope_(std::move(scope)) {}

  std::size_t offset() const { return pos_; }
  std::size_t remaining() const { return end_ - pos_; }
  bool at_end() const { return pos_ == end_; }
  const Origin& origin() const { return origin_; }

  /// What is being read, for error messages ("section WGHT, layer 1 'dense_1'").
  void set_context(std::string context) { context_ = std::move(context); }
  const std::string& context() const { return context_; }

  [[noreturn]] void fail(std::size_t at, std::string_view message) const { file_error(origin_, at, context_, message); }
  [[noreturn]] void fail(std::string_view message) const { fail(pos_, message); }

  std::uint8_t u8(std::string_view what) { return static_cast<std::uint8_t>(take(1, what)); }
  std::uint32_t u32(std::string_view what) { return static_cast<std::uint32_t>(take(4, what)); }
  std::uint64_t u64(std::string_view what) { return take(8, what); }
  std::int64_t i64(std::string_view what) { return static_cast<std::int64_t>(take(8, what)); }

  bool boolean(std::string_view what) {
    const std::size_t at = pos_;
    const std::uint8_t v = u8(what);
    if (v > 1) fail(at, cat(what, " must be 0 or 1, found ", static_cast<int>(v)));
    return v == 1;
  }

  /// An int64 in [low, high].
  std::int64_t i64_in(std::string_view what, std::int64_t low, std::int64_t high) {
    const std::size_t at = pos_;
    const std::int64_t v = i64(what);
    if (v < low || v > high) fail(at, cat(what, " must be in [", low, ", ", high, "], found ", v));
    return v;
  }

  /// A uint32 count of items that each take at least `min_bytes`, checked against what remains.
  std::size_t count(std::string_view what, std::size_t min_bytes) {
    const std::size_t at = pos_;
    const std::uint32_t n = u32(what);
    if (static_cast<std::uint64_t>(n) * min_bytes > remaining())
      fail(at, cat(what, " is ", n, ", but ", n, " entries need at least ", static_cast<std::uint64_t>(n) * min_bytes,
                   " bytes and only ", remaining(), " remain in ", scope_));
    return n;
  }

  /// `n` raw bytes.
  std::string_view bytes(std::size_t n, std::string_view what) {
    need(n, what);
    const std::string_view out = bytes_.substr(pos_, n);
    pos_ += n;
    return out;
  }

  /// A uint32 length, then that many bytes.
  std::string str(std::string_view what) {
    const std::uint32_t n = u32(cat("the length of ", what));
    return std::string(bytes(n, what));
  }

  void need(std::size_t n, std::string_view what) const {
    if (n > remaining())
      fail(cat("expected ", n, " bytes for ", what, " but only ", remaining(), " remain in ", scope_,
               " (the file is truncated or a length field is wrong)"));
  }

 private:
  std::uint64_t take(int n, std::string_view what) {
    need(static_cast<std::size_t>(n), what);
    const std::uint64_t v = load_le(bytes_.data() + pos_, n);
    pos_ += static_cast<std::size_t>(n);
    return v;
  }

  std::string_view bytes_;
  std::size_t pos_;
  std::size_t end_;
  const Origin& origin_;
  std::string scope_;
  std::string context_;
};

/// A weight or slot array as found in the file: its values stay in the file's bytes until copied.
struct TensorRecord {
  std::size_t offset = 0;
  std::string name;
  bool trainable = false;
  DType dtype = DType::float32;
  Index rows = 0;
  Index cols = 0;
  std::string_view data;
};

/// dtype byte, rows, cols, values; every size checked against what remains.
inline TensorRecord read_tensor(Reader& r, std::string_view what) {
  TensorRecord t;
  t.offset = r.offset();
  const std::uint8_t tag = r.u8(cat("the dtype of ", what));
  if (tag != static_cast<std::uint8_t>(DType::float32) && tag != static_cast<std::uint8_t>(DType::float64))
    r.fail(t.offset, cat("unknown dtype tag ", static_cast<int>(tag), " for ", what, "; expected 1 (float32) or 2 (float64)"));
  t.dtype = static_cast<DType>(tag);
  const std::size_t dims_at = r.offset();
  const std::uint64_t rows = r.u64(cat("the row count of ", what));
  const std::uint64_t cols = r.u64(cat("the column count of ", what));
  if (rows > static_cast<std::uint64_t>(max_dimension) || cols > static_cast<std::uint64_t>(max_dimension))
    r.fail(dims_at, cat(what, " declares shape (", rows, ", ", cols, "); each dimension must be at most ", max_dimension));
  const std::uint64_t size = t.dtype == DType::float32 ? 4 : 8;
  const std::uint64_t values = rows * cols;
  if (values > r.remaining() / size)
    r.fail(dims_at, cat(what, " declares shape (", rows, ", ", cols, "), ", values * size, " bytes of ",
                        t.dtype == DType::float32 ? "float32" : "float64", ", but only ", r.remaining(),
                        " bytes remain (the file is truncated or the shape is wrong)"));
  t.rows = static_cast<Index>(rows);
  t.cols = static_cast<Index>(cols);
  t.data = r.bytes(static_cast<std::size_t>(values * size), what);
  return t;
}

/// Copies a tensor into `out` (a weight or slot whose shape the caller checked against the
/// record's), converting float32 and float64 to the model's Scalar.
template <typename Scalar>
void copy_tensor(const TensorRecord& t, MatrixView<Scalar> out) {
  if (out.rows() != t.rows || out.cols() != t.cols)
    kerascpp::detail::fail("copy_tensor: the destination has shape ", kerascpp::detail::shape_string(out.rows(), out.cols()), " but the record has ",
                           kerascpp::detail::shape_string(t.rows, t.cols));
  Scalar* dst = out.data();
  const char* src = t.data.data();
  const auto n = static_cast<std::size_t>(t.rows * t.cols);
  if (t.dtype == DType::float32) {
    for (std::size_t k = 0; k < n; ++k)
      dst[k] = static_cast<Scalar>(std::bit_cast<float>(static_cast<std::uint32_t>(load_le(src + 4 * k, 4))));
  } else {
    for (std::size_t k = 0; k < n; ++k) dst[k] = static_cast<Scalar>(std::bit_cast<double>(load_le(src + 8 * k, 8)));
  }
}

/// "(rows, cols)".
inline std::string shape(Index rows, Index cols) { return kerascpp::detail::shape_string(rows, cols); }

/// One layer of the ARCH section.
struct LayerRecord {
  std::size_t offset = 0;
  std::string type;
  std::string name;
  Index declared_input_width = 0;
  Config config;
};

/// One layer of the WGHT section.
struct LayerWeightsRecord {
  std::size_t offset = 0;
  std::string type;
  std::string name;
  std::vector<TensorRecord> weights;
};

/// The WGHT section.
struct WeightsRecord {
  std::size_t offset = 0;
  Index input_width = 0;
  std::vector<LayerWeightsRecord> layers;
};

/// The COMP section.
struct CompileRecord {
  std::size_t offset = 0;
  bool compiled = false;
  std::string optimizer;
  Config optimizer_config;
  std::string loss;
  Config loss_config;
  std::vector<std::string> metrics;
};

/// The TRST section.
struct StateRecord {
  std::size_t offset = 0;
  std::uint64_t seed = 0;
  std::uint64_t shuffle_state = 0;
  std::int64_t iterations = 0;
  bool optimizer_built = false;
  std::vector<TensorRecord> slots;
  std::vector<std::pair<std::size_t, std::uint64_t>> dropout_states;  // (layer index, state)
  std::size_t dropout_offset = 0;
};

/// A whole file, checked field by field but not yet checked for consistency between sections.
struct FileRecord {
  FileKind kind = FileKind::model;
  std::vector<LayerRecord> layers;
  WeightsRecord weights;
  CompileRecord compile;
  StateRecord state;
};

/// "section WGHT, layer 1 'dense_1'": where a layer's record is, for error messages.
inline std::string layer_context(std::string_view section, std::size_t index, std::string_view name) {
  return cat("section ", section, ", layer ", index, " ", quote(name));
}

/// A config: uint32 count, then (key, value) string pairs with distinct keys.
inline Config read_config(Reader& r, std::string_view what) {
  Config c;
  const std::size_t n = r.count(cat("the number of ", what, " entries"), 8);
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t at = r.offset();
    std::string key = r.str(cat(what, " key ", k));
    std::string value = r.str(cat(what, " value for ", quote(key)));
    if (c.count(key) != 0) r.fail(at, cat(what, " names key ", quote(key), " twice"));
    c.emplace(std::move(key), std::move(value));
  }
  return c;
}

/// The ARCH section: every layer's type, name, declared input width and config.
inline std::vector<LayerRecord> read_architecture(Reader& r) {
  std::vector<LayerRecord> layers;
  const std::size_t n = r.count("the layer count", 20);
  for (std::size_t i = 0; i < n; ++i) {
    LayerRecord l;
    l.offset = r.offset();
    r.set_context(cat("section ARCH, layer ", i));
    l.type = r.str("the layer type");
    if (!contains(layer_types, l.type))
      r.fail(l.offset, cat("unknown layer type ", quote(l.type), "; known types are ", list(layer_types)));
    l.name = r.str("the layer name");
    r.set_context(layer_context("ARCH", i, l.name));
    l.declared_input_width = r.i64_in("the declared input width", 0, max_dimension);
    l.config = read_config(r, "layer config");
    layers.push_back(std::move(l));
  }
  r.set_context("section ARCH");
  return layers;
}

/// The WGHT section: the input width, then every layer's type, name and weights.
inline WeightsRecord read_weights(Reader& r) {
  WeightsRecord w;
  w.offset = r.offset();
  w.input_width = r.i64_in("the input width", 0, max_dimension);
  const std::size_t n = r.count("the layer count", 12);
  for (std::size_t i = 0; i < n; ++i) {
    LayerWeightsRecord l;
    l.offset = r.offset();
    r.set_context(cat("section WGHT, layer ", i));
    l.type = r.str("the layer type");
    if (!contains(layer_types, l.type))
      r.fail(l.offset, cat("unknown layer type ", quote(l.type), "; known types are ", list(layer_types)));
    l.name = r.str("the layer name");
    r.set_context(layer_context("WGHT", i, l.name));
    const std::size_t count = r.count("the weight count", 22);
    for (std::size_t k = 0; k < count; ++k) {
      const std::size_t at = r.offset();
      std::string name = r.str(cat("the name of weight ", k));
      const bool trainable = r.boolean(cat("the trainable flag of weight ", quote(name)));
      TensorRecord t = read_tensor(r, cat("weight ", quote(name)));
      t.offset = at;
      t.name = std::move(name);
      t.trainable = trainable;
      l.weights.push_back(std::move(t));
    }
    w.layers.push_back(std::move(l));
  }
  r.set_context("section WGHT");
  return w;
}

/// The COMP section: optimizer, loss and metrics, when the model was compiled.
inline CompileRecord read_compile(Reader& r) {
  CompileRecord c;
  c.offset = r.offset();
  c.compiled = r.boolean("the compiled flag");
  if (!c.compiled) return c;
  const std::size_t optimizer_at = r.offset();
  c.optimizer = r.str("the optimizer name");
  if (!contains(optimizer_names, c.optimizer))
    r.fail(optimizer_at, cat("unknown optimizer ", quote(c.optimizer), "; known optimizers are ", list(optimizer_names)));
  c.optimizer_config = read_config(r, "optimizer config");
  const std::size_t loss_at = r.offset();
  c.loss = r.str("the loss name");
  if (!contains(loss_names, c.loss))
    r.fail(loss_at, cat("unknown loss ", quote(c.loss), "; known losses are ", list(loss_names)));
  c.loss_config = read_config(r, "loss config");
  const std::size_t n = r.count("the metric count", 4);
  for (std::size_t k = 0; k < n; ++k) c.metrics.push_back(r.str(cat("metric name ", k)));
  return c;
}

/// The TRST section: seed, random states, optimizer iterations and slots.
inline StateRecord read_state(Reader& r) {
  StateRecord s;
  s.offset = r.offset();
  s.seed = r.u64("the model seed");
  s.shuffle_state = r.u64("the shuffle random state");
  s.iterations = r.i64_in("the optimizer iterations", 0, std::numeric_limits<std::int64_t>::max());
  s.optimizer_built = r.boolean("the optimizer-built flag");
  const std::size_t n = r.count("the optimizer slot count", 17);
  for (std::size_t k = 0; k < n; ++k) s.slots.push_back(read_tensor(r, cat("optimizer slot ", k)));
  s.dropout_offset = r.offset();
  const std::size_t d = r.count("the Dropout state count", 12);
  for (std::size_t k = 0; k < d; ++k) {
    const std::uint32_t index = r.u32(cat("the layer index of Dropout state ", k));
    const std::uint64_t state = r.u64(cat("Dropout state ", k));
    s.dropout_states.emplace_back(index, state);
  }
  return s;
}

/// What a file kind is, for error messages.
inline std::string kind_name(FileKind kind) {
  return kind == FileKind::model ? "a model file (kind 'M', written by save_model)"
                                 : "a weights file (kind 'W', written by save_weights)";
}

/// Checks header and checksum, then reads every section. `expected` is the kind the caller needs,
/// or nullopt to take either (load_weights reads the weights of a model file too).
inline FileRecord parse_file(std::string_view bytes, const Origin& origin, std::optional<FileKind> expected) {
  const std::size_t size = bytes.size();
  const std::size_t prefix = std::min(size, magic.size());
  if (bytes.substr(0, prefix) != magic.substr(0, prefix))
    file_error(origin, 0, "header", cat("not a kerascpp file: expected the magic bytes 'KERASCPP', found ",
                                        quote(bytes.substr(0, magic.size()))));
  if (size < header_size + checksum_size)
    file_error(origin, size, "header",
               cat("the file is ", size, " bytes long, shorter than the ", header_size + checksum_size,
                   " bytes of a header and a checksum (the file is truncated)"));
  const auto kind_byte = static_cast<std::uint8_t>(bytes[8]);
  if (kind_byte != static_cast<std::uint8_t>(FileKind::model) && kind_byte != static_cast<std::uint8_t>(FileKind::weights))
    file_error(origin, 8, "header", cat("unknown file kind byte ", static_cast<int>(kind_byte), " (", quote(bytes.substr(8, 1)),
                                        "); expected 'M' (model) or 'W' (weights)"));
  const auto kind = static_cast<FileKind>(kind_byte);
  for (std::size_t k = 9; k < 12; ++k)
    if (bytes[k] != '\0')
      file_error(origin, k, "header", cat("reserved header byte is ", static_cast<int>(static_cast<unsigned char>(bytes[k])),
                                          "; expected 0"));
  const auto version = static_cast<std::uint32_t>(load_le(bytes.data() + 12, 4));
  if (version != format_version)
    file_error(origin, 12, "header",
               cat("unsupported format version ", version, "; this build of kerascpp reads version ", format_version,
                   version > format_version ? " (the file was written by a newer kerascpp)" : ""));
  const std::size_t body_end = size - checksum_size;
  const auto stored = static_cast<std::uint32_t>(load_le(bytes.data() + body_end, 4));
  const std::uint32_t computed = crc32(bytes.substr(0, body_end));
  if (stored != computed) {
    std::array<char, 16> a{}, b{};
    const auto ra = std::to_chars(a.data(), a.data() + a.size(), stored, 16);
    const auto rb = std::to_chars(b.data(), b.data() + b.size(), computed, 16);
    file_error(origin, body_end, "checksum",
               cat("checksum mismatch: the file records CRC-32 0x", std::string_view(a.data(), static_cast<std::size_t>(ra.ptr - a.data())),
                   " but its content has CRC-32 0x", std::string_view(b.data(), static_cast<std::size_t>(rb.ptr - b.data())),
                   "; the file is corrupted or truncated"));
  }
  if (expected && kind != *expected)
    file_error(origin, 8, "header", cat("this is ", kind_name(kind), "; ", origin.function, " needs ", kind_name(*expected),
                                        kind == FileKind::weights ? "; use load_weights on a model of the same architecture" : ""));

  FileRecord file;
  file.kind = kind;
  const std::vector<std::string_view> tags =
      kind == FileKind::model ? std::vector<std::string_view>{"ARCH", "WGHT", "COMP", "TRST"}
                              : std::vector<std::string_view>{"WGHT"};
  Reader top(bytes, header_size, body_end, origin, "the file");
  for (const std::string_view tag : tags) {
    const std::size_t at = top.offset();
    top.set_context(cat("section ", tag));
    const std::string_view found = top.bytes(4, cat("the tag of section ", tag));
    if (found != tag) top.fail(at, cat("expected section '", tag, "', found ", quote(found)));
    const std::size_t length_at = top.offset();
    const std::uint64_t length = top.u64(cat("the length of section ", tag));
    if (length > top.remaining())
      top.fail(length_at, cat("section ", tag, " declares ", length, " bytes but only ", top.remaining(),
                              " remain before the checksum (the file is truncated or the length is wrong)"));
    const std::size_t begin = top.offset();
    const auto end = begin + static_cast<std::size_t>(length);
    Reader r(bytes, begin, end, origin, cat("section ", tag));
    r.set_context(cat("section ", tag));
    if (tag == "ARCH") file.layers = read_architecture(r);
    else if (tag == "WGHT") file.weights = read_weights(r);
    else if (tag == "COMP") file.compile = read_compile(r);
    else file.state = read_state(r);
    if (!r.at_end())
      r.fail(cat(r.remaining(), " unread bytes at the end of section ", tag, "; expected the section to end here"));
    top.bytes(static_cast<std::size_t>(length), cat("section ", tag));
  }
  if (!top.at_end())
    file_error(origin, top.offset(), "after the last section",
               cat(top.remaining(), " unexpected bytes between the last section and the checksum"));
  return file;
}

// ---------------------------------------------------------------------------------------------
// Configs: what the file says about each layer, optimizer and loss.

/// Reads typed values out of a config map, failing with the file position on a missing key, a
/// malformed value or a key nobody asked for.
class ConfigReader {
 public:
  ConfigReader(const Config& config, const Origin& origin, std::size_t offset, std::string context, std::string owner)
      : config_(config), origin_(origin), offset_(offset), context_(std::move(context)), owner_(std::move(owner)) {}

  const std::string& text(const std::string& key) { return *find(key, true); }

  std::optional<std::string> optional_text(const std::string& key) {
    const std::string* v = find(key, false);
    return v != nullptr ? std::optional<std::string>(*v) : std::nullopt;
  }

  double number(const std::string& key) {
    const std::string& v = text(key);
    double out = 0.0;
    const auto [ptr, error] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (v.empty() || error != std::errc{} || ptr != v.data() + v.size())
      fail(cat(owner_, " config ", quote(key), " must be a number, found ", quote(v)));
    return out;
  }

  std::int64_t integer(const std::string& key, std::int64_t low, std::int64_t high) {
    const std::string& v = text(key);
    std::int64_t out = 0;
    const auto [ptr, error] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (v.empty() || error != std::errc{} || ptr != v.data() + v.size() || out < low || out > high)
      fail(cat(owner_, " config ", quote(key), " must be an integer in [", low, ", ", high, "], found ", quote(v)));
    return out;
  }

  std::optional<std::uint64_t> optional_unsigned(const std::string& key) {
    const std::string* v = find(key, false);
    if (v == nullptr) return std::nullopt;
    std::uint64_t out = 0;
    const auto [ptr, error] = std::from_chars(v->data(), v->data() + v->size(), out);
    if (v->empty() || error != std::errc{} || ptr != v->data() + v->size())
      fail(cat(owner_, " config ", quote(key), " must be an unsigned 64-bit integer, found ", quote(*v)));
    return out;
  }

  bool boolean(const std::string& key) {
    const std::string& v = text(key);
    if (v == "true") return true;
    if (v == "false") return false;
    fail(cat(owner_, " config ", quote(key), " must be 'true' or 'false', found ", quote(v)));
  }

  /// Throws when the config holds keys that were not read.
  void finish() const {
    std::vector<std::string> extra;
    for (const auto& entry : config_)
      if (used_.count(entry.first) == 0) extra.push_back(quote(entry.first));
    if (!extra.empty()) fail(cat(owner_, " config has unknown key(s) ", join(extra)));
  }

  [[noreturn]] void fail(std::string_view message) const { file_error(origin_, offset_, context_, message); }

 private:
  const std::string* find(const std::string& key, bool required) {
    const auto it = config_.find(key);
    if (it == config_.end()) {
      if (!required) return nullptr;
      std::vector<std::string> keys;
      for (const auto& entry : config_) keys.push_back(quote(entry.first));
      fail(cat(owner_, " config is missing key ", quote(key), "; it has ", keys.empty() ? std::string("none") : join(keys)));
    }
    used_[key] = true;
    return &it->second;
  }

  const Config& config_;
  const Origin& origin_;
  std::size_t offset_;
  std::string context_;
  std::string owner_;
  std::map<std::string, bool> used_;
};

/// The config a layer is saved with: its own `config()`, with every number it exposes through an
/// accessor written in full precision so that it reads back exactly.
template <typename Scalar>
Config layer_config(const Layer<Scalar>& layer) {
  Config c = layer.config();
  if (const auto* dense = dynamic_cast<const layers::Dense<Scalar>*>(&layer)) {
    c["kernel_regularizer_l1"] = number(dense->kernel_regularizer().l1);
    c["kernel_regularizer_l2"] = number(dense->kernel_regularizer().l2);
  } else if (const auto* dropout = dynamic_cast<const layers::Dropout<Scalar>*>(&layer)) {
    c["rate"] = number(dropout->rate());
  } else if (const auto* bn = dynamic_cast<const layers::BatchNormalization<Scalar>*>(&layer)) {
    c["momentum"] = number(bn->momentum());
    c["epsilon"] = number(bn->epsilon());
  }
  return c;
}

/// Whether `layer` is one of the types a file can hold, as its class and its `type()` agree.
template <typename Scalar>
bool savable_layer(const Layer<Scalar>& layer) {
  const std::string t = layer.type();
  if (t == "Dense") return dynamic_cast<const layers::Dense<Scalar>*>(&layer) != nullptr;
  if (t == "Activation") return dynamic_cast<const layers::Activation<Scalar>*>(&layer) != nullptr;
  if (t == "Dropout") return dynamic_cast<const layers::Dropout<Scalar>*>(&layer) != nullptr;
  if (t == "BatchNormalization") return dynamic_cast<const layers::BatchNormalization<Scalar>*>(&layer) != nullptr;
  return false;
}

/// Creates the layer a record describes (not built), failing on any config problem.
template <typename Scalar>
LayerPtr<Scalar> make_layer(const LayerRecord& rec, std::size_t index, const Origin& origin) {
  const std::string context = layer_context("ARCH", index, rec.name);
  ConfigReader c(rec.config, origin, rec.offset, context, rec.type);
  const input_shape shape{rec.declared_input_width};
  try {
    if (rec.type == "Dense") {
      const Index units = c.integer("units", 1, max_dimension);
      const std::string activation = c.text("activation");
      const bool use_bias = c.boolean("use_bias");
      const std::string kernel_init = c.text("kernel_initializer");
      const std::string bias_init = c.text("bias_initializer");
      const double l1 = c.number("kernel_regularizer_l1");
      const double l2 = c.number("kernel_regularizer_l2");
      c.finish();
      regularizers::check(l1, "kernel_regularizer_l1");
      regularizers::check(l2, "kernel_regularizer_l2");
      return std::make_unique<layers::Dense<Scalar>>(units, activation, shape, use_bias, Initializer(kernel_init),
                                                     Initializer(bias_init), Regularizer{l1, l2});
    }
    if (rec.type == "Activation") {
      const std::string activation = c.text("activation");
      c.finish();
      return std::make_unique<layers::Activation<Scalar>>(activation, shape);
    }
    if (rec.type == "Dropout") {
      const double rate = c.number("rate");
      const std::optional<std::uint64_t> seed = c.optional_unsigned("seed");
      c.finish();
      if (rec.declared_input_width != 0)
        c.fail(cat("a Dropout layer cannot declare an input width, found ", rec.declared_input_width));
      return std::make_unique<layers::Dropout<Scalar>>(rate, seed);
    }
    const double momentum = c.number("momentum");
    const double epsilon = c.number("epsilon");
    c.finish();
    return std::make_unique<layers::BatchNormalization<Scalar>>(momentum, epsilon, shape);
  } catch (const ValueError& e) {
    c.fail(cat("invalid ", rec.type, " config: ", e.what()));
  }
}

/// The shape and role of one weight a layer has once built.
struct WeightSpec {
  std::string name;
  Index rows = 0;
  Index cols = 0;
  bool trainable = false;
};

/// The weights `layer` gets when built for inputs of width `width`, and its output width, worked
/// out without building it (so a lying file cannot make it allocate). nullopt for a layer type
/// the format does not know.
template <typename Scalar>
std::optional<std::vector<WeightSpec>> expected_weights(const Layer<Scalar>& layer, Index width, Index& output_width) {
  if (const auto* dense = dynamic_cast<const layers::Dense<Scalar>*>(&layer)) {
    output_width = dense->units();
    std::vector<WeightSpec> w{{"kernel", width, dense->units(), true}};
    if (dense->use_bias()) w.push_back({"bias", 1, dense->units(), true});
    return w;
  }
  output_width = width;
  if (dynamic_cast<const layers::BatchNormalization<Scalar>*>(&layer) != nullptr)
    return std::vector<WeightSpec>{{"gamma", 1, width, true},
                                   {"beta", 1, width, true},
                                   {"moving_mean", 1, width, false},
                                   {"moving_variance", 1, width, false}};
  if (dynamic_cast<const layers::Activation<Scalar>*>(&layer) != nullptr ||
      dynamic_cast<const layers::Dropout<Scalar>*>(&layer) != nullptr)
    return std::vector<WeightSpec>{};
  return std::nullopt;
}

/// Whether `optimizer` is one of the built-in optimizers, as its class and its `name()` agree.
template <typename Scalar>
bool savable_optimizer(const Optimizer<Scalar>& optimizer) {
  const std::string n = optimizer.name();
  if (n == "SGD") return dynamic_cast<const optimizers::SGD<Scalar>*>(&optimizer) != nullptr;
  if (n == "Adam") return dynamic_cast<const optimizers::Adam<Scalar>*>(&optimizer) != nullptr;
  if (n == "AdamW") return dynamic_cast<const optimizers::AdamW<Scalar>*>(&optimizer) != nullptr;
  if (n == "RMSprop") return dynamic_cast<const optimizers::RMSprop<Scalar>*>(&optimizer) != nullptr;
  if (n == "Adagrad") return dynamic_cast<const optimizers::Adagrad<Scalar>*>(&optimizer) != nullptr;
  return false;
}

/// The optimizer's config with its current learning rate written exactly.
template <typename Scalar>
Config optimizer_config(const Optimizer<Scalar>& optimizer) {
  Config c = optimizer.config();
  c["learning_rate"] = number(optimizer.learning_rate());
  return c;
}

/// The optimizer a COMP record describes, failing on any config problem.
template <typename Scalar>
std::unique_ptr<Optimizer<Scalar>> make_optimizer(const CompileRecord& rec, const Origin& origin) {
  ConfigReader c(rec.optimizer_config, origin, rec.offset, "section COMP", "optimizer " + rec.optimizer);
  try {
    const double lr = c.number("learning_rate");
    std::unique_ptr<Optimizer<Scalar>> out;
    if (rec.optimizer == "SGD") {
      const double momentum = c.number("momentum");
      const bool nesterov = c.boolean("nesterov");
      out = std::make_unique<optimizers::SGD<Scalar>>(lr, momentum, nesterov);
    } else if (rec.optimizer == "Adam" || rec.optimizer == "AdamW") {
      const double beta_1 = c.number("beta_1");
      const double beta_2 = c.number("beta_2");
      const double epsilon = c.number("epsilon");
      if (rec.optimizer == "Adam") out = std::make_unique<optimizers::Adam<Scalar>>(lr, beta_1, beta_2, epsilon);
      else out = std::make_unique<optimizers::AdamW<Scalar>>(lr, c.number("weight_decay"), beta_1, beta_2, epsilon);
    } else if (rec.optimizer == "RMSprop") {
      const double rho = c.number("rho");
      const double momentum = c.number("momentum");
      const double epsilon = c.number("epsilon");
      const bool centered = c.boolean("centered");
      out = std::make_unique<optimizers::RMSprop<Scalar>>(lr, rho, momentum, epsilon, centered);
    } else {
      const double initial = c.number("initial_accumulator_value");
      const double epsilon = c.number("epsilon");
      out = std::make_unique<optimizers::Adagrad<Scalar>>(lr, initial, epsilon);
    }
    c.finish();
    return out;
  } catch (const ValueError& e) {
    c.fail(cat("invalid ", rec.optimizer, " config: ", e.what()));
  }
}

/// The loss's name and parameters, read from the concrete class.
template <typename Scalar>
std::pair<std::string, Config> loss_config(const Loss<Scalar>& loss) {
  const std::string name = loss.name();
  const auto reject = [&]() -> std::pair<std::string, Config> {
    throw ValueError(cat("save_model: cannot save loss ", quote(name), ": only the built-in losses (", list(loss_names),
                         ") can be saved"));
  };
  if (name == "binary_crossentropy") {
    const auto* l = dynamic_cast<const losses::BinaryCrossentropy<Scalar>*>(&loss);
    if (l == nullptr) return reject();
    return {name, {{"from_logits", l->from_logits() ? "true" : "false"}, {"label_smoothing", number(l->label_smoothing())}}};
  }
  if (name == "categorical_crossentropy") {
    const auto* l = dynamic_cast<const losses::CategoricalCrossentropy<Scalar>*>(&loss);
    if (l == nullptr) return reject();
    return {name, {{"from_logits", l->from_logits() ? "true" : "false"}, {"label_smoothing", number(l->label_smoothing())}}};
  }
  if (name == "sparse_categorical_crossentropy") {
    const auto* l = dynamic_cast<const losses::SparseCategoricalCrossentropy<Scalar>*>(&loss);
    if (l == nullptr) return reject();
    return {name, {{"from_logits", l->from_logits() ? "true" : "false"}}};
  }
  if (name == "huber") {
    const auto* l = dynamic_cast<const losses::Huber<Scalar>*>(&loss);
    if (l == nullptr) return reject();
    return {name, {{"delta", number(l->delta())}}};
  }
  if (name == "mean_absolute_error" && dynamic_cast<const losses::MeanAbsoluteError<Scalar>*>(&loss) != nullptr)
    return {name, {}};
  if (name == "mean_squared_error" && dynamic_cast<const losses::MeanSquaredError<Scalar>*>(&loss) != nullptr)
    return {name, {}};
  return reject();
}

/// The loss a COMP record describes, failing on any config problem.
template <typename Scalar>
std::unique_ptr<Loss<Scalar>> make_loss(const CompileRecord& rec, const Origin& origin) {
  ConfigReader c(rec.loss_config, origin, rec.offset, "section COMP", "loss " + rec.loss);
  try {
    std::unique_ptr<Loss<Scalar>> out;
    if (rec.loss == "binary_crossentropy" || rec.loss == "categorical_crossentropy") {
      const bool from_logits = c.boolean("from_logits");
      const double smoothing = c.number("label_smoothing");
      if (rec.loss == "binary_crossentropy")
        out = std::make_unique<losses::BinaryCrossentropy<Scalar>>(from_logits, smoothing);
      else
        out = std::make_unique<losses::CategoricalCrossentropy<Scalar>>(from_logits, smoothing);
    } else if (rec.loss == "sparse_categorical_crossentropy") {
      out = std::make_unique<losses::SparseCategoricalCrossentropy<Scalar>>(c.boolean("from_logits"));
    } else if (rec.loss == "huber") {
      out = std::make_unique<losses::Huber<Scalar>>(c.number("delta"));
    } else if (rec.loss == "mean_absolute_error") {
      out = std::make_unique<losses::MeanAbsoluteError<Scalar>>();
    } else {
      out = std::make_unique<losses::MeanSquaredError<Scalar>>();
    }
    c.finish();
    return out;
  } catch (const ValueError& e) {
    c.fail(cat("invalid ", rec.loss, " config: ", e.what()));
  }
}

/// The trainable weights in the order Sequential hands them to the optimizer.
template <typename Scalar>
std::vector<Weight<Scalar>> trainable_weights(const Sequential<Scalar>& model) {
  std::vector<Weight<Scalar>> out;
  for (const auto& layer : model.layers())
    for (const auto& w : layer->weights())
      if (w.trainable()) out.push_back(w);
  return out;
}

/// The WGHT section of `model`; `who` names the caller in errors about unsupported layers.
template <typename Scalar>
void write_weights_section(Writer& w, const Sequential<Scalar>& model, std::string_view who) {
  const std::size_t at = w.begin_section("WGHT");
  w.i64(model.built() ? model.input_width() : 0);
  w.count(model.layers().size(), "layers");
  for (const auto& layer : model.layers()) {
    if (!savable_layer(*layer))
      throw ValueError(cat(who, ": cannot save layer ", quote(layer->name()), " of type ", quote(layer->type()),
                           ": only ", list(layer_types), " layers can be saved"));
    w.str(layer->type());
    w.str(layer->name());
    const auto weights = layer->weights();
    w.count(weights.size(), "weights in one layer");
    for (const auto& weight : weights) {
      w.str(weight.name);
      w.boolean(weight.trainable());
      w.tensor(*weight.value);
    }
  }
  w.end_section(at);
}

/// Reads a whole file for `function`, turning read errors into messages that name the caller.
inline std::string read_whole_file(const std::filesystem::path& path, std::string_view function) {
  try {
    return io::read_file(path);
  } catch (const IOError& e) {
    throw IOError(cat(function, ": ", e.what()));
  }
}

/// The path in quotes, as error messages show it.
inline std::string quoted_path(const std::filesystem::path& path) { return cat("'", path.string(), "'"); }

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Bytes in memory. The file functions below are these plus an atomic write or a whole-file read.

/// The bytes `save_model` writes: architecture, weights, compile configuration and training state.
/// Throws ValueError for what the format cannot hold (a layer, loss, optimizer or metric object of
/// a type it does not know), before anything is written.
template <typename Scalar>
std::string encode_model(const Sequential<Scalar>& model) {
  detail::dtype_of<Scalar>();
  using detail::cat;
  using detail::quote;
  detail::Writer w(FileKind::model);

  const std::size_t arch = w.begin_section("ARCH");
  w.count(model.layers().size(), "layers");
  for (const auto& layer : model.layers()) {
    if (!detail::savable_layer(*layer))
      throw ValueError(cat("save_model: cannot save layer ", quote(layer->name()), " of type ", quote(layer->type()),
                           ": only ", detail::list(detail::layer_types), " layers can be saved"));
    w.str(layer->type());
    w.str(layer->name());
    w.i64(layer->declared_input_width());
    w.config(detail::layer_config(*layer));
  }
  w.end_section(arch);

  detail::write_weights_section(w, model, "save_model");

  const std::size_t comp = w.begin_section("COMP");
  w.boolean(model.compiled());
  if (model.compiled()) {
    const Optimizer<Scalar>& optimizer = model.optimizer();
    if (!detail::savable_optimizer(optimizer))
      throw ValueError(cat("save_model: cannot save optimizer ", quote(optimizer.name()), ": only the built-in optimizers (",
                           detail::list(detail::optimizer_names), ") can be saved"));
    w.str(optimizer.name());
    w.config(detail::optimizer_config(optimizer));
    const auto [loss_name, loss_parameters] = detail::loss_config(model.loss());
    w.str(loss_name);
    w.config(loss_parameters);
    w.count(model.metric_specs().size(), "metrics");
    for (const auto& spec : model.metric_specs()) {
      if (!detail::contains(metrics::names, spec.name))
        throw ValueError(cat("save_model: cannot save metric ", quote(spec.name), ": only metrics with a built-in name (",
                             detail::join(std::vector<std::string>(metrics::names.begin(), metrics::names.end())),
                             ") can be saved"));
      w.str(spec.name);
    }
  }
  w.end_section(comp);

  const std::size_t state = w.begin_section("TRST");
  w.u64(model.seed());
  w.u64(model.shuffle_rng().state());
  if (model.compiled()) {
    const Optimizer<Scalar>& optimizer = model.optimizer();
    w.i64(optimizer.iterations());
    w.boolean(optimizer.built());
    const int per_weight = optimizer.slots_per_weight();
    w.count(optimizer.slot_weights() * static_cast<std::size_t>(per_weight), "optimizer slots");
    for (std::size_t i = 0; i < optimizer.slot_weights(); ++i)
      for (int k = 0; k < per_weight; ++k) w.tensor(optimizer.slot(i, k));
  } else {
    w.i64(0);
    w.boolean(false);
    w.count(0, "optimizer slots");
  }
  std::vector<std::pair<std::size_t, std::uint64_t>> dropout;
  for (std::size_t i = 0; i < model.layers().size(); ++i)
    if (auto* d = dynamic_cast<layers::Dropout<Scalar>*>(model.layers()[i].get())) dropout.emplace_back(i, d->key());
  w.count(dropout.size(), "Dropout states");
  for (const auto& [index, rng_state] : dropout) {
    w.u32(static_cast<std::uint32_t>(index));
    w.u64(rng_state);
  }
  w.end_section(state);
  return std::move(w).finish();
}

/// The bytes `save_weights` writes: every layer's type, name and weights.
template <typename Scalar>
std::string encode_weights(const Sequential<Scalar>& model) {
  detail::dtype_of<Scalar>();
  detail::Writer w(FileKind::weights);
  detail::write_weights_section(w, model, "save_weights");
  return std::move(w).finish();
}

/// Rebuilds the model `encode_model` wrote, converting float32 or float64 values to Scalar.
/// `source` names the bytes in error messages. Throws IOError for anything wrong with the bytes.
template <typename Scalar = float>
Sequential<Scalar> decode_model(std::string_view bytes, std::string_view source = "<bytes>") {
  detail::dtype_of<Scalar>();
  using detail::cat;
  using detail::quote;
  const detail::Origin origin{"load_model", std::string(source)};
  const detail::FileRecord file = detail::parse_file(bytes, origin, FileKind::model);
  const auto& arch = file.layers;
  const auto& wr = file.weights;
  const auto& comp = file.compile;
  const auto& st = file.state;

  // Layers from their configs, not yet built.
  std::vector<LayerPtr<Scalar>> layers;
  for (std::size_t i = 0; i < arch.size(); ++i) layers.push_back(detail::make_layer<Scalar>(arch[i], i, origin));

  // The WGHT section must describe the same layers, with the shapes their configs imply.
  if (wr.layers.size() != arch.size())
    detail::file_error(origin, wr.offset, "section WGHT",
                       cat("the weights are for ", wr.layers.size(), " layers but the architecture has ", arch.size()));
  std::vector<detail::WeightSpec> trainable;
  if (wr.input_width == 0) {
    if (!arch.empty() && arch.front().declared_input_width != 0)
      detail::file_error(origin, wr.offset, "section WGHT",
                         cat("the model is recorded as unbuilt (input width 0) but its first layer declares input width ",
                             arch.front().declared_input_width));
  } else if (arch.empty()) {
    detail::file_error(origin, wr.offset, "section WGHT",
                       cat("input width ", wr.input_width, " is recorded for a model without layers"));
  }
  Index width = wr.input_width;
  for (std::size_t i = 0; i < arch.size(); ++i) {
    const auto& lw = wr.layers[i];
    const std::string context = detail::layer_context("WGHT", i, lw.name);
    if (lw.type != arch[i].type || lw.name != arch[i].name)
      detail::file_error(origin, lw.offset, context,
                         cat("the weights are for ", lw.type, " ", quote(lw.name), " but the architecture has ",
                             arch[i].type, " ", quote(arch[i].name), " at this position"));
    if (wr.input_width == 0) {
      if (!lw.weights.empty())
        detail::file_error(origin, lw.offset, context, "an unbuilt model (input width 0) cannot hold weights");
      continue;
    }
    if (arch[i].declared_input_width != 0 && arch[i].declared_input_width != width)
      detail::file_error(origin, arch[i].offset, detail::layer_context("ARCH", i, arch[i].name),
                         cat("the layer declares input width ", arch[i].declared_input_width, " but receives width ", width));
    Index output = 0;
    const auto specs = *detail::expected_weights(*layers[i], width, output);
    if (lw.weights.size() != specs.size())
      detail::file_error(origin, lw.offset, context,
                         cat("a ", lw.type, " layer with this config has ", specs.size(), " weights, the file holds ",
                             lw.weights.size()));
    for (std::size_t k = 0; k < specs.size(); ++k) {
      const auto& t = lw.weights[k];
      if (t.name != specs[k].name || t.rows != specs[k].rows || t.cols != specs[k].cols || t.trainable != specs[k].trainable)
        detail::file_error(origin, t.offset, context,
                           cat("weight ", k, " should be ", specs[k].trainable ? "trainable " : "non-trainable ",
                               quote(specs[k].name), " of shape ", detail::shape(specs[k].rows, specs[k].cols),
                               " for input width ", width, "; the file holds ", t.trainable ? "trainable " : "non-trainable ",
                               quote(t.name), " of shape ", detail::shape(t.rows, t.cols)));
      if (specs[k].trainable) trainable.push_back(specs[k]);
    }
    width = output;
  }

  // Compile configuration.
  std::unique_ptr<Optimizer<Scalar>> optimizer;
  std::unique_ptr<Loss<Scalar>> loss;
  std::vector<MetricSpec<Scalar>> metric_specs;
  if (comp.compiled) {
    if (arch.empty())
      detail::file_error(origin, comp.offset, "section COMP", "a model without layers cannot be compiled");
    optimizer = detail::make_optimizer<Scalar>(comp, origin);
    loss = detail::make_loss<Scalar>(comp, origin);
    for (const auto& name : comp.metrics) {
      if (!detail::contains(metrics::names, name))
        detail::file_error(origin, comp.offset, "section COMP",
                           cat("unknown metric ", quote(name), "; known metrics are ",
                               detail::join(std::vector<std::string>(metrics::names.begin(), metrics::names.end()))));
      metric_specs.emplace_back(name);
    }
  }

  // Training state.
  if (!comp.compiled && (st.iterations != 0 || st.optimizer_built || !st.slots.empty()))
    detail::file_error(origin, st.offset, "section TRST",
                       "the model is not compiled but optimizer state (iterations or slots) is recorded");
  if (st.optimizer_built) {
    const std::size_t per_weight = static_cast<std::size_t>(optimizer->slots_per_weight());
    if (st.slots.size() != trainable.size() * per_weight)
      detail::file_error(origin, st.offset, "section TRST",
                         cat(comp.optimizer, " keeps ", per_weight, " slot(s) for each of the ", trainable.size(),
                             " trainable weights, so ", trainable.size() * per_weight, " slots; the file holds ",
                             st.slots.size()));
    for (std::size_t k = 0; k < st.slots.size(); ++k) {
      const auto& spec = trainable[k / std::max<std::size_t>(per_weight, 1)];
      if (st.slots[k].rows != spec.rows || st.slots[k].cols != spec.cols)
        detail::file_error(origin, st.slots[k].offset, "section TRST",
                           cat("optimizer slot ", k, " has shape ", detail::shape(st.slots[k].rows, st.slots[k].cols),
                               " but its weight ", quote(spec.name), " has shape ", detail::shape(spec.rows, spec.cols)));
    }
  } else if (!st.slots.empty()) {
    detail::file_error(origin, st.offset, "section TRST", "optimizer slots are recorded for an optimizer that is not built");
  }
  std::vector<std::size_t> dropout_layers;
  for (std::size_t i = 0; i < arch.size(); ++i)
    if (arch[i].type == "Dropout") dropout_layers.push_back(i);
  if (st.dropout_states.size() != dropout_layers.size())
    detail::file_error(origin, st.dropout_offset, "section TRST",
                       cat("the model has ", dropout_layers.size(), " Dropout layers but the file records ",
                           st.dropout_states.size(), " Dropout states"));
  for (std::size_t k = 0; k < dropout_layers.size(); ++k)
    if (st.dropout_states[k].first != dropout_layers[k])
      detail::file_error(origin, st.dropout_offset, "section TRST",
                         cat("Dropout state ", k, " is for layer ", st.dropout_states[k].first,
                             ", expected the Dropout layer at index ", dropout_layers[k]));

  // Everything checked: build the model.
  try {
    Sequential<Scalar> model;
    model.set_seed(st.seed);
    for (std::size_t i = 0; i < layers.size(); ++i) {
      model.add(std::move(layers[i]));
      if (!arch[i].name.empty()) model.layer(i).set_name(arch[i].name);
    }
    if (wr.input_width != 0 && !model.built()) model.build(wr.input_width);
    for (std::size_t i = 0; i < arch.size(); ++i) {
      const auto weights = model.layer(i).weights();
      for (std::size_t k = 0; k < weights.size(); ++k) detail::copy_tensor<Scalar>(wr.layers[i].weights[k], weights[k].value->view());
    }
    for (const auto& [index, rng_state] : st.dropout_states)
      dynamic_cast<layers::Dropout<Scalar>&>(model.layer(index)).set_key(rng_state);
    model.shuffle_rng().seed(st.shuffle_state);
    if (comp.compiled) {
      model.compile(*optimizer, *loss, std::move(metric_specs));
      Optimizer<Scalar>& opt = model.optimizer();
      if (st.optimizer_built) {
        opt.build(model.parameters());
        const auto per_weight = static_cast<std::size_t>(opt.slots_per_weight());
        for (std::size_t k = 0; k < st.slots.size(); ++k)
          detail::copy_tensor<Scalar>(st.slots[k], opt.slot(k / per_weight, static_cast<int>(k % per_weight)));
      }
      opt.set_iterations(st.iterations);
    }
    return model;
  } catch (const ValueError& e) {
    detail::file_error(origin, header_size, "", cat("the recorded model is inconsistent: ", e.what()));
  } catch (const StateError& e) {
    detail::file_error(origin, header_size, "", cat("the recorded model is inconsistent: ", e.what()));
  }
}

/// Loads weights written by `encode_weights` or `encode_model` into `model`. The model is changed
/// only when everything matched. Throws IOError for anything wrong with the bytes and ValueError
/// when they are for a different architecture (layer count, types, weight shapes), naming the
/// first mismatch. An unbuilt model is built for the recorded input width first.
template <typename Scalar>
void decode_weights_into(Sequential<Scalar>& model, std::string_view bytes, std::string_view source = "<bytes>") {
  detail::dtype_of<Scalar>();
  using detail::cat;
  using detail::quote;
  const detail::Origin origin{"load_weights", std::string(source)};
  const detail::FileRecord file = detail::parse_file(bytes, origin, std::nullopt);
  const auto& wr = file.weights;
  const std::string who = cat("load_weights: ", source, ": ");

  if (model.size() != wr.layers.size())
    throw ValueError(cat(who, "the model has ", model.size(), " layers but the file holds weights for ", wr.layers.size()));
  for (std::size_t i = 0; i < wr.layers.size(); ++i) {
    const auto& l = model.layer(i);
    if (l.type() != wr.layers[i].type)
      throw ValueError(cat(who, "layer ", i, ": the model has ", l.type(), " ", quote(l.name()), ", the file has ",
                           wr.layers[i].type, " ", quote(wr.layers[i].name)));
  }
  if (wr.input_width == 0) {
    if (model.size() == 0) return;
    throw ValueError(cat(who, "the file was saved from an unbuilt model and holds no weights"));
  }
  if (model.built() && model.input_width() != wr.input_width)
    throw ValueError(cat(who, "the model takes input width ", model.input_width(), ", the file was saved for input width ",
                         wr.input_width));

  const auto mismatch = [&](std::size_t i, std::size_t k, const std::string& model_name, Index rows, Index cols) {
    const auto& t = wr.layers[i].weights[k];
    throw ValueError(cat(who, "layer ", i, " ", quote(model.layer(i).name()), " (", model.layer(i).type(), ") weight ", k,
                         ": the model has ", quote(model_name), " of shape ", detail::shape(rows, cols), ", the file has ",
                         quote(t.name), " of shape ", detail::shape(t.rows, t.cols)));
  };
  const auto count_mismatch = [&](std::size_t i, std::size_t expected) {
    throw ValueError(cat(who, "layer ", i, " ", quote(model.layer(i).name()), " (", model.layer(i).type(), ") has ",
                         expected, " weights, the file holds ", wr.layers[i].weights.size()));
  };

  if (model.built()) {
    for (std::size_t i = 0; i < wr.layers.size(); ++i) {
      const auto weights = model.layer(i).weights();
      if (weights.size() != wr.layers[i].weights.size()) count_mismatch(i, weights.size());
      for (std::size_t k = 0; k < weights.size(); ++k) {
        const auto& t = wr.layers[i].weights[k];
        if (weights[k].name != t.name || weights[k].value->rows() != t.rows || weights[k].value->cols() != t.cols)
          mismatch(i, k, weights[k].name, weights[k].value->rows(), weights[k].value->cols());
      }
    }
  } else {
    Index width = wr.input_width;
    for (std::size_t i = 0; i < wr.layers.size(); ++i) {
      const auto& l = model.layer(i);
      if (l.declared_input_width() != 0 && l.declared_input_width() != width)
        throw ValueError(cat(who, "layer ", i, " ", quote(l.name()), " declares input width ", l.declared_input_width(),
                             " but the file's weights give it width ", width));
      Index output = 0;
      const auto specs = detail::expected_weights(l, width, output);
      if (!specs)
        throw StateError(cat(who, "layer ", i, " ", quote(l.name()), " has type ", quote(l.type()),
                             ", which load_weights cannot check before building; build the model first"));
      if (specs->size() != wr.layers[i].weights.size()) count_mismatch(i, specs->size());
      for (std::size_t k = 0; k < specs->size(); ++k) {
        const auto& t = wr.layers[i].weights[k];
        const auto& s = (*specs)[k];
        if (s.name != t.name || s.rows != t.rows || s.cols != t.cols) mismatch(i, k, s.name, s.rows, s.cols);
      }
      width = output;
    }
    model.build(wr.input_width);
  }
  for (std::size_t i = 0; i < wr.layers.size(); ++i) {
    const auto weights = model.layer(i).weights();
    for (std::size_t k = 0; k < weights.size(); ++k) detail::copy_tensor<Scalar>(wr.layers[i].weights[k], weights[k].value->view());
  }
}

}  // namespace serialization

// ---------------------------------------------------------------------------------------------
// Files.

/// Writes `model` to `path` in one file: architecture, weights, compile configuration and training
/// state (see docs/file_format.md). The file is replaced atomically: a save that fails leaves the
/// previous file as it was. Throws ValueError for a model the format cannot hold and IOError when
/// the file cannot be written.
template <typename Scalar>
void save_model(const Sequential<Scalar>& model, const std::filesystem::path& path) {
  const std::string bytes = serialization::encode_model(model);
  try {
    io::write_file_atomically(path, bytes);
  } catch (const IOError& e) {
    throw IOError(serialization::detail::cat("save_model: ", e.what()));
  }
}

/// Reads a model written by `save_model`, float32 or float64, as a Sequential<Scalar>: same
/// layers, names, weights, compile configuration and training state, so `predict` gives the same
/// numbers and `fit(..., {.initial_epoch = k})` continues the saved training exactly. Throws
/// IOError naming the path, and the check that failed with its byte offset.
template <typename Scalar = float>
Sequential<Scalar> load_model(const std::filesystem::path& path) {
  const std::string bytes = serialization::detail::read_whole_file(path, "load_model");
  return serialization::decode_model<Scalar>(bytes, serialization::detail::quoted_path(path));
}

/// Writes every layer's weights (trainable ones and BatchNormalization's moving statistics) to
/// `path`, atomically. Throws IOError when the file cannot be written.
template <typename Scalar>
void save_weights(const Sequential<Scalar>& model, const std::filesystem::path& path) {
  const std::string bytes = serialization::encode_weights(model);
  try {
    io::write_file_atomically(path, bytes);
  } catch (const IOError& e) {
    throw IOError(serialization::detail::cat("save_weights: ", e.what()));
  }
}

/// Sets `model`'s weights from a file written by `save_weights` (or `save_model`), converting
/// float32/float64. The architecture must match: same layer count, types and weight shapes,
/// else ValueError naming the first mismatch; file problems throw IOError. The model is left
/// unchanged when anything fails.
template <typename Scalar>
void load_weights(Sequential<Scalar>& model, const std::filesystem::path& path) {
  const std::string bytes = serialization::detail::read_whole_file(path, "load_weights");
  serialization::decode_weights_into(model, bytes, serialization::detail::quoted_path(path));
}

}  // namespace kerascpp
