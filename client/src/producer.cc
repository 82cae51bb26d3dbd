#include "sluice/client/producer.h"

#include <future>
#include <shared_mutex>
#include <stdexcept>

#include "sluice/client/client_errors.h"
#include "sluice/client/network_client.h"
#include "sluice/client/partitioner.h"
#include "sluice/common/log.h"

#include "memory_budget.h"
#include "metadata_cache.h"
#include "record_accumulator.h"
#include "sender.h"
#include "time_util.h"
#include "wall_clock.h"

namespace sluice::client {

namespace {

using std::chrono::milliseconds;

// Room for the produce request's frame and Protobuf parts around one batch.
constexpr size_t kRequestOverhead = 512;

bool idempotent(const ProducerConfig& c) { return c.enable_idempotence && c.acks != kAcksNone; }

AccumulatorConfig accumulator_config(const ProducerConfig& c) {
  return AccumulatorConfig{c.batch_bytes, milliseconds(c.linger_ms), c.compression, c.zstd_level, idempotent(c)};
}

SenderConfig sender_config(const ProducerConfig& c) {
  return SenderConfig{c.acks,
                      c.max_in_flight,
                      c.preserve_order,
                      idempotent(c),
                      c.retries,
                      milliseconds(c.retry_backoff_ms),
                      milliseconds(c.retry_backoff_max_ms),
                      milliseconds(c.request_timeout_ms),
                      milliseconds(c.delivery_timeout_ms),
                      c.max_request_bytes};
}

Error closed_error() { return client_error(ErrorCode::closed, "the producer is closed"); }

}  // namespace

struct Producer::Impl {
  Impl(ProducerConfig c, std::unique_ptr<NetworkClient> n, const SteadyClock& k)
      : config(std::move(c)),
        net(std::move(n)),
        clock(k),
        memory(config.buffer_memory, clock),
        metadata(*net, MetadataCache::Options{milliseconds(config.metadata_max_age_ms),
                                              milliseconds(std::max<int64_t>(config.retry_backoff_ms, 1)),
                                              milliseconds(config.request_timeout_ms), &clock}),
        accumulator(accumulator_config(config), memory, clock),
        sender(sender_config(config), *net, accumulator, metadata, clock) {
    // A send() waiting for memory makes every batch ready; the sender must look now.
    memory.set_on_wait([this] { sender.wakeup(); });
  }

  void send(const ProducerRecord& record, DeliveryCallback on_delivery);
  void flush();
  void close(milliseconds timeout);

