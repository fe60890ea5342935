// kerascpp/keras/hdf5.hpp — the little of the HDF5 C library that Keras's weight files need:
// files held in memory (opened from bytes, written to bytes), groups, float datasets and string
// attributes. Every call is checked; a failure throws IOError naming the object's path in the file.
// HDF5's own printing of its error stack is switched off while kerascpp calls it (QuietErrors).
// Part of the optional target kerascpp::keras_files (links the HDF5 C library).
#pragma once

#include <kerascpp/core.hpp>

#include <hdf5.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace kerascpp::keras::hdf5 {

using kerascpp::detail::cat;

/// Switches HDF5's automatic printing of its error stack off for the object's lifetime and
/// restores whatever was set before (H5Eset_auto2).
class QuietErrors {
 public:
  QuietErrors() {
    H5Eget_auto2(H5E_DEFAULT, &function_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, function_, data_); }
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;

 private:
  H5E_auto2_t function_ = nullptr;
  void* data_ = nullptr;
};

/// Owns one HDF5 identifier (file, group, dataset, type, space, property list or attribute).
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      release();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { release(); }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  void release() {
    if (id_ >= 0) H5Idec_ref(id_);
    id_ = H5I_INVALID_HID;
  }
  hid_t id_ = H5I_INVALID_HID;
};

/// `id` owned, or an IOError "<where>: <what>" when the call that made it failed.
inline Handle checked(hid_t id, std::string_view where, std::string_view what) {
  if (id < 0) throw IOError(cat(where, ": ", what));
  return Handle(id);
}

inline void check(herr_t status, std::string_view where, std::string_view what) {
  if (status < 0) throw IOError(cat(where, ": ", what));
}

/// The 8 bytes every HDF5 file starts with (at offset 0, or 512, 1024, ... after a user block).
inline constexpr std::string_view signature{"\x89HDF\r\n\x1a\n", 8};

inline bool has_signature(std::string_view bytes) {
  for (std::size_t at = 0; at + signature.size() <= bytes.size(); at = at == 0 ? 512 : at * 2)
    if (bytes.substr(at, signature.size()) == signature) return true;
  return false;
}

/// Refuses a file whose global heap — where HDF5 keeps variable-length strings such as Keras's
/// `name` attributes — holds an object HDF5 1.10 cannot step over: one of size 0 (HDF5 loops on it
/// forever) or one running past the end of its collection. Each collection starts with "GCOL",
/// version 1, three reserved bytes and its size; then objects: index (2 bytes), reference count (2),
/// reserved (4), size (8), data padded to 8 bytes; index 0 is the free space, of `size` bytes.
inline void check_global_heaps(std::string_view bytes) {
  const auto load = [&](std::size_t at, int n) {
    std::uint64_t v = 0;
    for (int k = n - 1; k >= 0; --k) v = (v << 8) | static_cast<unsigned char>(bytes[at + static_cast<std::size_t>(k)]);
    return v;
  };
  constexpr std::size_t header = 16;
  for (std::size_t at = bytes.find("GCOL"); at != std::string_view::npos; at = bytes.find("GCOL", at + 1)) {
    if (at + header > bytes.size() || bytes[at + 4] != 1) continue;
    const std::uint64_t size = load(at + 8, 8);
    if (size < 4096) continue;  // not a collection: HDF5 makes them at least 4 KiB
    const std::size_t end = at + static_cast<std::size_t>(std::min<std::uint64_t>(size, bytes.size() - at));
    for (std::size_t p = at + header; p + header <= end;) {
      const std::uint64_t index = load(p, 2), object = load(p + 8, 8);
      const std::uint64_t need = index > 0 ? header + (object + 7) / 8 * 8 : object;
      if (need == 0 || need > end - p || (index > 0 && object > end - p))
        throw IOError(cat("the file is corrupt: the global heap at byte ", at, " holds an object of ", object,
                          " bytes at byte ", p, " that does not fit its collection"));
      p += static_cast<std::size_t>(need);
    }
  }
}

/// A unique name for an in-memory file (HDF5 refuses to open one name twice).
inline std::string memory_name() {
  static std::atomic<unsigned long long> counter{0};
  return cat("kerascpp-memory-", counter.fetch_add(1), ".h5");
}

