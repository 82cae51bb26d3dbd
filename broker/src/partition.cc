#include "sluice/broker/partition.h"

#include "sluice/storage/record_batch.h"

namespace sluice::broker {
namespace {

// A pool thread keeps the buffer it decompresses batches into up to this size; one
// that grew past it (a batch of up to max_uncompressed_bytes) is given back.
constexpr size_t kMaxKeptScratchBytes = 8u << 20;

}  // namespace

std::optional<Acks> parse_acks(int32_t acks) {
  switch (acks) {
    case 0: return Acks::none;
    case 1: return Acks::leader;
    case -1: return Acks::all;
    default: return std::nullopt;
  }
}

AppendedRun Partition::append(MutableByteSpan records, const std::function<void(Offset base)>& on_batch) {
  thread_local Bytes scratch;
  AppendedRun run;
  MutableByteSpan rest = records;
  uint64_t appended_records = 0;
  uint64_t appended_bytes = 0;
  while (!rest.empty()) {
    // Every record is checked, compressed or not: a batch that is stored must be one
    // every consumer can read, or they all stop at it.
    auto valid = storage::validate_batch(rest, {.max_batch_bytes = log_->max_batch_bytes(),
                                                .from_client = true,
                                                .require_keys = log_->compacts(),
                                                .scratch = &scratch});
    if (scratch.size() > kMaxKeptScratchBytes) Bytes().swap(scratch);
    if (!valid) {
      run.status = tl::unexpected(valid.error());
      break;
    }
    MutableByteSpan batch = rest.first(valid->total_size());
    auto appended = log_->append_validated(batch, *valid, storage::PartitionLog::AwaitDurable::no);
    if (!appended) {
      run.status = tl::unexpected(appended.error());
      break;
    }
    if (!run.first_base) run.first_base = appended->base_offset;
    on_batch(appended->base_offset);
    run.next_offset = appended->last_offset + 1;
    if (!appended->duplicate) {
      appended_records += static_cast<uint64_t>(valid->record_count);
      appended_bytes += batch.size();
    }
    rest = rest.subspan(batch.size());
  }
  if (run.next_offset) {
    traffic_.bytes_in.fetch_add(appended_bytes, std::memory_order_relaxed);
    traffic_.records_in.fetch_add(appended_records, std::memory_order_relaxed);
    notify_appended();
  }
  return run;
}

Result<storage::ReadResult> Partition::read(const PartitionReadOptions& options, Bytes& scratch) const {
  storage::ReadOptions read{.max_bytes = std::max<size_t>(options.max_bytes, 1), .mode = options.mode};
  if (options.upper_bound) read.upper_bound = *options.upper_bound;
  return log_->read(options.start, read, scratch);
}

uint64_t Partition::on_next_append(std::function<void()> fn) {
  std::lock_guard lock(waiters_mu_);
  uint64_t id = next_waiter_++;
  waiters_.emplace(id, std::move(fn));
  return id;
}

void Partition::cancel_wait(uint64_t id) {
  std::lock_guard lock(waiters_mu_);
  waiters_.erase(id);
}

void Partition::notify_appended() {
  std::map<uint64_t, std::function<void()>> ready;
  {
    std::lock_guard lock(waiters_mu_);
    if (waiters_.empty()) return;
    ready.swap(waiters_);
  }
  for (auto& [id, fn] : ready) fn();
}

}  // namespace sluice::broker
