// kerascpp/keras/archive.hpp — the zip archive of a `.keras` file, through libzip: `read_archive`
// takes the named entries out of the archive's bytes (stored or deflated), refusing an entry whose
// uncompressed size is larger than the archive allows (zip bombs); `write_archive` makes the bytes
// of an archive of stored entries, as Keras writes them. Part of the optional target
// kerascpp::keras_files (links libzip).
#pragma once

#include <kerascpp/core.hpp>

#include <zip.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kerascpp::keras::archive {

using kerascpp::detail::cat;

/// How far an entry may expand: at most `ratio` times the archive's size plus `slack`, and never
/// more than `absolute` bytes. Keras stores its entries uncompressed, and deflated weights shrink
/// little, so a real model is far from the ratio; a zip bomb of zeros (deflate reaches about
/// 1032:1) is refused before it is inflated.
struct Limits {
  std::uint64_t ratio = 100;
  std::uint64_t slack = std::uint64_t{1} << 20;
  std::uint64_t absolute = std::uint64_t{4} << 30;
};

/// The largest uncompressed size an entry of an archive of `archive_size` bytes may have.
inline std::uint64_t entry_limit(std::uint64_t archive_size, const Limits& limits = {}) {
  const std::uint64_t relative = archive_size > (limits.absolute / limits.ratio) ? limits.absolute
                                                                                 : archive_size * limits.ratio + limits.slack;
  return relative < limits.absolute ? relative : limits.absolute;
}

namespace detail {

struct ArchiveCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct FileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};
struct SourceFreer {
  void operator()(zip_source_t* s) const { zip_source_free(s); }
};

inline std::string error_text(zip_error_t* error) {
  std::string out = zip_error_strerror(error);
  zip_error_fini(error);
  return out;
}

}  // namespace detail

/// The entries of the archive in `bytes` that `wanted` names (others are listed but not read),
/// each checked against `entry_limit`. Throws IOError for a truncated or corrupt archive, an entry
/// that is too large, encrypted or compressed with a method other than store or deflate.
inline std::map<std::string, std::string> read_archive(std::string_view bytes, const std::vector<std::string>& wanted,
                                                       std::vector<std::string>* names = nullptr,
                                                       const Limits& limits = {}) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* raw = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (raw == nullptr) throw IOError(cat("not a zip archive: ", detail::error_text(&error)));
  std::unique_ptr<zip_source_t, detail::SourceFreer> source(raw);
  std::unique_ptr<zip_t, detail::ArchiveCloser> zip(zip_open_from_source(raw, ZIP_RDONLY | ZIP_CHECKCONS, &error));
  if (!zip) throw IOError(cat("not a zip archive, or a truncated or corrupt one: ", detail::error_text(&error)));
  source.release();  // the archive owns it now
  zip_error_fini(&error);

  const std::uint64_t limit = entry_limit(bytes.size(), limits);
  const zip_int64_t count = zip_get_num_entries(zip.get(), 0);
  std::map<std::string, std::string> out;
  for (zip_int64_t k = 0; k < count; ++k) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(zip.get(), static_cast<zip_uint64_t>(k), 0, &st) != 0 || (st.valid & ZIP_STAT_NAME) == 0)
      throw IOError(cat("zip entry ", k, ": unreadable directory record"));
    const std::string name = st.name;
    if (names != nullptr) names->push_back(name);
    bool want = false;
    for (const auto& w : wanted) want = want || w == name;
    if (!want) continue;
    if (out.count(name) != 0) throw IOError(cat("zip entry '", name, "' appears twice"));
    if ((st.valid & ZIP_STAT_SIZE) == 0) throw IOError(cat("zip entry '", name, "': unknown size"));
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) != 0 && st.encryption_method != ZIP_EM_NONE)
      throw IOError(cat("zip entry '", name, "' is encrypted"));
    if ((st.valid & ZIP_STAT_COMP_METHOD) != 0 && st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE)
      throw IOError(cat("zip entry '", name, "' uses compression method ", st.comp_method,
                        "; only stored (0) and deflated (8) entries are read"));
    if (st.size > limit)
      throw IOError(cat("zip entry '", name, "' declares ", st.size, " bytes uncompressed, more than the ", limit,
                        " bytes an archive of ", bytes.size(), " bytes may hold (a zip bomb, or a corrupt size field)"));
    std::unique_ptr<zip_file_t, detail::FileCloser> file(zip_fopen_index(zip.get(), static_cast<zip_uint64_t>(k), 0));
    if (!file) throw IOError(cat("zip entry '", name, "': cannot open it: ", zip_strerror(zip.get())));
    std::string content(static_cast<std::size_t>(st.size) + 1, '\0');
    std::size_t got = 0;
    while (got < content.size()) {
      const zip_int64_t n = zip_fread(file.get(), content.data() + got, content.size() - got);
      if (n < 0)
        throw IOError(cat("zip entry '", name, "': cannot read it (truncated or corrupt data): ",
                          zip_file_strerror(file.get())));
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    if (got != st.size)
      throw IOError(cat("zip entry '", name, "': declares ", st.size, " bytes but holds ", got == content.size() ? "more" : cat(got)));
    content.resize(got);
    out.emplace(name, std::move(content));
  }
  return out;
}

