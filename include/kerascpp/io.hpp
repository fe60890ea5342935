// kerascpp/io.hpp — reading whole files and replacing files atomically.
//
// Every file the library writes (weights, SVG plots, CSV logs) goes through
// `write_file_atomically`: the content is written to a temporary file in the target's folder,
// flushed to disk, then renamed over the target. A crash or an exception midway leaves either the
// previous file or the new one, never a truncated mix, and no temporary file behind.
#pragma once

#include <kerascpp/core.hpp>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <unistd.h>
#else
#include <chrono>
#include <random>
#endif

namespace kerascpp::io {

namespace detail {

/// The path in quotes, as error messages show it.
inline std::string quoted(const std::filesystem::path& path) { return kerascpp::detail::cat("'", path.string(), "'"); }

/// The OS reason of the last failed C or POSIX call, or a fallback when errno was not set.
inline std::string errno_reason(int error, std::string_view fallback) {
  return error != 0 ? std::string(std::strerror(error)) : std::string(fallback);
}

/// A number that differs between processes sharing a folder: the process id where there is one.
inline unsigned long long process_tag() {
#if defined(__unix__) || defined(__APPLE__)
  return static_cast<unsigned long long>(::getpid());
#else
  static const unsigned long long tag = [] {
    std::random_device device;
    const auto now = static_cast<unsigned long long>(std::chrono::steady_clock::now().time_since_epoch().count());
    return (static_cast<unsigned long long>(device()) << 32) ^ now;
  }();
  return tag;
#endif
}

/// A fresh temporary name `.<name>.tmp.<pid>.<counter>` in the same folder as `target`, so that
/// the final rename never crosses file systems.
inline std::filesystem::path temporary_sibling(const std::filesystem::path& target) {
  static std::atomic<unsigned long long> counter{0};
  const unsigned long long number = counter.fetch_add(1, std::memory_order_relaxed);
  const std::string name = kerascpp::detail::cat(".", target.filename().string(), ".tmp.", process_tag(), ".", number);
  return target.parent_path() / name;
}

/// Checks that `path` can be the target of a write: it names a file, its folder exists, and it
/// is not itself a folder. Returns the path to write to, with a symbolic link resolved so the
/// rename replaces the file it points to rather than the link.
inline std::filesystem::path checked_target(const std::filesystem::path& path, std::string_view where) {
  namespace fs = std::filesystem;
  if (path.empty()) throw IOError(kerascpp::detail::cat(where, ": cannot write a file with an empty path"));
  if (!path.has_filename())
    throw IOError(
        kerascpp::detail::cat(where, ": cannot write ", quoted(path), ": the path names a folder, not a file"));

  std::error_code error;
  fs::path target = path;
  if (fs::is_symlink(fs::symlink_status(path, error))) {
    fs::path resolved = fs::weakly_canonical(path, error);
    if (!error) target = resolved;
  }

  const fs::path folder = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  const fs::file_status folder_status = fs::status(folder, error);
  if (folder_status.type() == fs::file_type::not_found)
    throw IOError(
        kerascpp::detail::cat(where, ": cannot write ", quoted(path), ": folder ", quoted(folder), " does not exist"));
  if (!fs::exists(folder_status))
    throw IOError(kerascpp::detail::cat(where, ": cannot write ", quoted(path), ": cannot access folder ",
                                        quoted(folder), ": ", error.message()));
  if (!fs::is_directory(folder_status))
    throw IOError(
        kerascpp::detail::cat(where, ": cannot write ", quoted(path), ": ", quoted(folder), " is not a folder"));
  if (fs::is_directory(fs::status(target, error)))
    throw IOError(kerascpp::detail::cat(where, ": cannot write ", quoted(path), ": it is a folder"));
  return target;
}

/// Forces the content of a closed file to stable storage. Returns 0 or the errno of the failure.
inline int sync_file(const std::filesystem::path& path) {
#if defined(__unix__) || defined(__APPLE__)
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return errno;
  int result = 0;
  if (::fsync(fd) != 0) result = errno;
  ::close(fd);
  return result;
#else
  (void)path;
  return 0;
#endif
}

/// Makes a completed rename durable by syncing the folder that holds the entry. Best effort:
/// some file systems refuse to sync folders, and the file content is already on disk.
inline void sync_folder(const std::filesystem::path& folder) {
#if defined(__unix__) || defined(__APPLE__)
  const std::filesystem::path name = folder.empty() ? std::filesystem::path(".") : folder;
  const int fd = ::open(name.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
#else
  (void)folder;
#endif
}

/// Removes a temporary file, ignoring errors: it runs while another error is being reported.
inline void remove_quietly(const std::filesystem::path& path) {
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
}

}  // namespace detail

/// Replaces the file at `path` with what `writer` writes to the binary stream it is given.
///
/// The content goes to a temporary file `.<name>.tmp.<pid>.<n>` in the same folder, which is
/// flushed, synced to disk (`fsync` on POSIX systems) and renamed over `path`; an existing file
/// keeps its permissions. If anything fails, the temporary file is removed and the previous file
/// is left untouched. An exception thrown by `writer` is rethrown unchanged; every other failure
/// throws `IOError` naming the path and the reason (missing folder, `path` is a folder, disk full,
/// permission denied, ...).
inline void write_file_atomically(const std::filesystem::path& path, const std::function<void(std::ostream&)>& writer) {
  namespace fs = std::filesystem;
  constexpr std::string_view where = "write_file_atomically";
  if (!writer) throw ValueError(kerascpp::detail::cat(where, ": the writer callback is empty"));
  const fs::path target = detail::checked_target(path, where);
  const fs::path temporary = detail::temporary_sibling(target);

  {
    errno = 0;
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out.is_open()) {
      const int error = errno;
      detail::remove_quietly(temporary);
      throw IOError(kerascpp::detail::cat(where, ": cannot write ", detail::quoted(path),
                                          ": cannot create temporary file ", detail::quoted(temporary), ": ",
                                          detail::errno_reason(error, "open failed")));
    }
    try {
      writer(out);
    } catch (...) {
      out.close();
      detail::remove_quietly(temporary);
      throw;
    }
    errno = 0;
    out.flush();
    const bool written = static_cast<bool>(out);
    const int write_error = errno;
    out.close();
    if (!written || out.fail()) {
      const int error = write_error != 0 ? write_error : errno;
      detail::remove_quietly(temporary);
      throw IOError(kerascpp::detail::cat(where, ": cannot write ", detail::quoted(path), ": ",
                                          detail::errno_reason(error, "the stream reported a write error")));
    }
  }

