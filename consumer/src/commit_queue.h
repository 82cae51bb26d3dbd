// The consumer's asynchronous commits (commit_async): a queue served by one worker
// thread, so commits reach the broker one after another in the order they were
// made, and their outcomes wait here until the caller's thread runs the callbacks
// (from poll(), commit_sync() or close(), as Kafka's consumer does), in that order.
// The worker sends each commit with the member identity it was made with.
// Thread-safety: submit(), run_callbacks() and wait_idle() are for the caller's
// thread; the worker only touches the queues under the mutex.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "sluice/client/group_offsets.h"
#include "sluice/common/error.h"

#include "offset_commits.h"

namespace sluice::consumer {

class CommitQueue {
 public:
  // REQUIRES: `commits` outlives this.
  explicit CommitQueue(const OffsetCommits& commits) : commits_(commits) {}
  ~CommitQueue();
  CommitQueue(const CommitQueue&) = delete;
  CommitQueue& operator=(const CommitQueue&) = delete;

  // Queues the commit; the worker starts with the first one.
  void submit(std::map<TopicPartition, OffsetAndMetadata> offsets, client::CommitMember member,
              CommitCallback callback);
  // Calls the callbacks of the commits that completed, oldest first.
  void run_callbacks();
  // Waits until every queued commit completed (each is bounded by the request timeout).
  void wait_idle();
  bool idle() const;

 private:
  struct Job {
    std::map<TopicPartition, OffsetAndMetadata> offsets;
    client::CommitMember member;
    CommitCallback callback;
    Status status;
  };

  void work();

  const OffsetCommits& commits_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Job> queued_;  // the front one is being sent while busy_
  std::deque<Job> done_;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace sluice::consumer