/// The bytes of a zip archive holding `entries` (name, content) in order, stored uncompressed
/// with the date 1980-01-01, as Python's zipfile writes Keras's entries.
inline std::string write_archive(const std::vector<std::pair<std::string, std::string>>& entries) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* raw = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (raw == nullptr) throw IOError(cat("cannot create a zip archive in memory: ", detail::error_text(&error)));
  std::unique_ptr<zip_source_t, detail::SourceFreer> buffer(raw);
  zip_source_keep(raw);  // stays alive after zip_close, to read the result
  zip_t* z = zip_open_from_source(raw, ZIP_TRUNCATE, &error);
  if (z == nullptr) {
    zip_source_free(raw);
    throw IOError(cat("cannot create a zip archive in memory: ", detail::error_text(&error)));
  }
  std::unique_ptr<zip_t, detail::ArchiveCloser> zip(z);
  zip_error_fini(&error);
  for (const auto& [name, content] : entries) {
    zip_source_t* data = zip_source_buffer(z, content.data(), content.size(), 0);
    if (data == nullptr) throw IOError(cat("cannot add '", name, "' to the zip archive: ", zip_strerror(z)));
    const zip_int64_t index = zip_file_add(z, name.c_str(), data, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(data);
      throw IOError(cat("cannot add '", name, "' to the zip archive: ", zip_strerror(z)));
    }
    const auto i = static_cast<zip_uint64_t>(index);
    if (zip_set_file_compression(z, i, ZIP_CM_STORE, 0) != 0 || zip_file_set_dostime(z, i, 0, (1 << 5) | 1, 0) != 0)
      throw IOError(cat("cannot add '", name, "' to the zip archive: ", zip_strerror(z)));
  }
  if (zip_close(z) != 0) throw IOError(cat("cannot write the zip archive: ", zip_strerror(z)));
  zip.release();  // zip_close freed it
  if (zip_source_open(raw) != 0) throw IOError("cannot read back the zip archive written in memory");
  std::string out;
  bool read = zip_source_seek(raw, 0, SEEK_END) == 0;
  const zip_int64_t size = read ? zip_source_tell(raw) : -1;
  read = size >= 0 && zip_source_seek(raw, 0, SEEK_SET) == 0;
  if (read) out.resize(static_cast<std::size_t>(size));
  std::size_t got = 0;
  while (read && got < out.size()) {
    const zip_int64_t n = zip_source_read(raw, out.data() + got, out.size() - got);
    read = n > 0;
    if (read) got += static_cast<std::size_t>(n);
  }
  zip_source_close(raw);
  if (!read || got != out.size()) throw IOError("cannot read back the zip archive written in memory");
  return out;
}

}  // namespace kerascpp::keras::archive
