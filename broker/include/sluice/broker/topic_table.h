// The broker's topics: each a set of partition logs under the data directory,
// with its settings persisted so topics survive restarts.
//
//   <data>/__topics/<name>.topic   "partitions=N" then the topic's overrides, key=value per line
//   <data>/<name>-<partition>/     the partition log (storage/FORMAT.md)
//
// Thread-safety: all methods are thread-safe. Topics are shared_ptr so a request
// in flight keeps a deleted topic's logs alive until it finishes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/broker/partition.h"
#include "sluice/broker/topic_config.h"
#include "sluice/common/error.h"
#include "sluice/storage/partition_log.h"

namespace sluice::broker {

// Names starting with "__" are reserved for the broker's own topics
// (__consumer_offsets, __transaction_state): clients cannot create, delete or produce
// to them, auto-creation never makes one, and Metadata lists them only when asked.
inline bool is_internal_topic(std::string_view name) { return name.starts_with("__"); }

struct Topic {
  std::string name;
  TopicConfig config;
  std::map<std::string, std::string> overrides;  // what was set explicitly
  TopicTraffic traffic;                          // shared by the partitions
  std::vector<std::unique_ptr<Partition>> partitions;
};

class TopicTable {
 public:
  static Result<std::unique_ptr<TopicTable>> open(std::string data_dir, TopicConfig defaults);
  ~TopicTable();

  // already_exists, invalid_argument (name, partitions, settings) or io_error (a
  // partition's log or the metadata file; nothing of the topic is left on disk).
  Result<std::shared_ptr<Topic>> create(const std::string& name, int32_t partitions,
                                        const std::map<std::string, std::string>& overrides);
  Status remove(const std::string& name);
  std::shared_ptr<Topic> find(const std::string& name) const;
  std::vector<std::shared_ptr<Topic>> list() const;

  // Applies every partition's retention; returns segments removed.
  size_t apply_retention();
  // Closes every log cleanly (clean-shutdown markers written).
  Status close_all();

 private:
  TopicTable(std::string data_dir, TopicConfig defaults);
  Status load();
  Result<std::shared_ptr<Topic>> open_topic(const std::string& name, int32_t partitions,
                                            const std::map<std::string, std::string>& overrides);
  std::string partition_dir(const std::string& name, int32_t partition) const;
  std::string meta_path(const std::string& name) const;

  const std::string data_dir_;
  const TopicConfig defaults_;
  mutable std::shared_mutex mu_;
  std::mutex create_mu_;  // serialises create/remove so the same name is never half-made twice
  std::map<std::string, std::shared_ptr<Topic>> topics_;
};

}  // namespace sluice::broker
