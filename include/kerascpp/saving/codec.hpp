// kerascpp/saving/codec.hpp — the primitives of the kerascpp file format (docs/file_format.md):
// the header, CRC-32, little-endian fields, strings, configs and tensors, written by `Writer` and
// read back by `Reader`, which checks every length against the bytes that remain before it reads
// or allocates anything; and `parse_file`, which checks a whole file field by field into records.
// What the records mean for a model is kerascpp/saving/model_file.hpp's business.
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/io.hpp>
#include <kerascpp/registry.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
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
/// The format version this build writes. Version 2 saves each metric object's config in COMP;
/// version 1 saved metrics by name only.
inline constexpr std::uint32_t format_version = 2;
/// The oldest format version this build reads.
inline constexpr std::uint32_t oldest_format_version = 1;
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
using kerascpp::detail::quote;

/// The largest width, unit count or tensor dimension a file may declare.
inline constexpr std::int64_t max_dimension = std::numeric_limits<std::int32_t>::max();

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
  void tensor(const Eigen::MatrixBase<Derived>& m) {
    using Scalar = typename Derived::Scalar;
    static_assert(Derived::IsRowMajor || Derived::RowsAtCompileTime == 1, "tensors are written from row-major storage");
    u8(static_cast<std::uint8_t>(dtype_of<Scalar>()));
    u64(static_cast<std::uint64_t>(m.rows()));
    u64(static_cast<std::uint64_t>(m.cols()));
    const Scalar* data = m.derived().data();
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

/// Copies a tensor into `out` (row-major, already of the tensor's shape: a RowMatrix or a view),
/// converting float32 and float64 to its Scalar.
template <typename Derived>
void copy_tensor(const TensorRecord& t, Eigen::MatrixBase<Derived>& out) {
  using Scalar = typename Derived::Scalar;
  static_assert(Derived::IsRowMajor || Derived::RowsAtCompileTime == 1, "tensors are copied into row-major storage");
  if (out.rows() != t.rows || out.cols() != t.cols)
    throw StateError(cat("copy_tensor: the target has shape ", kerascpp::detail::shape_string(out.rows(), out.cols()),
                         " but the tensor has shape ", kerascpp::detail::shape_string(t.rows, t.cols)));
  Scalar* dst = out.derived().data();
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

/// One metric of the COMP section: its name (the History key) and, for a metric object, the
/// registered metric name of its class and its config.
struct MetricRecord {
  std::size_t offset = 0;
  std::string name;
  std::optional<std::string> type;  // nullopt: given to compile by name (and every metric of version 1)
  Config config;
};

/// The COMP section.
struct CompileRecord {
  std::size_t offset = 0;
  bool compiled = false;
  std::string optimizer;
  Config optimizer_config;
  std::string loss;
  Config loss_config;
  std::vector<MetricRecord> metrics;
};

/// The TRST section.
struct StateRecord {
  std::size_t offset = 0;
  std::uint64_t seed = 0;
  std::uint64_t shuffle_state = 0;
  std::int64_t iterations = 0;
  bool optimizer_built = false;
  std::vector<TensorRecord> slots;
  std::vector<std::pair<std::size_t, std::uint64_t>> layer_states;  // (layer index, state) of stateful layers
  std::size_t layer_states_offset = 0;
};

/// A whole file, checked field by field but not yet checked for consistency between sections.
struct FileRecord {
  FileKind kind = FileKind::model;
  std::vector<LayerRecord> layers;
  WeightsRecord weights;
  CompileRecord compile;
  StateRecord state;
};

/// The names a file may use, from the registries of the Scalar being loaded.
struct KnownNames {
  std::vector<std::string> layer_types;
  std::vector<std::string> optimizers;
  std::vector<std::string> losses;
};

/// Whether `name` is one of `names`.
inline bool contains(const std::vector<std::string>& names, std::string_view name) {
  for (const auto& n : names)
    if (n == name) return true;
  return false;
}

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

/// The start of layer `index`'s record in `section` (ARCH or WGHT): its offset, its type (which must
/// be a known one) and its name; later errors name the layer.
template <typename Record>
void read_layer_head(Reader& r, const KnownNames& known, std::string_view section, std::size_t index, Record& l) {
  l.offset = r.offset();
  r.set_context(cat("section ", section, ", layer ", index));
  l.type = r.str("the layer type");
  if (!contains(known.layer_types, l.type))
    r.fail(l.offset, cat("unknown layer type ", quote(l.type), "; known types are ", join(known.layer_types)));
  l.name = r.str("the layer name");
  r.set_context(layer_context(section, index, l.name));
}

/// The ARCH section: every layer's type, name, declared input width and config.
inline std::vector<LayerRecord> read_architecture(Reader& r, const KnownNames& known) {
  std::vector<LayerRecord> layers;
  const std::size_t n = r.count("the layer count", 20);
  for (std::size_t i = 0; i < n; ++i) {
    LayerRecord l;
    read_layer_head(r, known, "ARCH", i, l);
    l.declared_input_width = r.i64_in("the declared input width", 0, max_dimension);
    l.config = read_config(r, "layer config");
    layers.push_back(std::move(l));
  }
  r.set_context("section ARCH");
  return layers;
}

/// The WGHT section: the input width, then every layer's type, name and weights.
inline WeightsRecord read_weights(Reader& r, const KnownNames& known) {
  WeightsRecord w;
  w.offset = r.offset();
  w.input_width = r.i64_in("the input width", 0, max_dimension);
  const std::size_t n = r.count("the layer count", 12);
  for (std::size_t i = 0; i < n; ++i) {
    LayerWeightsRecord l;
    read_layer_head(r, known, "WGHT", i, l);
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

/// The COMP section: optimizer, loss and metrics, when the model was compiled. Version 1 holds
/// each metric's name; version 2 its name, whether it is a metric object, and then the object's
/// registered metric name and config.
inline CompileRecord read_compile(Reader& r, const KnownNames& known, std::uint32_t version) {
  CompileRecord c;
  c.offset = r.offset();
  c.compiled = r.boolean("the compiled flag");
  if (!c.compiled) return c;
  const std::size_t optimizer_at = r.offset();
  c.optimizer = r.str("the optimizer name");
  if (!contains(known.optimizers, c.optimizer))
    r.fail(optimizer_at, cat("unknown optimizer ", quote(c.optimizer), "; known optimizers are ", join(known.optimizers)));
  c.optimizer_config = read_config(r, "optimizer config");
  const std::size_t loss_at = r.offset();
  c.loss = r.str("the loss name");
  if (!contains(known.losses, c.loss))
    r.fail(loss_at, cat("unknown loss ", quote(c.loss), "; known losses are ", join(known.losses)));
  c.loss_config = read_config(r, "loss config");
  const std::size_t n = r.count("the metric count", version == 1 ? 4 : 5);
  for (std::size_t k = 0; k < n; ++k) {
    MetricRecord m;
    m.offset = r.offset();
    m.name = r.str(cat("metric name ", k));
    if (version >= 2 && r.boolean(cat("the object flag of metric ", k, " ", quote(m.name)))) {
      m.type = r.str(cat("the registered name of metric ", k, " ", quote(m.name)));
      m.config = read_config(r, cat("metric ", quote(m.name), " config"));
    }
    c.metrics.push_back(std::move(m));
  }
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
  s.layer_states_offset = r.offset();
  const std::size_t d = r.count("the layer state count", 12);
  for (std::size_t k = 0; k < d; ++k) {
    const std::uint32_t index = r.u32(cat("the layer index of layer state ", k));
    const std::uint64_t state = r.u64(cat("layer state ", k));
    s.layer_states.emplace_back(index, state);
  }
  return s;
}

/// What a file kind is, for error messages.
inline std::string kind_name(FileKind kind) {
  return kind == FileKind::model ? "a model file (kind 'M', written by save_model)"
                                 : "a weights file (kind 'W', written by save_weights)";
}

/// For a file that is not kerascpp's: what it is and how to read it, when it is one of Keras's own
/// (a .keras zip archive or an HDF5 .h5 file), else nothing.
inline std::string keras_file_hint(std::string_view bytes) {
  const bool zip = bytes.substr(0, 4) == std::string_view("PK\x03\x04", 4);
  const bool hdf5 = bytes.substr(0, 8) == std::string_view("\x89HDF\r\n\x1a\n", 8);
  if (!zip && !hdf5) return {};
  return cat(" (", zip ? "a zip archive, as Keras's .keras files are" : "an HDF5 file, as Keras's .h5 files are",
             "; read Keras's own files with kerascpp::keras::load_model or keras::load_weights from "
             "<kerascpp/keras_files.hpp>, target kerascpp::keras_files)");
}

/// kerascpp's own files take any name but those of Keras's files: a model saved as "model.keras"
/// or "model.h5" would be a kerascpp file that Keras (and keras::load_model) cannot read.
inline void check_not_keras_name(const std::filesystem::path& path, std::string_view function) {
  std::string ext = path.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == ".keras" || ext == ".h5" || ext == ".hdf5")
    throw ValueError(cat(function, ": '", path.string(), "' has the extension of Keras's own files (", ext,
                         "), but ", function, " writes kerascpp's format; name the file with another extension (",
                         "for example .kcpp), or write a Keras file with kerascpp::keras::save_model or ",
                         "keras::save_weights from <kerascpp/keras_files.hpp> (target kerascpp::keras_files)"));
}

/// Checks header and checksum, then reads every section. `expected` is the kind the caller needs,
/// or nullopt to take either (load_weights reads the weights of a model file too); `known` holds
/// the type names the sections may use.
inline FileRecord parse_file(std::string_view bytes, const Origin& origin, std::optional<FileKind> expected,
                             const KnownNames& known) {
  const std::size_t size = bytes.size();
  const std::size_t prefix = std::min(size, magic.size());
  if (bytes.substr(0, prefix) != magic.substr(0, prefix))
    file_error(origin, 0, "header", cat("not a kerascpp file: expected the magic bytes 'KERASCPP', found ",
                                        quote(bytes.substr(0, magic.size())), keras_file_hint(bytes)));
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
  if (version < oldest_format_version || version > format_version)
    file_error(origin, 12, "header",
               cat("unsupported format version ", version, "; this build of kerascpp reads versions ",
                   oldest_format_version, " to ", format_version,
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
    if (tag == "ARCH") file.layers = read_architecture(r, known);
    else if (tag == "WGHT") file.weights = read_weights(r, known);
    else if (tag == "COMP") file.compile = read_compile(r, known, version);
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

/// Reads a whole file for `function`, turning read errors into messages that name the caller.
inline std::string read_whole_file(const std::filesystem::path& path, std::string_view function) {
  io::check_path(path, function);
  try {
    return io::read_file(path);
  } catch (const IOError& e) {
    throw IOError(cat(function, ": ", e.what()));
  }
}

/// Writes `bytes` to `path` atomically for `function`, turning write errors into messages that name
/// the caller.
inline void write_whole_file(const std::filesystem::path& path, std::string_view bytes, std::string_view function) {
  io::check_path(path, function);
  try {
    io::write_file_atomically(path, bytes);
  } catch (const IOError& e) {
    throw IOError(cat(function, ": ", e.what()));
  }
}

/// The path in quotes, as error messages show it.
inline std::string quoted_path(const std::filesystem::path& path) { return cat("'", path.string(), "'"); }

}  // namespace detail
}  // namespace serialization
}  // namespace kerascpp
