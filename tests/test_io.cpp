#include <kerascpp/io.hpp>

#include "scratch_folder.hpp"
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/stat.h>
#endif

// Everything of this file is in its own namespace, so that test files can share a translation unit.
namespace test_io {

using kerascpp_test::ScratchFolder;

namespace fs = std::filesystem;
using kerascpp::IOError;
using kerascpp::ValueError;
using kerascpp::io::read_file;
using kerascpp::io::write_file_atomically;

namespace {

std::vector<std::string> folder_entries(const fs::path& folder) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder)) names.push_back(entry.path().filename().string());
  return names;
}

}  // namespace

TEST_CASE("write_file_atomically then read_file round-trips text and binary content", "[io]") {
  ScratchFolder folder;
  const fs::path file = folder.path() / "data.bin";

  std::string bytes = "first line\nsecond line\r\n";
  bytes.push_back('\0');
  bytes += "\xff\x01 after a zero byte";
  write_file_atomically(file, bytes);
  CHECK(read_file(file) == bytes);
  CHECK(fs::file_size(file) == bytes.size());
  CHECK(folder_entries(folder.path()) == std::vector<std::string>{"data.bin"});
}

TEST_CASE("write_file_atomically writes an empty file", "[io]") {
  ScratchFolder folder;
  const fs::path file = folder.path() / "empty.txt";
  write_file_atomically(file, std::string_view{});
  REQUIRE(fs::exists(file));
  CHECK(read_file(file).empty());
}

TEST_CASE("write_file_atomically overwrites with the new content", "[io]") {
  ScratchFolder folder;
  const fs::path file = folder.path() / "weights.txt";
  write_file_atomically(file, "a long first version of the file\n");
  write_file_atomically(file, "short\n");
  CHECK(read_file(file) == "short\n");
  CHECK(folder_entries(folder.path()) == std::vector<std::string>{"weights.txt"});
}

TEST_CASE("write_file_atomically with a writer callback streams binary content", "[io]") {
  ScratchFolder folder;
  const fs::path file = folder.path() / "big.bin";
  write_file_atomically(file, [](std::ostream& out) {
    for (int i = 0; i < 100000; ++i) out.put(static_cast<char>(i % 256));
  });
  const std::string content = read_file(file);
  REQUIRE(content.size() == 100000);
  CHECK(static_cast<unsigned char>(content[10]) == 10);
  CHECK(static_cast<unsigned char>(content[99999]) == 99999 % 256);
  CHECK(content.find('\r') == 13);
}

TEST_CASE("a writer that throws midway leaves the previous file intact and no temporary file", "[io]") {
  ScratchFolder folder;
  const fs::path file = folder.path() / "model.weights";
  write_file_atomically(file, "previous content");

  auto failing_writer = [](std::ostream& out) {
    out << "half of the new cont";
    out.flush();
    throw std::runtime_error("writer failed midway");
  };
  CHECK_THROWS_WITH(write_file_atomically(file, failing_writer), "writer failed midway");

  CHECK(read_file(file) == "previous content");
  CHECK(folder_entries(folder.path()) == std::vector<std::string>{"model.weights"});
}

TEST_CASE("a writer that throws leaves no file when there was none", "[io]") {
  ScratchFolder folder;
  const fs::path file = folder.path() / "never.txt";
  CHECK_THROWS_AS(write_file_atomically(file, [](std::ostream&) { throw std::logic_error("no"); }), std::logic_error);
  CHECK(folder_entries(folder.path()).empty());
}

TEST_CASE("write_file_atomically into a missing folder throws IOError naming the path", "[io]") {
  ScratchFolder folder;
  const fs::path file = folder.path() / "missing" / "out.svg";
  CHECK_THROWS_AS(write_file_atomically(file, "x"), IOError);
  CHECK_THROWS_WITH(write_file_atomically(file, "x"),
                    Catch::Contains(file.string()) && Catch::Contains("does not exist"));
  CHECK(folder_entries(folder.path()).empty());
}

TEST_CASE("write_file_atomically onto a folder throws IOError", "[io]") {
  ScratchFolder folder;
  const fs::path target = folder.path() / "sub";
  fs::create_directory(target);
  CHECK_THROWS_AS(write_file_atomically(target, "x"), IOError);
  CHECK_THROWS_WITH(write_file_atomically(target, "x"), Catch::Contains(target.string()) && Catch::Contains("folder"));
  CHECK(fs::is_directory(target));
  CHECK(folder_entries(folder.path()) == std::vector<std::string>{"sub"});
}

TEST_CASE("write_file_atomically rejects a path without a file name", "[io]") {
  CHECK_THROWS_AS(write_file_atomically(fs::path{}, "x"), IOError);
  ScratchFolder folder;
  CHECK_THROWS_AS(write_file_atomically(folder.path() / "", "x"), IOError);
}

TEST_CASE("write_file_atomically under a regular file used as a folder throws IOError", "[io]") {
  ScratchFolder folder;
  const fs::path file = folder.path() / "plain.txt";
  write_file_atomically(file, "not a folder");
  CHECK_THROWS_WITH(write_file_atomically(file / "child.txt", "x"), Catch::Contains("is not a folder"));
}

