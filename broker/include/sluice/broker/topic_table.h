// The broker's topics: each a set of partition logs under the data directory,
// with its settings persisted so topics survive restarts.
//
//   <data>/__topics/<name>.topic   the topic's metadata, versioned (storage/FORMAT.md)
//   <data>/<name>-<partition>/     the partition log (storage/FORMAT.md)
//
// Internal topics (names starting with "__", is_internal_topic) are the broker's
// own: create() and remove() refuse them; ensure_internal_topic() makes them.
//
// The file system and clock come from outside (tests pass a fault-injecting file
// system and a manual clock); both must outlive the table. The clock drives
// retention and segment age in every log, and stamps a topic's creation.
//
// Thread-safety: all methods are thread-safe. Topics are shared_ptr so a request
// in flight keeps a deleted topic's logs alive until it finishes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/broker/broker_errc.h"
#include "sluice/broker/partition.h"
#include "sluice/broker/topic_config.h"
#include "sluice/common/clock.h"
#include "sluice/common/error.h"
#include "sluice/storage/file_system.h"
#include "sluice/storage/partition_log.h"

namespace sluice::broker {

// Names starting with "__" are reserved for the broker's own topics
// (__consumer_offsets, __transaction_state): clients cannot create, delete or produce
// to them, auto-creation never makes one, and Metadata lists them only when asked.
inline bool is_internal_topic(std::string_view name) { return name.starts_with("__"); }
// The invalid_argument error a client's create, delete or produce of internal topic `name` gets.
Error internal_topic_refused(const std::string& name);

// What a topic is set to: the resolved settings and the ones set explicitly.
struct TopicSettings {
  TopicConfig config;
  std::map<std::string, std::string> overrides;  // by wire name
};

struct Topic {
  std::string name;
  std::optional<TimestampMs> created;  // unknown for a topic made before it was recorded
  TopicTraffic traffic;                // shared by the partitions
  std::vector<std::unique_ptr<Partition>> partitions;

  // Settings change at runtime (TopicTable::alter_config), so they are read as a
  // copy. Not on the data path: the logs hold their own copy of the log settings.
  TopicSettings settings() const {
    std::lock_guard lock(settings_mu_);
    return settings_;
  }
  void set_settings(TopicSettings settings) {
    std::lock_guard lock(settings_mu_);
    settings_ = std::move(settings);
  }

 private:
  mutable std::mutex settings_mu_;
  TopicSettings settings_;  // under settings_mu_
};

class TopicTable {
 public:
  static Result<std::unique_ptr<TopicTable>> open(storage::FileSystem& fs, Clock& clock, std::string data_dir,
                                                  TopicConfig defaults);
  ~TopicTable();

  // A client's topic. already_exists, invalid_argument (name, an internal name,
  // partitions, settings) or io_error (a partition's log or the metadata file;
  // nothing of the topic is left on disk).
  Result<std::shared_ptr<Topic>> create(const std::string& name, int32_t partitions,
                                        const std::map<std::string, std::string>& overrides);
  // The broker's own topic `name`, created with `partitions` and `overrides` if it
  // does not exist yet (an existing one is returned as it is). REQUIRES:
  // is_internal_topic(name); otherwise invalid_argument.
  Result<std::shared_ptr<Topic>> ensure_internal_topic(const std::string& name, int32_t partitions,
                                                       const std::map<std::string, std::string>& overrides);
  // A client's topic: unknown_topic_or_partition, or invalid_argument for an internal name.
  Status remove(const std::string& name);
  // Changes topic `name`'s settings while it serves, as Kafka's
  // IncrementalAlterConfigs: each entry sets a setting, or with nullopt removes its
  // override (back to the broker's default). The change is persisted before this
  // returns, and applies to every partition from its next roll or retention pass.
  // unknown_topic_or_partition; invalid_config for an unknown key, a bad value or a
  // setting a log cannot change while open (all but retention.ms, retention.bytes,
  // segment.bytes, segment.ms and cleanup.policy; storage::PartitionLog::set_config);
  // io_error writing the metadata. On any error nothing changes.
  Status alter_config(const std::string& name, const std::map<std::string, std::optional<std::string>>& changes);
  std::shared_ptr<Topic> find(const std::string& name) const;
  // By name; internal topics only when asked.
  enum class Internal : bool { exclude, include };
  std::vector<std::shared_ptr<Topic>> list(Internal internal = Internal::include) const;

  // Applies every partition's retention; returns segments removed.
  size_t apply_retention();
  // Closes every log cleanly (clean-shutdown markers written).
  Status close_all();

 private:
  TopicTable(storage::FileSystem& fs, Clock& clock, std::string data_dir, TopicConfig defaults);
  Status load();
  Result<std::shared_ptr<Topic>> create_unchecked(const std::string& name, int32_t partitions,
                                                  const std::map<std::string, std::string>& overrides);
  Result<std::shared_ptr<Topic>> open_topic(const std::string& name, int32_t partitions,
                                            const std::map<std::string, std::string>& overrides);
  Result<std::unique_ptr<storage::PartitionLog>> open_log(const std::string& dir, const storage::LogConfig& config);
  std::string partition_dir(const std::string& name, int32_t partition) const;
  std::string meta_dir() const;
  std::string meta_path(const std::string& name) const;
  // Writes a topic's metadata file atomically; a failed write leaves no temporary file.
  Status write_metadata(const Topic& topic, int32_t partitions, const std::map<std::string, std::string>& overrides);

  storage::FileSystem& fs_;
  Clock& clock_;
  const std::string data_dir_;
  const TopicConfig defaults_;
  mutable std::shared_mutex mu_;
  std::mutex create_mu_;  // serialises create/remove so the same name is never half-made twice
  std::map<std::string, std::shared_ptr<Topic>> topics_;
};

}  // namespace sluice::broker
