// The consumer, in assign mode: the caller says which partitions to read and
// where; poll() returns their records in offset order per partition.
//
//   auto consumer = Consumer::create({.bootstrap = "127.0.0.1:7400",
//                                     .auto_offset_reset = OffsetReset::earliest});
//   consumer->assign({{"orders", 0}, {"orders", 1}});
//   for (;;) {
//     auto records = consumer->poll(std::chrono::milliseconds(500));
//     if (!records) { /* log records.error(), maybe back off */ continue; }
//     for (auto& r : *records) handle(r);
//   }
//
// Positions: position(tp) is the offset of the next record poll() will return
// for tp. A partition without a position gets one from auto_offset_reset on the
// next poll() (or position()). seek*() take effect at once: records fetched
// before the seek are dropped.
// Prefetch: after a poll() the next fetch is already on its way, so records
// keep flowing while the caller processes the last ones.
// Pause: a paused partition keeps its position but is not fetched, and poll()
// returns none of its records (those already fetched wait) until it is resumed.
// Commits (with a group_id): commit_sync() (or commit_async()) stores each assigned partition's
// position for the group, outside any membership (Kafka's manual assignment with
// a group.id); a partition without a position starts at the committed offset.
// Group membership (subscribe): the group's coordinator assigns the partitions;
// poll() heartbeats, applies assignment changes (calling the RebalanceListener) and,
// with enable_auto_commit, commits what poll() returned. close() commits and leaves
// at once, so the partitions move without waiting for the session timeout.
//
//   consumer.subscribe(std::vector<std::string>{"orders"}, &listener);
//   for (;;) for (auto& r : consumer.poll(500ms).value_or({})) handle(r);
//
// Thread-safety: not thread-safe, like Kafka's consumer: use it from one thread
// at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sluice/client/group_offsets.h"
#include "sluice/client/steady_clock.h"
#include "sluice/client/types.h"
#include "sluice/common/error.h"
#include "sluice/consumer/commit_callback.h"
#include "sluice/consumer/consumer_config.h"
#include "sluice/consumer/consumer_record.h"
#include "sluice/consumer/rebalance_listener.h"

namespace sluice::consumer {

// A subscription by pattern: an ECMAScript regular expression that must match a whole
// topic name; topics created later that match join the subscription.
// subscribe({"orders"}) is ambiguous with it: spell a one-topic list as
// std::vector<std::string>{"orders"}.
struct TopicPattern {
  std::string regex;
};

class Consumer {
 public:
  // Validates the config and starts the io thread; connects on first use.
  static Result<Consumer> create(ConsumerConfig config);
  // The same, with poll() timeouts measured on `clock` (which must outlive the
  // consumer), so a test can move time instead of waiting.
  static Result<Consumer> create(ConsumerConfig config, const client::SteadyClock& clock);
  // Throws std::invalid_argument on an invalid config.
  explicit Consumer(ConsumerConfig config);
  Consumer(Consumer&&) noexcept;
  Consumer& operator=(Consumer&&) noexcept;
  ~Consumer();

  // Replaces the assignment. Partitions that stay assigned keep their position;
  // new ones start without one (auto_offset_reset decides on first poll).
  // Throws std::logic_error while subscribed (as Kafka's): unsubscribe() first.
  void assign(const std::vector<TopicPartition>& partitions);

  // Joins config().group_id's group (or changes the subscription) from the next
  // poll() on. `listener` may be null and must outlive the subscription. Errors
  // (Errc::invalid_argument): no group_id, nothing to subscribe to, or partitions
  // assigned with assign() (assign({}) first).
  Status subscribe(const std::vector<std::string>& topics, RebalanceListener* listener = nullptr);
  Status subscribe(const TopicPattern& pattern, RebalanceListener* listener = nullptr);
  // Commits (auto-commit), revokes and leaves the group at once. Does nothing when
  // not subscribed.
  void unsubscribe();
  std::vector<TopicPartition> assignment() const;

