#include "metadata_cache.h"

#include <condition_variable>
#include <mutex>

#include "sluice/client/client_errors.h"

namespace sluice::client {

namespace {

// The pause between metadata retries, measured on `clock`: nothing notifies, so
// only the clock passing `until` ends it.
void pause_until(const SteadyClock& clock, SteadyTime until) {
  std::condition_variable cv;
  std::mutex mutex;
  std::unique_lock lock(mutex);
  clock.wait_until(cv, lock, until, [] { return false; });
}

}  // namespace

MetadataCache::MetadataCache(NetworkClient& net, Options options) : net_(net), options_(options) {}

std::optional<Result<int32_t>> MetadataCache::cached(const std::string& topic) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(topic);
  if (it == entries_.end()) return std::nullopt;
  return it->second.partitions;
}

Result<int32_t> MetadataCache::partitions(const std::string& topic, SteadyTime now, SteadyTime deadline) {
  std::optional<Result<int32_t>> hit;
  bool stale = false;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(topic);
    if (it != entries_.end()) {
      auto age = now - it->second.updated;
      if (it->second.partitions) {
        hit = it->second.partitions;  // a stale count is still used while it is refreshed
        stale = age >= options_.max_age;
      } else if (age < options_.absent_ttl) {
        hit = it->second.partitions;
      }
    }
  }
  if (stale) refresh_async(topic);
  if (hit) return *hit;
  if (net_.on_io_thread()) {
    return tl::unexpected(
        client_error(ErrorCode::metadata_timeout,
                     "no metadata cached for topic \"" + topic + "\", and a delivery callback cannot wait for it"));
  }
  for (;;) {
    now = options_.clock->now();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    if (left.count() <= 0) {
      return tl::unexpected(
          client_error(ErrorCode::metadata_timeout, "no metadata for topic \"" + topic + "\" within max_block_ms"));
    }
    auto metadata = fetch_metadata(net_, {topic}, std::min(left, options_.request_timeout));
    if (!metadata && is_retriable(metadata.error())) {
      // The broker may be restarting: try again until the deadline.
      auto pause = std::min(std::chrono::milliseconds(100),
                            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
      if (options_.clock->now() + pause >= deadline) return tl::unexpected(metadata.error());
      pause_until(*options_.clock, now + pause);
      continue;
    }
    if (!metadata) return tl::unexpected(metadata.error());
    store(topic, metadata);
    std::lock_guard lock(mutex_);
    return entries_.at(topic).partitions;
  }
}

void MetadataCache::store(const std::string& topic, const Result<ClusterMetadata>& metadata) {
  Result<int32_t> count = tl::unexpected(
      client_error(ErrorCode::protocol_error, "metadata response does not mention topic \"" + topic + "\""));
  for (const TopicMetadata& t : metadata->topics) {
    if (t.name != topic) continue;
    if (!t.description) {
      count = tl::unexpected(t.description.error());
    } else if (t.description->partitions.empty()) {
      count = tl::unexpected(
          client_error(ErrorCode::unknown_topic_or_partition, "topic \"" + topic + "\" has no partitions"));
    } else {
      count = static_cast<int32_t>(t.description->partitions.size());
    }
  }
  std::lock_guard lock(mutex_);
  entries_.insert_or_assign(topic, Entry{count, options_.clock->now()});
}

void MetadataCache::refresh_async(const std::string& topic) {
  {
    std::lock_guard lock(mutex_);
    if (!refreshing_.insert(topic).second) return;
  }
  fetch_metadata_async(net_, {topic}, options_.request_timeout, [this, topic](const Result<ClusterMetadata>& metadata) {
    if (metadata) store(topic, metadata);
    std::lock_guard lock(mutex_);
    refreshing_.erase(topic);
  });
}

}  // namespace sluice::client
