// One FetchRequest in flight for the consumer: the partitions and offsets it
// asked for, and the response when it arrives. Splits the response into a
// per-partition outcome: record bytes (not yet decoded, so the consumer can send
// its next fetch before spending time on them), OFFSET_OUT_OF_RANGE, or an error.
// Thread-safety: used by the consumer's thread; the response is handed over
// from the io thread under a mutex.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "sluice/client/group_offsets.h"
#include "sluice/client/network_client.h"
#include "sluice/client/steady_clock.h"
#include "sluice/consumer/consumer_config.h"

#include "batch_decoder.h"

namespace sluice::consumer {

struct FetchTarget {
  TopicPartition partition;
  int64_t offset = 0;
  uint64_t epoch = 0;  // the partition state's epoch when the fetch was sent
};

struct PartitionFetch {
  FetchTarget target;
  bool offset_out_of_range = false;
  // The partition's record bytes, pointing into the session's response; an error
  // other than OFFSET_OUT_OF_RANGE.
  Result<ByteSpan> bytes;
  // Past the last whole batch by its header (no CRC check), or target.offset.
  int64_t next_offset = 0;
  int64_t high_watermark = -1;  // -1 when the partition failed
};

class FetchSession {
 public:
  // Sends the request at once. With `member` (a group member's id and epoch in
  // config.group_id) the fetch also watches the group (FetchRequest.group_member);
  // `targets` may then be empty. REQUIRES: targets not empty, or a member.
  FetchSession(client::NetworkClient& net, const ConsumerConfig& config, std::vector<FetchTarget> targets,
               const std::optional<client::CommitMember>& member);

  // True once the response (or failure) arrived; waits until `deadline` by `clock`.
  bool wait(const client::SteadyClock& clock, client::SteadyTime deadline);
  // REQUIRES: wait() returned true; called once. The outer error is a failed
  // request. The byte spans live as long as response().
  Result<std::vector<PartitionFetch>> take();
  const std::shared_ptr<const client::Response>& response() const { return response_; }
  // After take(): the broker says the member should heartbeat now.
  bool heartbeat_now() const { return heartbeat_now_; }

 private:
  // Shared with the request's completion, which may run after the session is gone.
  struct Pending {
    std::mutex mutex;
    std::condition_variable arrived;
    std::optional<Result<client::Response>> response;
  };

  std::vector<FetchTarget> targets_;
  std::shared_ptr<Pending> pending_ = std::make_shared<Pending>();
  std::shared_ptr<const client::Response> response_;
  bool heartbeat_now_ = false;
};

}  // namespace sluice::consumer
