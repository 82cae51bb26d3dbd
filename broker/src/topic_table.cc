#include "sluice/broker/topic_table.h"

#include <map>
#include <new>
#include <set>

#include "sluice/broker/broker_errc.h"
#include "sluice/common/log.h"

#include "topic_metadata.h"

namespace sluice::broker {
namespace {

constexpr std::string_view kMetaDir = "__topics";
constexpr int32_t kMaxPartitions = 10'000;

}  // namespace

Error internal_topic_refused(const std::string& name) {
  return Error{BrokerErrc::invalid_topic,
               "topic '" + name + "' is internal: names starting with '__' are reserved for the broker"};
}

// PartitionLog::open reports failures as values, except running out of memory: an
// index sized for a huge segment.bytes may not fit in the address space.
Result<std::unique_ptr<storage::PartitionLog>> TopicTable::open_log(const std::string& dir,
                                                                    const storage::LogConfig& config) {
  try {
    return storage::PartitionLog::open(fs_, dir, config, clock_);
  } catch (const std::bad_alloc&) {
    return make_error(Errc::io_error, dir + ": out of memory opening the log (segment.bytes " +
                                          std::to_string(config.segment_bytes) + ")");
  }
}

TopicTable::TopicTable(storage::FileSystem& fs, Clock& clock, std::string data_dir, TopicConfig defaults)
    : fs_(fs), clock_(clock), data_dir_(std::move(data_dir)), defaults_(defaults) {}

TopicTable::~TopicTable() = default;

std::string TopicTable::partition_dir(const std::string& name, int32_t partition) const {
  return data_dir_ + "/" + name + "-" + std::to_string(partition);
}

std::string TopicTable::meta_dir() const { return data_dir_ + "/" + std::string(kMetaDir); }

std::string TopicTable::meta_path(const std::string& name) const { return meta_dir() + "/" + name + ".topic"; }

Result<std::unique_ptr<TopicTable>> TopicTable::open(storage::FileSystem& fs, Clock& clock, std::string data_dir,
                                                     TopicConfig defaults) {
  std::unique_ptr<TopicTable> table(new TopicTable(fs, clock, std::move(data_dir), defaults));
  if (auto s = table->load(); !s) return tl::unexpected(s.error());
  return table;
}

Status TopicTable::load() {
  if (auto s = fs_.create_dirs(meta_dir()); !s) return s;
  auto names = fs_.list_dir(meta_dir());
  if (!names) return tl::unexpected(names.error());
  for (const std::string& file : *names) {
    if (!file.ends_with(".topic")) continue;
    std::string name = file.substr(0, file.size() - 6);
    auto bytes = fs_.read_file(meta_path(name));
    if (!bytes) return tl::unexpected(bytes.error());
    auto metadata = decode_topic_metadata(meta_path(name), name, as_string_view(*bytes));
    if (!metadata) return tl::unexpected(metadata.error());
    auto topic = open_topic(name, metadata->partitions, metadata->overrides);
    if (!topic) {
      // A setting an older broker accepted may be refused now: say which topic and file.
      return make_error(topic.error().code, "topic '" + name + "' (" + meta_path(name) + "): " + topic.error().message);
    }
    (*topic)->created = metadata->created;
    topics_[name] = *topic;
  }
  return {};
}

Result<std::shared_ptr<Topic>> TopicTable::open_topic(const std::string& name, int32_t partitions,
                                                      const std::map<std::string, std::string>& overrides) {
  auto config = apply_topic_config(defaults_, overrides);
  if (!config) return tl::unexpected(config.error());
  auto topic = std::make_shared<Topic>();
  topic->name = name;
  topic->set_settings({*config, overrides});
  for (int32_t p = 0; p < partitions; ++p) {
    auto log = open_log(partition_dir(name, p), config->log);
    if (!log) {
      return make_error(log.error().code,
                        "cannot open partition " + std::to_string(p) + " of '" + name + "': " + log.error().message);
    }
    topic->partitions.push_back(std::make_unique<Partition>(PartitionId(p), std::move(*log), topic->traffic));
  }
  return topic;
}

Result<std::shared_ptr<Topic>> TopicTable::create(const std::string& name, int32_t partitions,
                                                  const std::map<std::string, std::string>& overrides) {
  if (is_internal_topic(name)) {
    return tl::unexpected(internal_topic_refused(name));
  }
  return create_unchecked(name, partitions, overrides);
}

Result<std::shared_ptr<Topic>> TopicTable::ensure_internal_topic(const std::string& name, int32_t partitions,
                                                                 const std::map<std::string, std::string>& overrides) {
  if (!is_internal_topic(name)) {
    return make_error(Errc::invalid_argument, "'" + name + "' is not an internal topic name (they start with '__')");
  }
  if (auto topic = find(name)) return topic;
  auto created = create_unchecked(name, partitions, overrides);
  if (!created && created.error().code == Errc::already_exists) {
    if (auto topic = find(name)) return topic;  // made by a concurrent call
  }
  return created;
}

Result<std::shared_ptr<Topic>> TopicTable::create_unchecked(const std::string& name, int32_t partitions,
                                                            const std::map<std::string, std::string>& overrides) {
  if (auto s = validate_topic_name(name); !s) return tl::unexpected(s.error());
  if (partitions <= 0 || partitions > kMaxPartitions) {
    return make_error(BrokerErrc::invalid_partitions,
                      "partitions must be between 1 and " + std::to_string(kMaxPartitions));
  }
  if (auto c = apply_topic_config(defaults_, overrides); !c) return tl::unexpected(c.error());
  std::lock_guard create_lock(create_mu_);
  if (find(name)) return make_error(Errc::already_exists, "topic '" + name + "' already exists");
  // Stale partition directories of an older topic with this name must not leak in.
  for (int32_t p = 0; p < partitions; ++p) {
    if (auto s = fs_.remove_all(partition_dir(name, p)); !s) return tl::unexpected(s.error());
  }
  // A create that fails leaves nothing behind (no partition directories, no
  // metadata file), so a retry starts from scratch. The logs are closed first.
  auto discard = [&](const Error& error) {
    log::warn("broker", "topic_create_failed", {{"topic", name}, {"error", error.to_string()}});
    for (int32_t p = 0; p < partitions; ++p) {
      if (auto s = fs_.remove_all(partition_dir(name, p)); !s)
        log::warn("broker", "topic_cleanup_failed", {{"topic", name}, {"error", s.error().to_string()}});
    }
    return tl::unexpected(error);
  };
  auto topic = open_topic(name, partitions, overrides);
  if (!topic) return discard(topic.error());
  (*topic)->created = clock_.now();
  if (auto s = write_metadata(**topic, partitions, overrides); !s) {
    for (auto& partition : (*topic)->partitions) (void)partition->log().close();
    return discard(s.error());
  }
  {
    std::unique_lock lock(mu_);
    topics_[name] = *topic;
  }
  log::info("broker", "topic_created", {{"topic", name}, {"partitions", partitions}});
  return topic;
}

Status TopicTable::remove(const std::string& name) {
  if (is_internal_topic(name)) {
    return tl::unexpected(internal_topic_refused(name));
  }
  std::lock_guard create_lock(create_mu_);
  std::shared_ptr<Topic> topic;
  {
    std::unique_lock lock(mu_);
    auto it = topics_.find(name);
    if (it == topics_.end())
      return make_error(BrokerErrc::unknown_topic_or_partition, "topic '" + name + "' does not exist");
    topic = it->second;
    topics_.erase(it);
  }
  // The metadata file goes first: a crash halfway leaves orphan directories, never a half topic.
  if (auto s = fs_.remove(meta_path(name)); !s) return s;
  if (auto s = fs_.sync_dir(meta_dir()); !s) return s;
  for (auto& partition : topic->partitions) {
    (void)partition->log().close();
    if (auto s = fs_.remove_all(partition->log().dir()); !s) return s;
  }
  log::info("broker", "topic_deleted", {{"topic", name}});
  return {};
}

Status TopicTable::write_metadata(const Topic& topic, int32_t partitions,
                                  const std::map<std::string, std::string>& overrides) {
  std::string meta = encode_topic_metadata({topic.name, partitions, overrides, topic.created});
  auto written = fs_.write_file_atomic(meta_path(topic.name), as_bytes(meta));
  if (!written) {
    // A rename that failed leaves the synced temporary file; nothing reads it, but
    // a retry should not find it.
    if (std::string tmp = meta_path(topic.name) + ".tmp"; fs_.exists(tmp)) (void)fs_.remove(tmp);
  }
  return written;
}

Status TopicTable::alter_config(const std::string& name,
                                const std::map<std::string, std::optional<std::string>>& changes) {
  std::lock_guard create_lock(create_mu_);  // one change at a time, and none during a create or delete
  std::shared_ptr<Topic> topic = find(name);
  if (!topic) return make_error(BrokerErrc::unknown_topic_or_partition, "topic '" + name + "' does not exist");
  // What a serving log takes (storage::PartitionLog::set_config); the rest shapes what
  // is written or running. An unknown key falls through to apply_topic_config's error.
  static const std::set<std::string> kRuntime{"retention.ms",
                                              "retention.bytes",
                                              "segment.bytes",
                                              "segment.ms",
                                              "cleanup.policy",
                                              "delete.retention.ms",
                                              "min.compaction.lag.ms",
                                              "max.compaction.lag.ms",
                                              "min.cleanable.dirty.ratio"};
  const std::map<std::string, std::string> known = defaults_.to_map();
  for (const auto& [key, value] : changes) {
    if (known.contains(key) && !kRuntime.contains(key)) {
      std::string message = key;
      message += " cannot change while topic '";
      message += name;
      message +=
          "' serves; retention.ms, retention.bytes, segment.bytes, segment.ms, cleanup.policy and the "
          "compaction settings can";
      return make_error(BrokerErrc::invalid_config, std::move(message));
    }
  }
  TopicSettings before = topic->settings();
  std::map<std::string, std::string> overrides = before.overrides;
  for (const auto& [key, value] : changes) {
    if (value) {
      overrides[key] = *value;
    } else {
      overrides.erase(key);
    }
  }
  auto config = apply_topic_config(defaults_, overrides);
  if (!config) return tl::unexpected(config.error());
  // Every partition has the topic's settings, so the first one's refusal is every
  // one's: it checks the change before anything is written.
  auto& partitions = topic->partitions;
  if (auto s = partitions.front()->log().set_config(config->log); !s) {
    if (s.error().code == Errc::invalid_argument) return make_error(BrokerErrc::invalid_config, s.error().message);
    return s;
  }
  if (auto s = write_metadata(*topic, static_cast<int32_t>(partitions.size()), overrides); !s) {
    (void)partitions.front()->log().set_config(before.config.log);
    return s;
  }
  for (size_t p = 1; p < partitions.size(); ++p) {
    if (auto s = partitions[p]->log().set_config(config->log); !s) {
      // Cannot happen (the first partition took the same change); were it to, the
      // persisted settings apply to this partition at the next start.
      log::error("broker", "topic_config_not_applied",
                 {{"topic", name}, {"partition", static_cast<int64_t>(p)}, {"error", s.error().to_string()}});
    }
  }
  topic->set_settings({*config, std::move(overrides)});
  log::info("broker", "topic_config_altered", {{"topic", name}});
  return {};
}

std::shared_ptr<Topic> TopicTable::find(const std::string& name) const {
  std::shared_lock lock(mu_);
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Topic>> TopicTable::list(Internal internal) const {
  std::shared_lock lock(mu_);
  std::vector<std::shared_ptr<Topic>> out;
  for (const auto& [name, topic] : topics_) {
    if (internal == Internal::include || !is_internal_topic(name)) out.push_back(topic);
  }
  return out;
}

size_t TopicTable::apply_retention() {
  size_t removed = 0;
  for (const auto& topic : list()) {
    for (auto& partition : topic->partitions) {
      auto r = partition->log().apply_retention();
      if (r) {
        removed += *r;
      } else if (r.error().code != Errc::closed) {
        log::warn("broker", "retention_failed", {{"topic", topic->name}, {"error", r.error().to_string()}});
      }
    }
  }
  return removed;
}

Status TopicTable::close_all() {
  Status result;
  for (const auto& topic : list()) {
    for (auto& partition : topic->partitions) {
      if (auto s = partition->log().close(); !s && result) result = s;
    }
  }
  return result;
}

}  // namespace sluice::broker
