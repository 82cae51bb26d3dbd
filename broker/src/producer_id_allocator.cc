#include "producer_id_allocator.h"

#include <charconv>

#include "sluice/storage/file_system.h"

namespace sluice::broker {

Result<std::unique_ptr<ProducerIdAllocator>> ProducerIdAllocator::open(storage::FileSystem& fs,
                                                                       const std::string& data_dir) {
  std::string path = data_dir + "/producer-ids";
  int64_t next = 0;
  if (fs.exists(path)) {
    auto bytes = fs.read_file(path);
    if (!bytes) return tl::unexpected(bytes.error());
    auto text = as_string_view(*bytes);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), next);
    if (ec != std::errc() || ptr != text.data() + text.size() || next < 0) {
      return make_error(Errc::corrupt_data, path + ": expected the next producer id as a number, found '" +
                                                std::string(text.substr(0, 40)) + "'");
    }
  }
  return std::unique_ptr<ProducerIdAllocator>(new ProducerIdAllocator(fs, std::move(path), next));
}

Result<int64_t> ProducerIdAllocator::allocate() {
  std::lock_guard lock(mu_);
  if (next_ == reserved_end_) {
    std::string text = std::to_string(reserved_end_ + kBlockSize) + "\n";
    if (auto s = fs_.write_file_atomic(path_, as_bytes(text)); !s) return tl::unexpected(s.error());
    reserved_end_ += kBlockSize;
  }
  return next_++;
}

}  // namespace sluice::broker
