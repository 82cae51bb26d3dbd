#include "batch_decoder.h"

#include <algorithm>
#include <optional>

#include "sluice/client/client_errors.h"
#include "sluice/storage/record_batch.h"

namespace sluice::consumer {

namespace {

namespace bf = storage::batch_format;

Error corrupt(const TopicPartition& tp, const Error& cause) {
  return client::client_error(client::ErrorCode::corrupt_message,
                              "fetched batch of " + tp.to_string() + ": " + cause.to_string());
}

std::optional<std::string_view> view(const std::optional<ByteSpan>& b) {
  if (!b) return std::nullopt;
  return as_string_view(*b);
}

std::optional<std::string> owned(const std::optional<ByteSpan>& b) {
  if (!b) return std::nullopt;
  return std::string(as_string_view(*b));
}

// Appends the batch's records at or after `fetch_offset` to `out`; their views
// point into `batch` (owned by `bytes_owner`) or into the decompressed records.
Status decode_one(const TopicPartition& tp, ByteSpan batch, int64_t fetch_offset,
                  const std::shared_ptr<const void>& bytes_owner, std::vector<ConsumerRecord>& out) {
  size_t first = out.size();
  auto reader = storage::RecordReader::open(batch);
  if (!reader) return tl::unexpected(corrupt(tp, reader.error()));
  const storage::BatchHeader& header = reader->header();
  const bool append_time = header.log_append_time();
  storage::Record record;
  for (;;) {
    auto more = reader->next(record);
    if (!more) return tl::unexpected(corrupt(tp, more.error()));
    if (!*more) break;
    if (record.offset.value() < fetch_offset) continue;
    ConsumerRecord r;
    r.topic = tp.topic;
    r.partition = tp.partition;
    r.offset = record.offset.value();
    r.timestamp = append_time ? header.max_timestamp : record.timestamp;
    r.timestamp_type = append_time ? TimestampType::log_append_time : TimestampType::create_time;
    r.key = view(record.key);
    r.value = view(record.value);
    r.headers.reserve(record.headers.size());
    for (const auto& h : record.headers) r.headers.push_back(Header{std::string(h.key), owned(h.value)});
    out.push_back(std::move(r));
  }
  Bytes decompressed = reader->release_decompressed();
  std::shared_ptr<const void> owner =
      decompressed.empty() ? bytes_owner : std::make_shared<const Bytes>(std::move(decompressed));
  for (size_t i = first; i < out.size(); ++i) out[i].storage = owner;
  return {};
}

// Splits off the next whole batch by its length field; nullopt at the end or at a
// batch cut short by the fetch's byte limit.
std::optional<ByteSpan> next_whole_batch(ByteSpan& bytes) {
  if (bytes.size() < bf::kLogOverhead) return std::nullopt;
  int32_t length = load_be<int32_t>(bytes.data() + bf::kBatchLength);
  if (length < 0 || static_cast<size_t>(length) + bf::kLogOverhead > bytes.size()) return std::nullopt;
  ByteSpan batch = bytes.first(bf::kLogOverhead + static_cast<size_t>(length));
  bytes = bytes.subspan(batch.size());
  return batch;
}

// The records in the whole batches of `bytes` by their headers, to reserve room
// for them at once. Not checked yet, so a count is capped by what the batch's bytes
// could hold uncompressed (7 bytes is the smallest record: six one-byte varints and
// the attributes byte), lest a damaged header reserve gigabytes.
size_t record_count_estimate(ByteSpan bytes) {
  constexpr size_t kMinRecordBytes = 7;
  size_t count = 0;
  while (auto batch = next_whole_batch(bytes)) {
    if (batch->size() < bf::kHeaderSize) break;
    auto stated = static_cast<size_t>(std::max(load_be<int32_t>(batch->data() + bf::kRecordCount), 0));
    count += std::min(stated, (batch->size() - bf::kHeaderSize) / kMinRecordBytes);
  }
  return count;
}

}  // namespace

int64_t next_offset_after(ByteSpan bytes, int64_t fetch_offset) {
  int64_t next = fetch_offset;
  while (auto batch = next_whole_batch(bytes)) {
    auto header = storage::validate_batch_framing(*batch, batch->size());
    if (!header) break;
    next = std::max(next, header->next_offset().value());
  }
  return next;
}

Result<DecodedRecords> decode_batches(const TopicPartition& tp, ByteSpan bytes, int64_t fetch_offset,
                                      CheckCrcs check_crcs, const std::shared_ptr<const void>& bytes_owner) {
  DecodedRecords result;
  result.next_offset = fetch_offset;
  result.records.reserve(record_count_estimate(bytes));
  bool any_batch = false;
  while (auto whole = next_whole_batch(bytes)) {
    ByteSpan batch = *whole;
    auto header = check_crcs == CheckCrcs::yes ? storage::validate_batch_crc(batch, batch.size())
                                               : storage::validate_batch_framing(batch, batch.size());
    if (!header) {
      if (!any_batch) return tl::unexpected(corrupt(tp, header.error()));
      break;
    }
    size_t before = result.records.size();
    if (header->next_offset().value() > fetch_offset && !header->is_control()) {
      if (auto s = decode_one(tp, batch, fetch_offset, bytes_owner, result.records); !s) {
        if (!any_batch) return tl::unexpected(s.error());
        result.records.resize(before);
        break;
      }
    }
    any_batch = true;
    result.next_offset = std::max(result.next_offset, header->next_offset().value());
  }
  if (!any_batch && !bytes.empty()) {
    return tl::unexpected(client::client_error(
        client::ErrorCode::message_too_large,
        "fetch of " + tp.to_string() + " at offset " + std::to_string(fetch_offset) + " returned " +
            std::to_string(bytes.size()) + " bytes, less than one whole batch; raise max_partition_fetch_bytes"));
  }
  return result;
}

}  // namespace sluice::consumer
