#include "producer_id_allocator.h"

#include <algorithm>
#include <charconv>
#include <string_view>

#include "sluice/storage/file_system.h"

namespace sluice::broker {

namespace {

constexpr int32_t kVersion = 1;

bool parse_int64(std::string_view text, int64_t& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

std::string encode(int64_t next_unreserved) {
  return "version=" + std::to_string(kVersion) + "\nnext=" + std::to_string(next_unreserved) + "\n";
}

// Both versions (see the header); a newer one is refused by name.
Result<int64_t> decode(const std::string& path, std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  std::string_view number = text;  // version 0: the number alone
  if (text.starts_with("version=")) {
    size_t end = text.find('\n');
    int64_t version = 0;
    if (!parse_int64(text.substr(8, end == std::string_view::npos ? std::string_view::npos : end - 8), version) ||
        version < 1) {
      return make_error(Errc::corrupt_data, path + ": unreadable version line '" +
                                                std::string(text.substr(0, std::min<size_t>(end, 40))) + "'");
    }
    if (version > kVersion) {
      return make_error(Errc::corrupt_data, path + ": producer-ids version " + std::to_string(version) +
                                                " is newer than this broker reads (" + std::to_string(kVersion) + ")");
    }
    std::string_view rest = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (!rest.starts_with("next=")) {
      return make_error(Errc::corrupt_data, path + ": expected 'next=' after the version line");
    }
    number = rest.substr(5);
  }
  int64_t next = 0;
  if (!parse_int64(number, next) || next < 0) {
    return make_error(Errc::corrupt_data, path + ": expected the next producer id as a number, found '" +
                                              std::string(number.substr(0, 40)) + "'");
  }
  return next;
}

}  // namespace

Result<std::unique_ptr<ProducerIdAllocator>> ProducerIdAllocator::open(storage::FileSystem& fs,
                                                                       const std::string& data_dir) {
  std::string path = data_dir + "/producer-ids";
  int64_t next = 0;
  if (fs.exists(path)) {
    auto bytes = fs.read_file(path);
    if (!bytes) return tl::unexpected(bytes.error());
    auto decoded = decode(path, as_string_view(*bytes));
    if (!decoded) return tl::unexpected(decoded.error());
    next = *decoded;
  }
  return std::unique_ptr<ProducerIdAllocator>(new ProducerIdAllocator(fs, std::move(path), ProducerId(next)));
}

Result<ProducerId> ProducerIdAllocator::allocate() {
  std::lock_guard lock(mu_);
  if (next_ == reserved_end_) {
    std::string text = encode((reserved_end_ + kBlockSize).value());
    if (auto s = fs_.write_file_atomic(path_, as_bytes(text)); !s) return tl::unexpected(s.error());
    reserved_end_ += kBlockSize;
  }
  const ProducerId id = next_;
  next_ += 1;
  return id;
}

}  // namespace sluice::broker
