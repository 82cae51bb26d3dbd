#include "sluice/storage/file_system.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

#include "test_support.h"

namespace sluice::storage {
namespace {

using testing::TempDir;

uint64_t allocated_bytes(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

uint64_t size_on_disk(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return static_cast<uint64_t>(st.st_size);
}

bool supports_reserve(const std::string& dir) {
  std::string probe = dir + "/probe";
  int fd = ::open(probe.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  bool ok = fd >= 0 && ::fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 1 << 20) == 0;
  if (fd >= 0) ::close(fd);
  ::unlink(probe.c_str());
  return ok;
}

// A growing log file reserves blocks ahead of its end; its size still ends at
// the data, and the unused reserve is released when the file is closed.
TEST(PosixFile, AppendsReserveBlocksAheadButTheSizeEndsAtTheData) {
  TempDir dir;
  const std::string path = dir.sub("00000000000000000000.log");
  std::vector<std::byte> chunk(256 << 10);
  for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<std::byte>(i * 31);
  const uint64_t written = 12 * chunk.size();  // 3 MiB: past the 1 MiB where reserving starts
  {
    auto file = posix_file_system().open(path, OpenMode::create_or_open);
    ASSERT_TRUE(file) << file.error().to_string();
    for (int i = 0; i < 12; ++i) ASSERT_TRUE((*file)->append(chunk));
    EXPECT_EQ((*file)->size(), written);
    EXPECT_EQ(size_on_disk(path), written);
    if (supports_reserve(dir.path())) {
      EXPECT_GE(allocated_bytes(path), uint64_t{8} << 20);
    }

    // A truncation drops the reserve with the data; appends go on from there.
    ASSERT_TRUE((*file)->truncate(chunk.size()));
    ASSERT_TRUE((*file)->append(chunk));
    EXPECT_EQ(size_on_disk(path), 2 * chunk.size());
    for (int i = 0; i < 10; ++i) ASSERT_TRUE((*file)->append(chunk));
    std::vector<std::byte> back(chunk.size());
    auto n = (*file)->read_at(11 * chunk.size(), back);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, chunk.size());
    EXPECT_EQ(back, chunk);
  }
  EXPECT_EQ(size_on_disk(path), written);
  // Released on close: at most the data rounded up to file-system blocks.
  EXPECT_LT(allocated_bytes(path), written + (64u << 10));
}

// A full file gives its reserve back at once and still takes appends.
TEST(PosixFile, ReleasingTheReserveKeepsTheData) {
  TempDir dir;
  const std::string path = dir.sub("00000000000000000000.log");
  std::vector<std::byte> chunk(256 << 10, std::byte{3});
  auto file = posix_file_system().open(path, OpenMode::create_or_open);
  ASSERT_TRUE(file);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE((*file)->append(chunk));
  (*file)->release_reserve();
  EXPECT_LT(allocated_bytes(path), 8 * chunk.size() + (64u << 10));
  EXPECT_EQ(size_on_disk(path), 8 * chunk.size());
  ASSERT_TRUE((*file)->append(chunk));
  EXPECT_EQ((*file)->size(), 9 * chunk.size());
  std::vector<std::byte> back(chunk.size());
  auto n = (*file)->read_at(8 * chunk.size(), back);
  ASSERT_TRUE(n);
  EXPECT_EQ(back, chunk);
}

// Small files (markers, configs) never reserve anything.
TEST(PosixFile, SmallFilesDoNotReserve) {
  TempDir dir;
  const std::string path = dir.sub("small");
  auto file = posix_file_system().open(path, OpenMode::create_or_open);
  ASSERT_TRUE(file);
  std::vector<std::byte> bytes(4096, std::byte{1});
  for (int i = 0; i < 10; ++i) ASSERT_TRUE((*file)->append(bytes));
  EXPECT_LE(allocated_bytes(path), uint64_t{64} << 10);
}

}  // namespace
}  // namespace sluice::storage
