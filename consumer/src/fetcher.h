// The consumer's fetching, in Kafka's words (Fetcher): at most one FetchRequest
// in flight for the partitions the subscription says to read, and the records
// decoded from completed fetches, buffered per partition until poll() takes them.
//
// Per partition it keeps the fetch offset (the next offset to fetch, past the
// buffered records and the fetch in flight) and a fetch epoch, which changes when
// the subscription's position epoch changes (a seek or reset: the buffer is
// dropped and fetching restarts at the new position) and when a batch failed to
// decode (the fetch already sent past it is dropped and the next one starts at
// the damage, which reports it again). A result whose fetch epoch no longer
// matches is stale and ignored.
//
// Pipelining: when a fetch completes, the fetch offsets move past its whole
// batches (judged by their headers) and the next fetch goes out before these
// bytes are decoded; after poll() drains the buffers, the next fetch is already
// on its way.
//
// Paused partitions are not fetched; their buffered records stay until resumed.
//
// Thread-safety: none; used from the consumer's caller's thread. Responses are
// handed over from the network client's io thread inside FetchSession.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "sluice/client/network_client.h"
#include "sluice/consumer/consumer_config.h"
#include "sluice/consumer/consumer_record.h"

#include "fetch_session.h"
#include "subscription_state.h"

namespace sluice::consumer {

class Fetcher {
 public:
  // `net`, `config` and `subscriptions` must outlive the fetcher.
  Fetcher(client::NetworkClient& net, const ConsumerConfig& config, SubscriptionState& subscriptions);

  // Sends a fetch for every positioned, unpaused partition with nothing
  // buffered, unless a fetch is in flight, a failed one waits out its backoff
  // (retry_at()), or there is no such partition and no group to watch (watch_group).
  void send_fetches(client::SteadyTime now);
  // While a fetch that failed for a passing reason waits out retry_backoff_ms: when
  // the next may be sent.
  std::optional<client::SteadyTime> retry_at() const { return retry_at_; }
  // From now on fetches carry this group member (FetchRequest.group_member), so a
  // change in the group answers a long poll at once; nullopt: fetches do not watch.
  void watch_group(std::optional<client::CommitMember> member) { member_ = std::move(member); }
  // Whether a completed fetch said the member should heartbeat now; clears it.
  bool take_heartbeat_request() { return std::exchange(heartbeat_requested_, false); }
  bool in_flight() const { return in_flight_.has_value(); }

  // Waits until `deadline` by `clock` for the fetch in flight. On completion sends the next
  // fetch, then decodes the response into the buffers and returns true; false
  // if it did not complete in time (or none was in flight). A request that failed
  // for a passing reason (the broker unreachable), and a response whose partitions
  // all failed for one (a leader moving), are retried after retry_backoff_ms, in
  // silence. Errors: the request failed otherwise, or a partition failed (not found,
  // corrupt, out of range with auto_offset_reset=none, a non-retriable error)
  // and nothing is buffered to return instead. Out of range with a reset policy
  // clears the position in the subscription, to be reset by the consumer.
  Result<bool> complete_fetch(const client::SteadyClock& clock, client::SteadyTime deadline);

  // Whether an unpaused partition has records buffered.
  bool has_buffered();
  // Up to `max_records` buffered records of unpaused partitions, taking the
  // partitions in turn (a different one first on each call), and moves their
  // positions past them.
  std::vector<ConsumerRecord> drain(size_t max_records);

  // The high watermark of the last fetch response that served tp, while it is assigned.
  std::optional<int64_t> high_watermark(const TopicPartition& tp) const;

  // Drops the fetch in flight (its response is discarded when it arrives).
  void abandon_in_flight() { in_flight_.reset(); }

 private:
  struct PartitionBuffer {
    uint64_t position_epoch = 0;            // the subscription epoch this state follows
    uint64_t fetch_epoch = 0;               // carried by fetches; changes drop what is in flight
    int64_t fetch_offset = 0;               // next offset to fetch (past the buffered records)
    std::optional<int64_t> high_watermark;  // from the last fetch that served the partition
    // Decoded and not yet returned: records[next..]. A vector that takes over
    // the decoder's, and one reservation for poll()'s result, keep the heap
    // from growing and shrinking on every fetch (with a deque, each poll of 1 MiB
    // re-faulted about 100 pages: 19-55k page faults per 1M records).
    std::vector<ConsumerRecord> records;
    size_t next = 0;

    size_t buffered_count() const { return records.size() - next; }
    void clear() {
      records.clear();
      next = 0;
    }
  };
  using Buffers = std::map<TopicPartition, PartitionBuffer>;

  // Makes buffers_ follow the subscription: drops unassigned partitions, adds
  // new ones, restarts those whose position was set since.
  void sync_with_subscription();
  void restart_at_position(PartitionBuffer& b, const SubscriptionState::PartitionState& s);
  // The buffer a fetch result applies to, or null if the result is stale.
  PartitionBuffer* buffer_for(const FetchTarget& target);
  void advance_fetch_offsets(const std::vector<PartitionFetch>& results);
  Status apply(std::vector<PartitionFetch>& results, const std::shared_ptr<const void>& bytes_owner);
  // The error to report for a partition's failed fetch, if it is one the caller must see.
  std::optional<Error> reportable(const PartitionFetch& f);

  client::NetworkClient& net_;
  const ConsumerConfig& config_;
  SubscriptionState& subscriptions_;
  Buffers buffers_;
  std::optional<FetchSession> in_flight_;
  std::optional<client::CommitMember> member_;
  bool heartbeat_requested_ = false;
  std::optional<client::SteadyTime> retry_at_;
  bool swallowed_retriable_ = false;  // apply() passed over a partition's retriable error
  uint64_t next_fetch_epoch_ = 1;
  size_t next_drain_ = 0;
};

}  // namespace sluice::consumer
