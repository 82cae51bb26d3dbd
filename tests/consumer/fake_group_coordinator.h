// The group side of a broker for consumer tests, behind a FakeBroker next to a
// FakeFetchLog (which answers everything else): ConsumerGroupHeartbeat answered by
// the test's script, OffsetCommit stored (or refused per partition with an injected
// code, or answered after an injected delay), OffsetFetch from what was stored.
// Every heartbeat and commit is recorded, in arrival order, in one log.
// Thread-safety: every method may be called from any thread; the script is called
// under the coordinator's lock (it must not call back into the coordinator).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sluice/client/types.h"

#include "fake_broker.h"
#include "fake_fetch_log.h"

namespace sluice::testing {

class FakeGroupCoordinator {
 public:
  using Script = std::function<wire::ConsumerGroupHeartbeatResponse(const wire::ConsumerGroupHeartbeatRequest&)>;

  struct Commit {
    std::string member_id;
    int32_t member_epoch = 0;
    std::map<client::TopicPartition, int64_t> offsets;
  };
  // One heartbeat or one commit, as received.
  struct Event {
    std::optional<wire::ConsumerGroupHeartbeatRequest> heartbeat;
    std::optional<Commit> commit;
  };

  explicit FakeGroupCoordinator(FakeFetchLog& log) : log_(log) {}

  void set_script(Script script);
  // Commits of tp are refused with `code` from now on (NONE accepts them again).
  void refuse_commits(const client::TopicPartition& tp, wire::ErrorCode code);
  // Commit replies are held this long before they are sent.
  void delay_commits(std::chrono::milliseconds delay);

  FakeBroker::Reply handle(const FakeBroker::Request& request);

  std::vector<Event> events() const;
  std::vector<wire::ConsumerGroupHeartbeatRequest> heartbeats() const;
  std::vector<Commit> commits() const;

  // The partitions of a heartbeat's owned set (or an assignment), in order.
  static std::vector<client::TopicPartition> partitions_of(
      const wire::ConsumerGroupHeartbeatRequest::Assignment& assignment);
  static void set_partitions(wire::ConsumerGroupHeartbeatRequest::Assignment* out,
                             const std::vector<client::TopicPartition>& partitions);

 private:
  FakeBroker::Reply heartbeat(const FakeBroker::Request& request);
  FakeBroker::Reply offset_commit(const FakeBroker::Request& request);
  FakeBroker::Reply offset_fetch(const FakeBroker::Request& request);

  FakeFetchLog& log_;
  mutable std::mutex mutex_;
  Script script_;
  std::map<client::TopicPartition, wire::ErrorCode> refused_;
  std::map<client::TopicPartition, int64_t> committed_;
  std::chrono::milliseconds commit_delay_{0};
  std::vector<Event> events_;
};

}  // namespace sluice::testing
