#include "commit_queue.h"

namespace sluice::consumer {

CommitQueue::~CommitQueue() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void CommitQueue::submit(std::map<TopicPartition, OffsetAndMetadata> offsets, client::CommitMember member,
                         CommitCallback callback) {
  {
    std::lock_guard lock(mutex_);
    queued_.push_back(Job{std::move(offsets), std::move(member), std::move(callback), {}});
    if (!worker_.joinable()) worker_ = std::thread([this] { work(); });
  }
  changed_.notify_all();
}

void CommitQueue::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || !queued_.empty(); });
    if (queued_.empty()) return;  // stopping, with nothing left to send
    busy_ = true;
    Job& job = queued_.front();  // stays put: only this thread pops the queue
    const auto offsets = job.offsets;
    const auto member = job.member;
    lock.unlock();
    Status status = commits_.commit_as(member, offsets);
    lock.lock();
    queued_.front().status = std::move(status);
    done_.push_back(std::move(queued_.front()));
    queued_.pop_front();
    busy_ = false;
    changed_.notify_all();
  }
}

void CommitQueue::run_callbacks() {
  std::deque<Job> done;
  {
    std::lock_guard lock(mutex_);
    done.swap(done_);
  }
  for (Job& job : done) {
    if (job.callback) job.callback(job.offsets, job.status);
  }
}

void CommitQueue::wait_idle() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return queued_.empty() && !busy_; });
}

bool CommitQueue::idle() const {
  std::lock_guard lock(mutex_);
  return queued_.empty() && !busy_;
}

}  // namespace sluice::consumer