#if defined(__unix__) || defined(__APPLE__)
TEST_CASE("write_file_atomically keeps the permissions of the file it replaces", "[io]") {
  ScratchFolder folder;
  const fs::path file = folder.path() / "script.sh";
  write_file_atomically(file, "#!/bin/sh\n");
  fs::permissions(file, fs::perms::owner_all);
  write_file_atomically(file, "#!/bin/sh\necho hi\n");
  CHECK((fs::status(file).permissions() & fs::perms::all) == fs::perms::owner_all);
}

TEST_CASE("write_file_atomically through a symbolic link replaces the file it points to", "[io]") {
  ScratchFolder folder;
  const fs::path real = folder.path() / "real.txt";
  const fs::path link = folder.path() / "link.txt";
  write_file_atomically(real, "old");
  fs::create_symlink(real, link);
  write_file_atomically(link, "new");
  CHECK(fs::is_symlink(fs::symlink_status(link)));
  CHECK(read_file(real) == "new");
}
#endif

TEST_CASE("read_file of a missing file throws IOError with the path and reason", "[io]") {
  ScratchFolder folder;
  const fs::path file = folder.path() / "absent.txt";
  CHECK_THROWS_AS(read_file(file), IOError);
  CHECK_THROWS_WITH(read_file(file),
                    Catch::Contains(file.string()) && Catch::Contains("no such file", Catch::CaseSensitive::No));
}

TEST_CASE("read_file of a folder throws IOError", "[io]") {
  ScratchFolder folder;
  CHECK_THROWS_AS(read_file(folder.path()), IOError);
  CHECK_THROWS_WITH(read_file(folder.path()), Catch::Contains(folder.path().string()) && Catch::Contains("folder"));
}

TEST_CASE("read_file refuses a character device and a FIFO, naming what it is", "[io]") {
  if (!fs::exists("/dev/zero")) {
    WARN("this system has no /dev/zero: skipped");
    return;
  }
  CHECK_THROWS_AS(read_file("/dev/zero"), IOError);
  CHECK_THROWS_WITH(read_file("/dev/zero"), Catch::Contains("read_file: cannot read '/dev/zero'") &&
                                                Catch::Contains("a character device") &&
                                                Catch::Contains("expected a regular file"));
#if defined(__unix__) || defined(__APPLE__)
  ScratchFolder folder;
  const fs::path fifo = folder.path() / "pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH(read_file(fifo), Catch::Contains(fifo.string()) && Catch::Contains("a FIFO"));
#endif
}

TEST_CASE("write_file_atomically refuses a device and leaves it a device", "[io]") {
  if (!fs::exists("/dev/null")) {
    WARN("this system has no /dev/null: skipped");
    return;
  }
  CHECK_THROWS_AS(write_file_atomically("/dev/null", "x"), IOError);
  CHECK_THROWS_WITH(write_file_atomically("/dev/null", "x"),
                    Catch::Contains("write_file_atomically: cannot write '/dev/null'") &&
                        Catch::Contains("a character device") && Catch::Contains("regular file"));
  CHECK(fs::is_character_file("/dev/null"));
#if defined(__unix__) || defined(__APPLE__)
  ScratchFolder folder;
  const fs::path link = folder.path() / "null_link";
  fs::create_symlink("/dev/null", link);
  CHECK_THROWS_WITH(write_file_atomically(link, "x"), Catch::Contains("a character device"));
  CHECK(fs::is_symlink(fs::symlink_status(link)));
  CHECK(fs::is_character_file("/dev/null"));
  const fs::path fifo = folder.path() / "pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH(write_file_atomically(fifo, "x"), Catch::Contains("a FIFO"));
  CHECK(fs::is_fifo(fifo));
  CHECK(folder_entries(folder.path()).size() == 2);
#endif
}

TEST_CASE("read_file and write_file_atomically refuse a path with a NUL byte", "[io]") {
  ScratchFolder folder;
  const fs::path cut = folder.path() / "nul";
  const fs::path with_nul = folder.path().string() + std::string("/nul\0evil.txt", 13);
  write_file_atomically(cut, "the file the cut path names");
  CHECK_THROWS_AS(write_file_atomically(with_nul, "x"), ValueError);
  CHECK_THROWS_WITH(write_file_atomically(with_nul, "x"),
                    Catch::Contains("write_file_atomically: the path contains a NUL byte at position " +
                                    std::to_string(folder.path().string().size() + 4)) &&
                        Catch::Contains("/nul\\0evil.txt'"));
  CHECK(read_file(cut) == "the file the cut path names");
  CHECK_THROWS_AS(read_file(with_nul), ValueError);
  CHECK_THROWS_WITH(read_file(with_nul), Catch::StartsWith("read_file: the path contains a NUL byte"));
  CHECK(folder_entries(folder.path()) == std::vector<std::string>{"nul"});
}

}  // namespace test_io
