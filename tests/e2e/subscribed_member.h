// A subscribed consumer polling on its own thread for the group end-to-end tests: it
// records every record it got (and whether it read a partition it did not own), and its
// listener counts the partitions it owns so a test can wait for a count.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sluice/consumer/consumer.h"

namespace sluice::testing {

// Counts each member's partitions as the listener reports them, and lets a test wait
// for a count.
class CountingListener : public consumer::RebalanceListener {
 public:
  void on_partitions_assigned(const std::vector<client::TopicPartition>& partitions) override {
    std::lock_guard lock(mu_);
    owned_ += static_cast<int>(partitions.size());
    ++changes_;
    cv_.notify_all();
  }
  void on_partitions_revoked(const std::vector<client::TopicPartition>& partitions) override {
    std::lock_guard lock(mu_);
    owned_ -= static_cast<int>(partitions.size());
    ++changes_;
    cv_.notify_all();
  }
  void on_partitions_lost(const std::vector<client::TopicPartition>& partitions) override {
    on_partitions_revoked(partitions);
  }
  bool wait_for(int owned, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return owned_ == owned; });
  }
  int owned() {
    std::lock_guard lock(mu_);
    return owned_;
  }
  // Callbacks with partitions so far (assigned, revoked or lost).
  int changes() {
    std::lock_guard lock(mu_);
    return changes_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int owned_ = 0;
  int changes_ = 0;
};

// A member polling on its own thread, recording every record it got.
class SubscribedMember {
 public:
  SubscribedMember(const std::string& bootstrap, const std::string& group, const std::vector<std::string>& topics,
                   const std::string& regex = "")
      : consumer_({.bootstrap = bootstrap,
                   .group_id = group,
                   .auto_commit_interval_ms = 200,
                   .auto_offset_reset = consumer::OffsetReset::earliest}) {
    Status s = regex.empty() ? consumer_.subscribe(topics, &listener_)
                             : consumer_.subscribe(consumer::TopicPattern{regex}, &listener_);
    EXPECT_TRUE(s) << s.error().to_string();
    thread_ = std::thread([this] { run(); });
  }
  ~SubscribedMember() { close(); }

  void close() {
    if (!thread_.joinable()) return;
    stop_ = true;
    thread_.join();
    consumer_.close();
  }
  CountingListener& listener() { return listener_; }
  std::vector<std::pair<client::TopicPartition, int64_t>> records() {
    std::lock_guard lock(mu_);
    return records_;
  }
  bool read_unowned() const { return read_unowned_; }

 private:
  void run() {
    while (!stop_) {
      auto polled = consumer_.poll(std::chrono::milliseconds(100));
      if (!polled) continue;
      auto owned = consumer_.assignment();
      std::lock_guard lock(mu_);
      for (const auto& r : *polled) {
        client::TopicPartition tp{r.topic, r.partition};
        if (std::find(owned.begin(), owned.end(), tp) == owned.end()) read_unowned_ = true;
        records_.emplace_back(tp, r.offset);
      }
    }
  }

  CountingListener listener_;
  consumer::Consumer consumer_;
  std::mutex mu_;
  std::vector<std::pair<client::TopicPartition, int64_t>> records_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> read_unowned_{false};
  std::thread thread_;
};

// Waits until the members together hold `n` records; false on timeout.
inline bool wait_for_records(const std::vector<SubscribedMember*>& members, size_t n,
                             std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    size_t total = 0;
    for (SubscribedMember* m : members) total += m->records().size();
    if (total >= n) return true;
    std::this_thread::yield();
  }
  return false;
}

}  // namespace sluice::testing
