// The producer's view of topic partition counts, from MetadataRequests.
// A topic is unknown (never asked), present (with its partition count), or
// absent (the broker said UNKNOWN_TOPIC_OR_PARTITION; remembered briefly so a
// stream of sends to a missing topic does not turn into a stream of requests).
// Thread-safety: thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "sluice/client/metadata.h"
#include "sluice/client/network_client.h"

#include "time_util.h"

namespace sluice::client {

class MetadataCache {
 public:
  struct Options {
    std::chrono::milliseconds max_age{300'000};  // present entries older than this are refreshed
    std::chrono::milliseconds absent_ttl{100};   // absent entries are re-asked after this
    std::chrono::milliseconds request_timeout{30'000};
    const SteadyClock* clock = &SystemSteadyClock::instance();  // max_block_ms and entry ages; outlives the cache
  };
  MetadataCache(NetworkClient& net, Options options);

  // The partition count of `topic`: cached, or fetched (blocking until
  // `deadline`). A stale entry (by the caller's `now`, read once per send) is
  // returned at once and refreshed in the background.
  // REQUIRES for a fetch: not on the io thread (it then fails instead of blocking).
  Result<int32_t> partitions(const std::string& topic, SteadyTime now, SteadyTime deadline);

  // Cached state only: partition count, or the error the broker gave, or nullopt if unknown.
  std::optional<Result<int32_t>> cached(const std::string& topic) const;

  // Re-asks the broker about `topic` in the background (at most one request per topic at a time).
  void refresh_async(const std::string& topic);

 private:
  struct Entry {
    Result<int32_t> partitions;
    SteadyTime updated;
  };
  void store(const std::string& topic, const Result<ClusterMetadata>& metadata);

  NetworkClient& net_;
  Options options_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::set<std::string> refreshing_;
};

}  // namespace sluice::client
