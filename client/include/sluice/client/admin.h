// The admin client: create, delete, list and describe topics; look up offsets.
// Every call is blocking and bounded by request_timeout_ms.
//
//   auto admin = Admin::create({.bootstrap = "127.0.0.1:7400"});
//   admin->create_topic("orders", 4, {{"retention.ms", "86400000"}});
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sluice/client/group_admin.h"
#include "sluice/client/group_offsets.h"
#include "sluice/client/list_offsets.h"
#include "sluice/client/metadata.h"
#include "sluice/client/steady_clock.h"
#include "sluice/client/types.h"
#include "sluice/common/error.h"

namespace sluice::client {

struct AdminConfig {
  std::string bootstrap;  // "host:port"
  std::string client_id = "sluice-admin";
  int64_t request_timeout_ms = 30'000;
};

struct NewTopic {
  std::string name;
  int32_t partitions = 1;
  std::map<std::string, std::string> configs;
};

// A per-topic outcome of a batch call.
struct TopicStatus {
  std::string name;
  Status status;
};

class Admin {
 public:
  static Result<Admin> create(AdminConfig config);
  // The same, measuring request timeouts on `clock` (which must outlive the client).
  static Result<Admin> create(AdminConfig config, const SteadyClock& clock);
  // Throws std::invalid_argument on an invalid config.
  explicit Admin(AdminConfig config);
  Admin(Admin&&) noexcept;
  Admin& operator=(Admin&&) noexcept;
  ~Admin();

  // Fails with ErrorCode::topic_already_exists, ErrorCode::invalid_config, ...
  Status create_topic(const std::string& name, int32_t partitions,
                      const std::map<std::string, std::string>& configs = {});
  // One status per topic, in request order; the outer error is a failed request.
  Result<std::vector<TopicStatus>> create_topics(const std::vector<NewTopic>& topics);

  // Fails with ErrorCode::unknown_topic_or_partition for a missing topic.
  Status delete_topic(const std::string& name);
  Result<std::vector<TopicStatus>> delete_topics(const std::vector<std::string>& names);

  // Changes a topic's settings while it serves (Kafka's IncrementalAlterConfigs): each
  // entry sets a setting by its Kafka name, or with nullopt removes its override (back
  // to the broker's default); all apply or none does. Fails with
  // ErrorCode::unknown_topic_or_partition, ErrorCode::invalid_config (naming the setting:
  // unknown, a bad value, or one a topic cannot change while it serves), ErrorCode::invalid_topic.
  Status alter_topic_config(const std::string& name, const std::map<std::string, std::optional<std::string>>& changes);

  // Topic names, sorted; the broker's internal topics ("__consumer_offsets") only
  // with InternalTopics::include.
  Result<std::vector<std::string>> list_topics(InternalTopics internal = InternalTopics::exclude);

  // Partitions with log start and end offsets, and the topic's configs.
  Result<TopicDescription> describe_topic(const std::string& name);

  // Earliest, latest or first offset at/after a timestamp (-1 if none).
  Result<ListedOffset> list_offsets(const std::string& topic, int32_t partition, OffsetSpec spec);
  Result<std::vector<Result<ListedOffset>>> list_offsets(const std::vector<OffsetQuery>& queries);

  // Every partition group `group` has committed, with its offset and metadata
  // (empty for a group that has committed nothing). INVALID_GROUP_ID for a bad id.
  Result<std::map<TopicPartition, OffsetAndMetadata>> list_consumer_group_offsets(const std::string& group);

  // Consumer groups (admin_groups.cc). Every group with members or committed offsets, by
  // id; with `states` only those in one of them ("empty", "assigning", "reconciling", "stable").
  Result<std::vector<GroupListing>> list_groups(const std::vector<std::string>& states = {});
  // One result per id, in order: GROUP_ID_NOT_FOUND for a group the broker does not know,
  // INVALID_GROUP_ID for a bad id. No ids: no groups.
  Result<std::vector<Result<GroupDescription>>> describe_groups(const std::vector<std::string>& ids);
  // Deletes groups without members and their committed offsets; NON_EMPTY_GROUP while a
  // group has members, GROUP_ID_NOT_FOUND for an unknown one.
  Result<std::vector<GroupStatus>> delete_groups(const std::vector<std::string>& ids);
  // Sets committed offsets of a group with no members (NON_EMPTY_GROUP otherwise): an
  // OffsetCommit from outside the group. The map holds each partition's own outcome.
  Result<std::map<TopicPartition, Status>> alter_group_offsets(const std::string& group,
                                                               const std::map<TopicPartition, int64_t>& offsets);
  // Each partition the group has committed or a member owns, with its lag; GROUP_ID_NOT_FOUND
  // for an unknown group.
  Result<std::vector<GroupPartitionOffsets>> describe_group_offsets(const std::string& group);

  const AdminConfig& config() const;

  struct Impl;

 private:
  explicit Admin(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::client