/// Element type of a dataset, as Keras names dtypes.
inline std::string dtype_name(hid_t type) {
  const H5T_class_t c = H5Tget_class(type);
  const std::size_t size = H5Tget_size(type);
  switch (c) {
    case H5T_FLOAT: return cat("float", 8 * size);
    case H5T_INTEGER: return cat(H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int", 8 * size);
    case H5T_STRING: return "string";
    case H5T_COMPOUND: return "compound";
    case H5T_ENUM: return "enum (such as bool)";
    default: return "a non-numeric type";
  }
}

/// What a dataset holds, before any of its values are read.
struct DatasetInfo {
  std::string path;
  std::vector<std::int64_t> dims;  // empty for a scalar
  std::string dtype;               // "float32", "int64", ...
  bool is_float = false;
  bool is_integer = false;
  std::uint64_t values = 1;        // product of dims
  std::uint64_t element_size = 0;  // bytes per value in the file
  std::uint64_t stored_bytes = 0;  // bytes the file holds for it
  bool contiguous = false;         // stored as one block (as h5py and Keras write)
};

/// "(11, 512)", "(512,)" or "()".
inline std::string shape_text(const std::vector<std::int64_t>& dims) {
  std::string out = "(";
  for (std::size_t k = 0; k < dims.size(); ++k) out += cat(k ? ", " : "", dims[k]);
  if (dims.size() == 1) out += ",";
  return out + ")";
}

/// An HDF5 file held in memory: opened from the bytes of a file, or created empty for writing
/// and turned into bytes by `image()`.
class File {
 public:
  /// Opens `bytes` read-only (HDF5 copies them). `max_expansion` bounds what a compressed dataset
  /// may decompress to, as a multiple of the file's size.
  static File open(std::string_view bytes) {
    if (!has_signature(bytes))
      throw IOError(cat("not an HDF5 file (", bytes.size() < 8 ? "shorter than the 8-byte signature" : "no HDF5 signature",
                        ")"));
    check_global_heaps(bytes);
    File f;
    f.size_ = bytes.size();
    const QuietErrors quiet;
    Handle fapl = checked(H5Pcreate(H5P_FILE_ACCESS), "HDF5", "cannot create a file access list");
    check(H5Pset_fapl_core(fapl.get(), 1 << 16, 0), "HDF5", "cannot select the in-memory driver");
    check(H5Pset_file_image(fapl.get(), const_cast<char*>(bytes.data()), bytes.size()), "HDF5",
          "cannot hand the file's bytes to HDF5");
    f.file_ = checked(H5Fopen(memory_name().c_str(), H5F_ACC_RDONLY, fapl.get()), "HDF5",
                      "the file is truncated or corrupt (HDF5 cannot open it)");
    return f;
  }

  /// A new empty file in memory, written as HDF5 files from h5py's defaults are.
  static File create() {
    File f;
    const QuietErrors quiet;
    Handle fapl = checked(H5Pcreate(H5P_FILE_ACCESS), "HDF5", "cannot create a file access list");
    check(H5Pset_fapl_core(fapl.get(), 1 << 16, 0), "HDF5", "cannot select the in-memory driver");
    f.file_ = checked(H5Fcreate(memory_name().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), "HDF5",
                      "cannot create a file in memory");
    return f;
  }

  hid_t id() const { return file_.get(); }

  /// Whether `path` ("/layers/dense/vars") names an object, checked one component at a time.
  bool exists(std::string_view path) const {
    const QuietErrors quiet;
    std::string prefix;
    std::size_t start = 0;
    while (start < path.size()) {
      std::size_t end = path.find('/', start);
      if (end == std::string_view::npos) end = path.size();
      if (end > start) {
        prefix += cat("/", path.substr(start, end - start));
        if (H5Lexists(file_.get(), prefix.c_str(), H5P_DEFAULT) <= 0) return false;
        if (H5Oexists_by_name(file_.get(), prefix.c_str(), H5P_DEFAULT) <= 0) return false;
      }
      start = end + 1;
    }
    return true;
  }

  /// The kind of object at an existing path.
  H5I_type_t kind(const std::string& path) const {
    const QuietErrors quiet;
    Handle object = checked(H5Oopen(file_.get(), path.c_str(), H5P_DEFAULT), path, "cannot open the object");
    return H5Iget_type(object.get());
  }
  bool is_group(const std::string& path) const { return exists(path) && kind(path) == H5I_GROUP; }
  bool is_dataset(const std::string& path) const { return exists(path) && kind(path) == H5I_DATASET; }

  /// The names of a group's members, in name order.
  std::vector<std::string> members(const std::string& path) const {
    const QuietErrors quiet;
    Handle group = checked(H5Gopen2(file_.get(), path.c_str(), H5P_DEFAULT), path, "cannot open the group");
    H5G_info_t info{};
    check(H5Gget_info(group.get(), &info), path, "cannot list the group's members");
    std::vector<std::string> out;
    for (hsize_t k = 0; k < info.nlinks; ++k) {
      const ssize_t n = H5Lget_name_by_idx(group.get(), ".", H5_INDEX_NAME, H5_ITER_INC, k, nullptr, 0, H5P_DEFAULT);
      if (n < 0 || n > 4096) throw IOError(cat(path, ": member ", k, " has an unreadable name"));
      std::string name(static_cast<std::size_t>(n) + 1, '\0');
      if (H5Lget_name_by_idx(group.get(), ".", H5_INDEX_NAME, H5_ITER_INC, k, name.data(), name.size(), H5P_DEFAULT) < 0)
        throw IOError(cat(path, ": member ", k, " has an unreadable name"));
      name.resize(static_cast<std::size_t>(n));
      out.push_back(std::move(name));
    }
    return out;
  }

  /// Whether the object at `path` has an attribute `name`.
  bool has_attribute(const std::string& path, const std::string& name) const {
    const QuietErrors quiet;
    return H5Aexists_by_name(file_.get(), path.c_str(), name.c_str(), H5P_DEFAULT) > 0;
  }

  /// A string attribute as a list of strings: a scalar gives one, a 1-D array one per element.
  /// Fixed-length (numpy bytes) and variable-length (Python str) strings are both read.
  std::vector<std::string> string_attribute(const std::string& path, const std::string& name) const {
    const std::string where = cat(path, " attribute '", name, "'");
    const QuietErrors quiet;
    Handle attr = checked(H5Aopen_by_name(file_.get(), path.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT), where,
                          "cannot open the attribute");
    Handle type = checked(H5Aget_type(attr.get()), where, "cannot read the attribute's type");
    if (H5Tget_class(type.get()) != H5T_STRING)
      throw IOError(cat(where, ": expected a string, found ", dtype_name(type.get())));
    Handle space = checked(H5Aget_space(attr.get()), where, "cannot read the attribute's shape");
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0 || rank > 1) throw IOError(cat(where, ": expected a string or a list of strings, found rank ", rank));
    const hssize_t count = H5Sget_simple_extent_npoints(space.get());
    if (count < 0 || count > (1 << 24)) throw IOError(cat(where, ": unreadable element count ", count));
    const auto n = static_cast<std::size_t>(count);
    std::vector<std::string> out;
    if (n == 0) return out;
    const htri_t variable = H5Tis_variable_str(type.get());
    if (variable < 0) throw IOError(cat(where, ": cannot read the string type"));
    if (variable > 0) {
      Handle memory = checked(H5Tcopy(H5T_C_S1), where, "cannot make a string type");
      check(H5Tset_size(memory.get(), H5T_VARIABLE), where, "cannot make a string type");
      check(H5Tset_cset(memory.get(), H5Tget_cset(type.get())), where, "cannot make a string type");
      std::vector<char*> pointers(n, nullptr);
      check(H5Aread(attr.get(), memory.get(), pointers.data()), where, "cannot read the strings (the file is corrupt)");
      for (char* p : pointers) out.emplace_back(p != nullptr ? p : "");
#if H5_VERSION_GE(1, 12, 0)
      H5Treclaim(memory.get(), space.get(), H5P_DEFAULT, pointers.data());
#else
      H5Dvlen_reclaim(memory.get(), space.get(), H5P_DEFAULT, pointers.data());
#endif
    } else {
      const std::size_t size = H5Tget_size(type.get());
      if (size == 0 || size > (std::size_t{1} << 26) || n * size > (std::size_t{1} << 28))
        throw IOError(cat(where, ": implausible string size ", size, " × ", n));
      std::string buffer(n * size, '\0');
      check(H5Aread(attr.get(), type.get(), buffer.data()), where, "cannot read the strings (the file is corrupt)");
      for (std::size_t k = 0; k < n; ++k) {
        std::string s = buffer.substr(k * size, size);
        s.resize(s.find('\0') == std::string::npos ? s.size() : s.find('\0'));
        out.push_back(std::move(s));
      }
    }
    return out;
  }

  /// A string attribute that must hold one string.
  std::string string(const std::string& path, const std::string& name) const {
    auto list = string_attribute(path, name);
    if (list.size() != 1) throw IOError(cat(path, " attribute '", name, "': expected one string, found ", list.size()));
    return std::move(list.front());
  }

  /// Shape, dtype and storage of the dataset at `path`, without reading its values.
  DatasetInfo info(const std::string& path) const {
    const QuietErrors quiet;
    DatasetInfo d;
    d.path = path;
    Handle set = checked(H5Dopen2(file_.get(), path.c_str(), H5P_DEFAULT), path, "cannot open the dataset");
    Handle type = checked(H5Dget_type(set.get()), path, "cannot read the dataset's dtype");
    d.dtype = dtype_name(type.get());
    d.is_float = H5Tget_class(type.get()) == H5T_FLOAT;
    d.is_integer = H5Tget_class(type.get()) == H5T_INTEGER;
    Handle space = checked(H5Dget_space(set.get()), path, "cannot read the dataset's shape");
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0 || rank > 8) throw IOError(cat(path, ": unreadable shape (rank ", rank, ")"));
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    if (rank > 0) check(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), path, "unreadable shape");
    d.values = 1;
    for (const hsize_t n : dims) {
      if (n > static_cast<hsize_t>(std::numeric_limits<std::int32_t>::max()))
        throw IOError(cat(path, ": a dimension of ", n, " is larger than kerascpp allows (", std::numeric_limits<std::int32_t>::max(), ")"));
      d.dims.push_back(static_cast<std::int64_t>(n));
      constexpr std::uint64_t limit = std::uint64_t{1} << 40;
      if (n != 0 && d.values > limit / n) throw IOError(cat(path, ": a shape of more than ", limit, " values is refused"));
      d.values *= n;
    }
    d.stored_bytes = H5Dget_storage_size(set.get());
    Handle plist = checked(H5Dget_create_plist(set.get()), path, "cannot read the dataset's storage layout");
    d.contiguous = H5Pget_layout(plist.get()) == H5D_CONTIGUOUS;
    d.element_size = H5Tget_size(type.get());
    if (d.contiguous && d.stored_bytes != d.values * d.element_size)
      throw IOError(cat(path, ": shape ", shape_text(d.dims), " of ", d.dtype, " needs ", d.values * d.element_size,
                        " bytes but the file stores ", d.stored_bytes, " (the dataset's size does not match its shape)"));
    return d;
  }

  /// The values of a float (or, with `allow_integer`, integer) dataset, converted to T, after
  /// checking that the file holds as many bytes as its shape needs.
  template <typename T>
  std::vector<T> read(const DatasetInfo& d, bool allow_integer = false) const {
    const std::string& path = d.path;
    if (!d.is_float && !(allow_integer && d.is_integer))
      throw IOError(cat(path, ": dtype ", d.dtype, " where kerascpp expects float32 or float64"));
    const QuietErrors quiet;
    Handle set = checked(H5Dopen2(file_.get(), path.c_str(), H5P_DEFAULT), path, "cannot open the dataset");
    Handle type = checked(H5Dget_type(set.get()), path, "cannot read the dataset's dtype");
    const std::uint64_t needed = d.values * d.element_size;
    if (!d.contiguous && needed > max_expansion * static_cast<std::uint64_t>(size_) + (std::uint64_t{1} << 20))
      throw IOError(cat(path, ": shape ", shape_text(d.dims), " needs ", needed, " bytes, more than ", max_expansion,
                        " times the file's ", size_, " bytes (a compressed dataset that large is refused)"));
    std::vector<T> out(static_cast<std::size_t>(d.values));
    hid_t memory = H5T_NATIVE_FLOAT;
    if constexpr (std::is_same_v<T, double>) memory = H5T_NATIVE_DOUBLE;
    else if constexpr (std::is_same_v<T, std::int64_t>) memory = H5T_NATIVE_INT64;
    if (!out.empty())
      check(H5Dread(set.get(), memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), path,
            "cannot read the values (the file is truncated or corrupt)");
    return out;
  }

  // Writing.

  /// Creates the group at `path` and any missing parent groups.
  void make_group(const std::string& path) {
    if (exists(path)) return;
    const QuietErrors quiet;
    Handle lcpl = checked(H5Pcreate(H5P_LINK_CREATE), path, "cannot create a link list");
    check(H5Pset_create_intermediate_group(lcpl.get(), 1), path, "cannot create a link list");
    checked(H5Gcreate2(file_.get(), path.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT), path, "cannot create the group");
  }

  /// A variable-length UTF-8 string attribute on one object, as h5py writes a Python str.
  void write_string_attribute(const std::string& path, const std::string& name, const std::string& value) {
    const QuietErrors quiet;
    const std::string where = cat(path, " attribute '", name, "'");
    Handle type = checked(H5Tcopy(H5T_C_S1), where, "cannot make a string type");
    check(H5Tset_size(type.get(), H5T_VARIABLE), where, "cannot make a string type");
    check(H5Tset_cset(type.get(), H5T_CSET_UTF8), where, "cannot make a string type");
    Handle space = checked(H5Screate(H5S_SCALAR), where, "cannot make a scalar space");
    Handle attr = checked(H5Acreate_by_name(file_.get(), path.c_str(), name.c_str(), type.get(), space.get(), H5P_DEFAULT,
                                            H5P_DEFAULT, H5P_DEFAULT),
                          where, "cannot create the attribute");
    const char* text = value.c_str();
    check(H5Awrite(attr.get(), type.get(), &text), where, "cannot write the attribute");
  }

  /// A contiguous float32 dataset of shape `dims` (empty: a scalar) from `values`.
  void write_float32(const std::string& path, const std::vector<std::int64_t>& dims, const std::vector<float>& values) {
    write(path, dims, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, values.data());
  }

  /// A scalar int64 dataset (the optimizer's iteration count).
  void write_int64(const std::string& path, std::int64_t value) { write(path, {}, H5T_STD_I64LE, H5T_NATIVE_INT64, &value); }

  /// The whole file as bytes.
  std::string image() const {
    const QuietErrors quiet;
    check(H5Fflush(file_.get(), H5F_SCOPE_GLOBAL), "HDF5", "cannot flush the file in memory");
    const ssize_t n = H5Fget_file_image(file_.get(), nullptr, 0);
    if (n < 0) throw IOError("HDF5: cannot take the image of the file in memory");
    std::string out(static_cast<std::size_t>(n), '\0');
    if (H5Fget_file_image(file_.get(), out.data(), out.size()) != n)
      throw IOError("HDF5: cannot take the image of the file in memory");
    return out;
  }

  /// How many times its file's size a compressed dataset may expand to.
  static constexpr std::uint64_t max_expansion = 1100;

 private:
  void write(const std::string& path, const std::vector<std::int64_t>& dims, hid_t file_type, hid_t memory_type,
             const void* data) {
    const QuietErrors quiet;
    std::vector<hsize_t> extent(dims.begin(), dims.end());
    Handle space = checked(dims.empty() ? H5Screate(H5S_SCALAR)
                                        : H5Screate_simple(static_cast<int>(extent.size()), extent.data(), nullptr),
                           path, "cannot make the dataset's shape");
    Handle set = checked(H5Dcreate2(file_.get(), path.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                         path, "cannot create the dataset");
    check(H5Dwrite(set.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), path, "cannot write the dataset");
  }

  Handle file_;
  std::size_t size_ = 0;
};

}  // namespace kerascpp::keras::hdf5
