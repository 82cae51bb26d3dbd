#include "sluice/storage/file_system.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "sluice/storage/testing/fault_injection_file_system.h"

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
  const uint64_t written = 13 * chunk.size();  // 3.25 MiB: past the 1 MiB where reserving starts
  {
    auto file = posix_file_system().open(path, OpenMode::create_or_open);
    ASSERT_TRUE(file) << file.error().to_string();
    for (int i = 0; i < 13; ++i) ASSERT_TRUE((*file)->append(chunk));
    EXPECT_EQ((*file)->size(), written);
    EXPECT_EQ(size_on_disk(path), written);
    if (supports_reserve(dir.path())) {
      // Ahead by a step that follows the size: a quarter of it, at least 1 MiB.
      EXPECT_GE(allocated_bytes(path), written + (256u << 10));
      EXPECT_LE(allocated_bytes(path), written + (2u << 20));
    }

    // A truncation drops the reserve with the data; appends go on from there.
    ASSERT_TRUE((*file)->truncate(chunk.size()));
    ASSERT_TRUE((*file)->append(chunk));
    EXPECT_EQ(size_on_disk(path), 2 * chunk.size());
    for (int i = 0; i < 11; ++i) ASSERT_TRUE((*file)->append(chunk));
    std::vector<std::byte> back(chunk.size());
    auto n = (*file)->read_at(12 * chunk.size(), back);
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

// Holds the first sync of a FaultInjectionFileSystem between its fdatasync and its
// bookkeeping until release(), so a test can order another sync or a truncate
// inside it: the interleaving of the `interval` flusher with a roll's sync.
class HeldSync {
 public:
  explicit HeldSync(FaultInjectionFileSystem& fs) : fs_(fs) {
    fs_.set_after_sync([this](const std::string&) {
      std::unique_lock lock(mu_);
      if (held_) return;  // only the first sync is held
      held_ = true;
      cv_.notify_all();
      cv_.wait(lock, [&] { return released_; });
    });
  }
  ~HeldSync() { fs_.set_after_sync(nullptr); }
  void wait_until_held() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return held_; });
  }
  void release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  FaultInjectionFileSystem& fs_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false;
  bool released_ = false;
};

Bytes filled(size_t n, char c) { return Bytes(n, static_cast<std::byte>(c)); }

// LogModel seeds 3556268483 and 4116489233: the flusher sampled a segment's size,
// a roll appended and synced the rest, and the flusher, returning last, recorded
// its smaller size; the simulated power cut then cut a closed, synced segment.
TEST(FaultInjectionFileSystem, ASyncThatReturnsLastNeverShrinksTheSyncedSize) {
  TempDir dir;
  FaultInjectionFileSystem fs;
  const std::string path = dir.sub("f.log");
  {
    auto file = fs.open(path, OpenMode::create_or_open);
    ASSERT_TRUE(file.has_value());
    ASSERT_TRUE((*file)->append(filled(100, 'a')).has_value());
    HeldSync held(fs);
    std::thread early([&] { EXPECT_TRUE((*file)->sync().has_value()); });  // sees 100 bytes
    held.wait_until_held();
    ASSERT_TRUE((*file)->append(filled(50, 'b')).has_value());
    ASSERT_TRUE((*file)->sync().has_value());  // sees 150 bytes, returns first
    held.release();
    early.join();
  }
  ASSERT_TRUE(fs.drop_unsynced().has_value());
  EXPECT_EQ(std::filesystem::file_size(path), 150u) << "both syncs returned: all 150 bytes are durable";
}

// A sync in flight while its file is truncated and refilled cannot tell which of
// the bytes now in the file it covered: it records nothing.
TEST(FaultInjectionFileSystem, ASyncThatOverlapsATruncateClaimsNothing) {
  TempDir dir;
  FaultInjectionFileSystem fs;
  const std::string path = dir.sub("f.log");
  {
    auto file = fs.open(path, OpenMode::create_or_open);
    ASSERT_TRUE(file.has_value());
    ASSERT_TRUE((*file)->append(filled(40, 'a')).has_value());
    ASSERT_TRUE((*file)->sync().has_value());
    ASSERT_TRUE((*file)->append(filled(160, 'a')).has_value());
    HeldSync held(fs);
    std::thread early([&] { EXPECT_TRUE((*file)->sync().has_value()); });  // sees 200 bytes
    held.wait_until_held();
    ASSERT_TRUE((*file)->truncate(20).has_value());
    ASSERT_TRUE((*file)->append(filled(180, 'c')).has_value());  // 200 bytes again, none synced past 20
    held.release();
    early.join();
  }
  ASSERT_TRUE(fs.drop_unsynced().has_value());
  EXPECT_EQ(std::filesystem::file_size(path), 20u);
}

}  // namespace
}  // namespace sluice::storage
