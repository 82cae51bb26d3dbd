#include "sluice/storage/file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace sluice::storage {
namespace {

tl::unexpected<Error> io_error(const std::string& what, const std::string& path, int err = errno) {
  Errc code = err == ENOSPC || err == EDQUOT ? Errc::no_space : Errc::io_error;
  return make_error(code, what + " " + path + ": " + std::strerror(err));
}

// Appends to a file past kReserveFrom bytes land in blocks reserved ahead, in
// steps with fallocate(FALLOC_FL_KEEP_SIZE): ext4 then skips its
// delayed-allocation bookkeeping on every write, about a quarter of a write's
// CPU (bench/RESULTS.md). The file's size still ends at the data, so readers and
// recovery see no difference; the unused reserve is released when the segment
// rolls or the file is closed (after a crash it can stay allocated past the end
// until the file is removed). The reserve follows what was written — a step is a
// quarter of the file's size, 1 to 8 MiB — and all files together hold at most
// kReserveBudget ahead of their data (then appends allocate as they go).
constexpr uint64_t kReserveFrom = 1u << 20;
constexpr uint64_t kMinReserveStep = 1u << 20;
constexpr uint64_t kMaxReserveStep = 8u << 20;
constexpr uint64_t kReserveBudget = 1ull << 30;

// Bytes reserved ahead of their data by every PosixFile of the process, as each
// counted it at its last reserve (growing into a reserve is not counted down
// until the next reserve or release, so this is an upper bound).
std::atomic<uint64_t> reserved_ahead_total{0};

class PosixFile final : public File {
 public:
  PosixFile(int fd, std::string path, uint64_t size)
      : fd_(fd), path_(std::move(path)), size_(size), reserved_end_(size) {}
  ~PosixFile() override {
    release_reserve();
    ::close(fd_);
  }

  void release_reserve() override {
    uint64_t size = size_.load(std::memory_order_relaxed);
    count_reserve(0);
    if (reserved_end_ <= size) return;
    // ftruncate to the current size frees the blocks past it. A failure leaves
    // them allocated past the end, nothing else.
    [[maybe_unused]] int rc = ::ftruncate(fd_, static_cast<off_t>(size));
    reserved_end_ = size;
  }

  Status append(ByteSpan data) override {
    uint64_t pos = size_.load(std::memory_order_relaxed);
    if (reserve_ahead_ && pos >= kReserveFrom && pos + data.size() > reserved_end_) reserve(pos + data.size());
    const std::byte* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t n = ::pwrite(fd_, p, left, static_cast<off_t>(pos));
      if (n < 0) {
        if (errno == EINTR) continue;
        return io_error("write", path_);
      }
      p += n;
      left -= static_cast<size_t>(n);
      pos += static_cast<uint64_t>(n);
    }
    size_.store(pos, std::memory_order_release);
    return {};
  }

  Result<size_t> read_at(uint64_t position, MutableByteSpan out) const override {
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(position + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return io_error("read", path_);
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }

  Status sync() override {
    if (::fdatasync(fd_) != 0) return io_error("fdatasync", path_);
    return {};
  }

  Status truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return io_error("truncate", path_);
    size_.store(size, std::memory_order_release);
    reserved_end_ = size;  // ftruncate released the blocks past the end too
    return {};
  }

  uint64_t size() const override { return size_.load(std::memory_order_acquire); }
  const std::string& path() const override { return path_; }
  int native_handle() const override { return fd_; }

 private:
  // A file system without fallocate (or out of space for the reserve) makes the
  // write allocate as before; the write itself then reports a real lack of space.
  void reserve(uint64_t end) {
    uint64_t step = std::clamp<uint64_t>(end / 4, kMinReserveStep, kMaxReserveStep);
    uint64_t target = (end + step + kMinReserveStep - 1) / kMinReserveStep * kMinReserveStep;
    count_reserve(0);  // what was reserved before is (being) used up
    if (reserved_ahead_total.load(std::memory_order_relaxed) + (target - end) > kReserveBudget) return;
    if (::fallocate(fd_, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(reserved_end_),
                    static_cast<off_t>(target - reserved_end_)) == 0) {
      reserved_end_ = target;
      count_reserve(target - end);
    } else if (errno == EOPNOTSUPP) {
      reserve_ahead_ = false;
    }
  }
  // Replaces this file's share of reserved_ahead_total with `ahead`.
  void count_reserve(uint64_t ahead) {
    reserved_ahead_total.fetch_add(ahead - counted_ahead_, std::memory_order_relaxed);  // unsigned wrap is exact
    counted_ahead_ = ahead;
  }

  int fd_;
  std::string path_;
  std::atomic<uint64_t> size_;
  uint64_t reserved_end_;  // blocks are allocated up to here; only the writer touches it
  bool reserve_ahead_ = true;
  uint64_t counted_ahead_ = 0;  // this file's share of reserved_ahead_total
};

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override {
    int flags = O_RDWR | O_CLOEXEC | (mode == OpenMode::create_or_open ? O_CREAT : 0);
    int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) {
      if (errno == ENOENT) return make_error(Errc::not_found, "no file " + path);
      return io_error("open", path);
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return io_error("stat", path, err);
    }
    return std::make_unique<PosixFile>(fd, path, static_cast<uint64_t>(st.st_size));
  }

  Result<std::vector<std::string>> list_dir(const std::string& dir) override {
    std::vector<std::string> names;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return io_error("list", dir);
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    ::closedir(d);
    return names;
  }

  bool exists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  Status create_dirs(const std::string& dir) override {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return make_error(Errc::io_error, "create directory " + dir + ": " + ec.message());
    return {};
  }

  Status remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return io_error("remove", path);
    return {};
  }

  Status remove_all(const std::string& dir) override {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (ec) return make_error(Errc::io_error, "remove " + dir + ": " + ec.message());
    return {};
  }

  Status rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return io_error("rename " + from + " to", to);
    return {};
  }

  Status sync_dir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return io_error("open directory", dir);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return io_error("fsync directory", dir, err);
    return {};
  }
};

}  // namespace

Result<Bytes> FileSystem::read_file(const std::string& path) {
  auto file = open(path, OpenMode::must_exist);
  if (!file) return tl::unexpected(file.error());
  Bytes data((*file)->size());
  auto n = (*file)->read_at(0, data);
  if (!n) return tl::unexpected(n.error());
  data.resize(*n);
  return data;
}

Status FileSystem::write_file_atomic(const std::string& path, ByteSpan data) {
  std::string tmp = path + ".tmp";
  {
    auto file = open(tmp, OpenMode::create_or_open);
    if (!file) return tl::unexpected(file.error());
    Status written = (*file)->truncate(0);
    if (written) written = (*file)->append(data);
    if (written) written = (*file)->sync();
    if (!written) {
      // A half-written temporary file would hold space a full disk needs.
      file->reset();
      (void)remove(tmp);
      return written;
    }
  }
  if (auto s = rename(tmp, path); !s) return s;
  return sync_dir(std::filesystem::path(path).parent_path().string());
}

FileSystem& posix_file_system() {
  static PosixFileSystem fs;
  return fs;
}

}  // namespace sluice::storage