  if (const int error = detail::sync_file(temporary); error != 0) {
    detail::remove_quietly(temporary);
    throw IOError(kerascpp::detail::cat(where, ": cannot write ", detail::quoted(path),
                                        ": fsync failed: ", std::strerror(error)));
  }

  std::error_code error;
  const fs::file_status previous = fs::status(target, error);
  if (!error && fs::is_regular_file(previous)) fs::permissions(temporary, previous.permissions(), error);

  fs::rename(temporary, target, error);
  if (error) {
    detail::remove_quietly(temporary);
    throw IOError(kerascpp::detail::cat(where, ": cannot write ", detail::quoted(path), ": cannot rename ",
                                        detail::quoted(temporary), " over it: ", error.message()));
  }
  detail::sync_folder(target.parent_path());
}

/// Replaces the file at `path` with `bytes`, written in binary mode, with the same guarantees and
/// errors as the callback overload: readers see the old content or the new, never a part.
inline void write_file_atomically(const std::filesystem::path& path, std::string_view bytes) {
  write_file_atomically(path, std::function<void(std::ostream&)>([bytes](std::ostream& out) {
                          out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
                        }));
}

/// Returns the whole content of the file at `path`, read in binary mode. Throws `IOError` naming
/// the path and the reason when it does not exist, is a folder, or cannot be read.
inline std::string read_file(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  constexpr std::string_view where = "read_file";
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (!fs::exists(status)) {
    const std::string reason = error ? error.message() : std::string("no such file");
    throw IOError(kerascpp::detail::cat(where, ": cannot read ", detail::quoted(path), ": ", reason));
  }
  if (fs::is_directory(status))
    throw IOError(kerascpp::detail::cat(where, ": cannot read ", detail::quoted(path), ": it is a folder, not a file"));

  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    const int open_error = errno;
    throw IOError(kerascpp::detail::cat(where, ": cannot read ", detail::quoted(path), ": ",
                                        detail::errno_reason(open_error, "open failed")));
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) {
    const int read_error = errno;
    throw IOError(kerascpp::detail::cat(where, ": cannot read ", detail::quoted(path), ": ",
                                        detail::errno_reason(read_error, "read failed")));
  }
  return std::move(content).str();
}

}  // namespace kerascpp::io
