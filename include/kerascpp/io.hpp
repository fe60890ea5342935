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

/// `path` as messages show it: a NUL byte as \0 and other control bytes as \xNN.
inline std::string printable(const std::filesystem::path& path) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : path.string()) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte == 0) out += "\\0";
    else if (byte < 0x20U || byte == 0x7FU) out += {'\\', 'x', digits[byte >> 4], digits[byte & 0xFU]};
    else out += c;
  }
  return out;
}

/// What a file system entry of type `type` is, for messages: "a directory", "a FIFO", ...
inline const char* type_name(std::filesystem::file_type type) {
  switch (type) {
    case std::filesystem::file_type::regular: return "a regular file";
    case std::filesystem::file_type::directory: return "a directory";
    case std::filesystem::file_type::symlink: return "a symbolic link";
    case std::filesystem::file_type::block: return "a block device";
    case std::filesystem::file_type::character: return "a character device";
    case std::filesystem::file_type::fifo: return "a FIFO (named pipe)";
    case std::filesystem::file_type::socket: return "a socket";
    case std::filesystem::file_type::not_found: return "absent";
    default: return "of an unknown file type";
  }
}

}  // namespace detail

/// Throws ValueError when `path` holds a NUL byte, which the operating system would take as its
/// end, so that a file of another name would be read or written; `caller` starts the message.
inline void check_path(const std::filesystem::path& path, std::string_view caller) {
  const auto& native = path.native();
  const auto nul = native.find(static_cast<std::filesystem::path::value_type>(0));
  if (nul != std::filesystem::path::string_type::npos)
    kerascpp::detail::fail(caller, ": the path contains a NUL byte at position ", nul, ": '", detail::printable(path),
                           "'; expected a path without NUL bytes");
}

namespace detail {

/// Checks that `path` names an existing regular file that `where` can read: a directory, a device
/// (/dev/zero would never end), a FIFO (it would block) or a socket is refused with an IOError.
inline void check_readable(const std::filesystem::path& path, std::string_view where) {
  namespace fs = std::filesystem;
  check_path(path, where);
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (!fs::exists(status)) {
    const std::string reason = error ? error.message() : std::string("no such file");
    throw IOError(kerascpp::detail::cat(where, ": cannot read ", quoted(path), ": ", reason));
  }
  if (fs::is_directory(status))
    throw IOError(kerascpp::detail::cat(where, ": cannot read ", quoted(path), ": it is a folder, not a file"));
  if (!fs::is_regular_file(status))
    throw IOError(kerascpp::detail::cat(where, ": cannot read ", quoted(path), ": it is ", type_name(status.type()),
                                        "; expected a regular file"));
}

/// Checks that `path` can be the target of a write: it names a file, its folder exists, and it
/// is not itself a folder. Returns the path to write to, with a symbolic link resolved so the
/// rename replaces the file it points to rather than the link.
inline std::filesystem::path checked_target(const std::filesystem::path& path, std::string_view where) {
  namespace fs = std::filesystem;
  check_path(path, where);
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
  const fs::file_status target_status = fs::status(target, error);
  if (fs::is_directory(target_status))
    throw IOError(kerascpp::detail::cat(where, ": cannot write ", quoted(path), ": it is a folder"));
  // the rename would replace a device, FIFO or socket by a regular file
  if (fs::exists(target_status) && !fs::is_regular_file(target_status))
    throw IOError(kerascpp::detail::cat(where, ": cannot write ", quoted(path), ": it is ",
                                        type_name(target_status.type()),
                                        "; expected the path of a regular file or of no file yet"));
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
/// throws `IOError` naming the path and the reason (missing folder, `path` is a folder or a device
/// or anything but a regular file, disk full, permission denied, ...), except a path holding a NUL
/// byte, a `ValueError`.
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
/// the path and the reason when it does not exist, is not a regular file (a folder, a device, a
/// FIFO, ...) or cannot be read, and `ValueError` when the path holds a NUL byte.
inline std::string read_file(const std::filesystem::path& path) {
  constexpr std::string_view where = "read_file";
  detail::check_readable(path, where);

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