  ProducerConfig config;
  std::unique_ptr<NetworkClient> net;  // first member: destroyed last, after everything using its io_context
  const SteadyClock& clock;            // deadlines, linger, backoff and request timeouts are measured on it
  MemoryBudget memory;
  MetadataCache metadata;
  StickyPartitioner sticky;
  WallClock wall_clock;
  RecordAccumulator accumulator;
  Sender sender;
  // send() holds it shared while it queues a record; close() exclusively while it
  // flips `closed`, so no record slips into the queues after close drained them.
  std::shared_mutex close_mutex;
  bool closed = false;
  std::mutex shutdown_mutex;
  bool shut_down = false;
};

void Producer::Impl::send(const ProducerRecord& record, DeliveryCallback on_delivery) {
  auto fail_now = [&](Error error) {
    if (on_delivery) on_delivery(Result<RecordMetadata>(tl::unexpected(std::move(error))));
  };
  std::shared_lock lock(close_mutex);
  if (closed) return fail_now(closed_error());
  if (record.topic.empty()) return fail_now(Error{Errc::invalid_argument, "a record needs a topic"});
  SteadyTime now = clock.now();
  SteadyTime deadline = deadline_after(milliseconds(config.max_block_ms), now);

  auto partitions = metadata.partitions(record.topic, now, deadline);
  if (!partitions) return fail_now(partitions.error());
  const int32_t n = *partitions;

  std::vector<storage::HeaderView> headers;
  headers.reserve(record.headers.size());
  for (const Header& h : record.headers) {
    headers.push_back(storage::HeaderView{h.key, h.value ? std::optional<ByteSpan>(as_bytes(*h.value)) : std::nullopt});
  }
  RecordAccumulator::AppendRequest req;
  req.key = record.key ? std::optional<ByteSpan>(as_bytes(*record.key)) : std::nullopt;
  req.value = record.value ? std::optional<ByteSpan>(as_bytes(*record.value)) : std::nullopt;
  req.headers = headers;
  req.timestamp = record.timestamp ? *record.timestamp : wall_clock.ms_since_epoch(now);

  size_t size = estimate_record_size(req.key, req.value, req.headers) + storage::batch_format::kHeaderSize;
  if (size + kRequestOverhead > config.max_request_bytes || size > config.buffer_memory) {
    return fail_now(client_error(ErrorCode::record_too_large,
                                 "a record of about " + std::to_string(size) + " bytes exceeds max_request_bytes " +
                                     std::to_string(config.max_request_bytes) + " or buffer_memory " +
                                     std::to_string(config.buffer_memory)));
  }

  if (record.partition) {
    if (*record.partition < 0 || *record.partition >= n) {
      return fail_now(client_error(ErrorCode::unknown_topic_or_partition,
                                   "partition " + std::to_string(*record.partition) + " is not in [0, " +
                                       std::to_string(n) + ") for topic \"" + record.topic + "\""));
    }
    req.partition = TopicPartition{record.topic, *record.partition};
  } else if (record.key) {
    req.partition = TopicPartition{record.topic, partition_for_key(as_bytes(*record.key), n)};
  } else {
    req.partition = TopicPartition{record.topic, sticky.partition(record.topic, n)};
    req.abort_on_new_batch = true;
  }
  req.may_block =
      config.block_on_buffer_full && !net->on_io_thread() ? MemoryBudget::Block::yes : MemoryBudget::Block::no;
  req.block_deadline = deadline;

  auto appended = accumulator.append(req, on_delivery, now);
  if (appended && appended->aborted_for_new_batch) {
    // The sticky partition's batch is full or gone: move on to another partition.
    req.partition.partition = sticky.on_new_batch(record.topic, n, req.partition.partition);
    req.abort_on_new_batch = false;
    appended = accumulator.append(req, on_delivery, now);
  }
  if (!appended) return fail_now(appended.error());
  if (appended->new_batch || appended->batch_ready) sender.wakeup();
}

void Producer::Impl::flush() {
  if (net->on_io_thread()) {
    log::error("producer", "flush_from_callback_ignored", {{"client_id", config.client_id}});
    return;
  }
  uint64_t target = accumulator.begin_flush();
  sender.wakeup();
  accumulator.await_flush(target, deadline_after(milliseconds::max(), clock.now()));
  accumulator.end_flush();
}

void Producer::Impl::close(milliseconds timeout) {
  std::lock_guard shutdown_lock(shutdown_mutex);
  if (shut_down) return;
  if (net->on_io_thread()) {
    log::error("producer", "close_from_callback_ignored", {{"client_id", config.client_id}});
    return;
  }
  {
    std::unique_lock lock(close_mutex);
    closed = true;
  }
  uint64_t target = accumulator.begin_flush();
  sender.wakeup();
  accumulator.await_flush(target, deadline_after(timeout, clock.now()));
  accumulator.end_flush();

  // Whatever is left fails with CLOSED: queued batches now, in-flight ones as
  // the connection shuts down.
  std::promise<void> stopped;
  if (net->post([&] {
        sender.close(closed_error());
        stopped.set_value();
      })) {
    stopped.get_future().wait();
  }
  net->shutdown();
  for (auto& batch : accumulator.drain_all()) {
    batch->fail(closed_error());
    accumulator.done(*batch);
  }
  shut_down = true;
}

Producer::Producer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<Producer> Producer::create(ProducerConfig config) {
  return create(std::move(config), SystemSteadyClock::instance());
}

Result<Producer> Producer::create(ProducerConfig config, const SteadyClock& clock) {
  if (auto s = validate(config); !s) return tl::unexpected(s.error());
  auto net = NetworkClient::create(
      NetworkOptions{.bootstrap = config.bootstrap, .client_id = config.client_id, .clock = &clock});
  if (!net) return tl::unexpected(net.error());
  return Producer(std::make_unique<Impl>(std::move(config), std::move(*net), clock));
}

Producer::Producer(ProducerConfig config) {
  auto p = create(std::move(config));
  if (!p) throw std::invalid_argument("invalid producer config: " + p.error().to_string());
  impl_ = std::move(p->impl_);
}

Producer::Producer(Producer&&) noexcept = default;
Producer& Producer::operator=(Producer&& other) noexcept {
  if (this != &other) {
    if (impl_) impl_->close(milliseconds::max());
    impl_ = std::move(other.impl_);
  }
  return *this;
}

Producer::~Producer() {
  if (impl_) impl_->close(milliseconds::max());
}

std::future<Result<RecordMetadata>> Producer::send(const ProducerRecord& record) {
  auto promise = std::make_shared<std::promise<Result<RecordMetadata>>>();
  auto future = promise->get_future();
  impl_->send(record, [promise](const Result<RecordMetadata>& r) { promise->set_value(r); });
  return future;
}

void Producer::send(const ProducerRecord& record, DeliveryCallback on_delivery) {
  impl_->send(record, std::move(on_delivery));
}

void Producer::flush() { impl_->flush(); }

void Producer::close(milliseconds timeout) { impl_->close(timeout); }

Result<int32_t> Producer::partition_count(const std::string& topic) {
  SteadyTime now = impl_->clock.now();
  return impl_->metadata.partitions(topic, now, deadline_after(milliseconds(impl_->config.max_block_ms), now));
}

const ProducerConfig& Producer::config() const { return impl_->config; }

}  // namespace sluice::client
