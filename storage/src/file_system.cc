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
#include <map>
#include <mutex>

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

// ---- fault injection ----

struct FaultInjectionFileSystem::State {
  // What a power cut keeps of one file. `generation` changes with every truncate,
  // remove or rename of the path: a sync that overlapped one cannot tell which
  // bytes it covered, so it claims nothing.
  struct PathState {
    uint64_t synced = 0;
    uint64_t generation = 0;
  };
  std::mutex mu;
  std::map<std::string, PathState> files;  // every file opened through us
  uint64_t next_generation = 1;            // under mu
  std::atomic<uint64_t> syncs{0};
  std::function<void(const std::string&)> after_sync;  // under mu; copied before a call

  // REQUIRES: mu held.
  void bump(PathState& file) { file.generation = next_generation++; }
  uint64_t generation_of(const std::string& path) {
    std::lock_guard lock(mu);
    return files[path].generation;
  }
  // Syncs finish in any order (the interval flusher and a roll can sync one file at
  // once), so the synced size only grows: a sync that started earlier and returns
  // last must not shrink what a later one recorded.
  void record_sync(const std::string& path, uint64_t size, uint64_t generation) {
    std::lock_guard lock(mu);
    PathState& file = files[path];
    if (file.generation == generation) file.synced = std::max(file.synced, size);
  }
};

namespace {

class FaultFile final : public File {
 public:
  FaultFile(std::unique_ptr<File> base, std::shared_ptr<FaultInjectionFileSystem::State> state)
      : base_(std::move(base)), state_(std::move(state)) {}

  Status append(ByteSpan data) override { return base_->append(data); }
  Result<size_t> read_at(uint64_t position, MutableByteSpan out) const override {
    return base_->read_at(position, out);
  }
  Status sync() override {
    uint64_t generation = state_->generation_of(base_->path());
    uint64_t size = base_->size();
    if (auto s = base_->sync(); !s) return s;
    ++state_->syncs;
    std::function<void(const std::string&)> hook;
    {
      std::lock_guard lock(state_->mu);
      hook = state_->after_sync;
    }
    if (hook) hook(base_->path());
    state_->record_sync(base_->path(), size, generation);
    return {};
  }
  Status truncate(uint64_t size) override {
    if (auto s = base_->truncate(size); !s) return s;
    std::lock_guard lock(state_->mu);
    auto& file = state_->files[base_->path()];
    file.synced = std::min(file.synced, size);
    state_->bump(file);
    return {};
  }
  uint64_t size() const override { return base_->size(); }
  const std::string& path() const override { return base_->path(); }
  int native_handle() const override { return base_->native_handle(); }

 private:
  std::unique_ptr<File> base_;
  std::shared_ptr<FaultInjectionFileSystem::State> state_;
};

}  // namespace

FaultInjectionFileSystem::FaultInjectionFileSystem() : state_(std::make_shared<State>()) {}
FaultInjectionFileSystem::~FaultInjectionFileSystem() = default;

Result<std::unique_ptr<File>> FaultInjectionFileSystem::open(const std::string& path, OpenMode mode) {
  bool existed = posix_file_system().exists(path);
  auto base = posix_file_system().open(path, mode);
  if (!base) return tl::unexpected(base.error());
  {
    std::lock_guard lock(state_->mu);
    // A file that existed before we first saw it is taken as durable.
    if (!state_->files.contains(path)) state_->files[path].synced = existed ? (*base)->size() : 0;
  }
  return std::unique_ptr<File>(std::make_unique<FaultFile>(std::move(*base), state_));
}

Result<std::vector<std::string>> FaultInjectionFileSystem::list_dir(const std::string& dir) {
  return posix_file_system().list_dir(dir);
}
bool FaultInjectionFileSystem::exists(const std::string& path) { return posix_file_system().exists(path); }
Status FaultInjectionFileSystem::create_dirs(const std::string& dir) { return posix_file_system().create_dirs(dir); }

Status FaultInjectionFileSystem::remove(const std::string& path) {
  {
    std::lock_guard lock(state_->mu);
    // Kept with nothing synced (not erased): a sync still in flight on the old file
    // must find a new generation and claim nothing.
    if (auto it = state_->files.find(path); it != state_->files.end()) {
      it->second.synced = 0;
      state_->bump(it->second);
    }
  }
  return posix_file_system().remove(path);
}

Status FaultInjectionFileSystem::remove_all(const std::string& dir) {
  {
    std::lock_guard lock(state_->mu);
    for (auto& [path, file] : state_->files) {
      if (path.starts_with(dir + "/")) {
        file.synced = 0;
        state_->bump(file);
      }
    }
  }
  return posix_file_system().remove_all(dir);
}

Status FaultInjectionFileSystem::rename(const std::string& from, const std::string& to) {
  {
    std::lock_guard lock(state_->mu);
    auto it = state_->files.find(from);
    if (it != state_->files.end()) {
      State::PathState& target = state_->files[to];
      target.synced = it->second.synced;
      state_->bump(target);
      it->second.synced = 0;
      state_->bump(it->second);
    }
  }
  return posix_file_system().rename(from, to);
}

Status FaultInjectionFileSystem::sync_dir(const std::string& dir) { return posix_file_system().sync_dir(dir); }

Status FaultInjectionFileSystem::drop_unsynced() {
  std::lock_guard lock(state_->mu);
  for (const auto& [path, file] : state_->files) {
    if (::truncate(path.c_str(), static_cast<off_t>(file.synced)) != 0 && errno != ENOENT) {
      return io_error("truncate", path);
    }
  }
  return {};
}

uint64_t FaultInjectionFileSystem::sync_count() const { return state_->syncs.load(); }

void FaultInjectionFileSystem::set_after_sync(std::function<void(const std::string& path)> hook) {
  std::lock_guard lock(state_->mu);
  state_->after_sync = std::move(hook);
}

}  // namespace sluice::storage