  // REQUIRES: tp is assigned (else Errc::invalid_argument). offset >= 0.
  Status seek(const TopicPartition& tp, int64_t offset);
  // Empty: every assigned partition. Looks the offsets up at once (ListOffsets).
  Status seek_to_beginning(const std::vector<TopicPartition>& partitions = {});
  Status seek_to_end(const std::vector<TopicPartition>& partitions = {});
  // The first offset whose record timestamp is >= timestamp_ms; the log end if
  // there is none. Empty: every assigned partition.
  Status seek_to_timestamp(int64_t timestamp_ms, const std::vector<TopicPartition>& partitions = {});

  // The next offset poll() returns for tp, resolving auto_offset_reset if needed.
  Result<int64_t> position(const TopicPartition& tp);

  // REQUIRES: every partition is assigned (else Errc::invalid_argument, and
  // nothing changes). Pausing a paused partition, or resuming one that is not
  // paused, does nothing. A partition that is assigned again stays paused; one
  // that leaves the assignment forgets it.
  Status pause(const std::vector<TopicPartition>& partitions);
  Status resume(const std::vector<TopicPartition>& partitions);
  std::vector<TopicPartition> paused() const;

  // Waits up to `timeout` for records of the assigned partitions and returns at
  // most max_poll_records of them (empty when none arrived in time). Errors:
  // DISCONNECTED / REQUEST_TIMED_OUT (the next poll() reconnects),
  // UNKNOWN_TOPIC_OR_PARTITION (an assigned topic or partition is
  // not on the broker, e.g. deleted; reported by every poll() until it exists
  // again), NO_OFFSET (auto_offset_reset=none), CORRUPT_MESSAGE
  // (a batch failed its CRC), or no partitions assigned (Errc::invalid_argument).
  // With every partition paused it waits out the timeout (as Kafka's does) and
  // returns no records.
  Result<std::vector<ConsumerRecord>> poll(std::chrono::milliseconds timeout);

  // Commits the position of every assigned partition (what poll() has returned up
  // to) for config().group_id, and waits until the broker has it durably. Errors:
  // no group_id (Errc::invalid_argument), a partition's refusal (its code, e.g.
  // UNKNOWN_TOPIC_OR_PARTITION, OFFSET_METADATA_TOO_LARGE; the others commit),
  // DISCONNECTED / REQUEST_TIMED_OUT.
  Status commit_sync();
  Status commit_sync(const std::map<TopicPartition, client::OffsetAndMetadata>& offsets);
  // Commits without waiting: the positions of every assigned partition (as
  // commit_sync()), or `offsets`. Commits reach the broker in the order they were
  // made (commit_sync() and the group's own commits wait for the queued ones), and
  // each `callback` (may be empty) runs from a later poll(), commit_sync() or
  // close() on the caller's thread, oldest first, with the offsets and the outcome
  // (the errors of commit_sync()). close() waits for the queued commits.
  void commit_async(CommitCallback callback = {});
  void commit_async(const std::map<TopicPartition, client::OffsetAndMetadata>& offsets, CommitCallback callback);
  // The group's committed offsets of `partitions` (offset -1 where there is none).
  Result<std::map<TopicPartition, client::OffsetAndMetadata>> committed(const std::vector<TopicPartition>& partitions);

  // Records behind the log end of an assigned partition (Kafka's currentLag): the
  // high watermark of the last fetch response for it minus the position. nullopt
  // when tp is not assigned, has no position, or no fetch of it has answered yet.
  std::optional<int64_t> lag(const TopicPartition& tp) const;

  // Waits for queued asynchronous commits and runs their callbacks, leaves the
  // group (as unsubscribe()) and stops the io thread; the consumer is unusable afterwards. Idempotent.
  void close();

  const ConsumerConfig& config() const;

  struct Impl;

 private:
  explicit Consumer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::consumer
