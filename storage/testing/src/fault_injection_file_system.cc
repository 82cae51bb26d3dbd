#include "sluice/storage/testing/fault_injection_file_system.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

namespace sluice::storage {

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
      return make_error(Errc::io_error, "truncate " + path + ": " + std::strerror(errno));
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
