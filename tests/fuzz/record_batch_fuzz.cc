// libFuzzer target for the record-batch decoder: validate_batch (with record checks,
// and with the checks for a client's batch) and RecordReader must report every malformed input as an error, never crash
// or hit undefined behaviour, and must agree with each other on valid input.
//
// Each input is tried twice: as it is, and with its CRC recomputed, so that
// mutations of the records section reach the record decoder instead of stopping
// at the checksum.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "sluice/common/crc32c.h"
#include "sluice/storage/record_batch.h"

namespace {

using namespace sluice;
using namespace sluice::storage;
namespace bf = batch_format;

// Small enough to keep each run fast; decompression bombs hit it quickly.
constexpr size_t kMaxBatchBytes = 1 << 20;
constexpr size_t kMaxUncompressed = 1 << 20;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// Reads every byte a record points at, so ASan sees any out-of-bounds span.
uint64_t touch(const Record& r) {
  uint64_t sum = static_cast<uint64_t>(r.offset.value()) ^ static_cast<uint64_t>(r.timestamp);
  auto add = [&](ByteSpan b) {
    for (std::byte x : b) sum += static_cast<uint8_t>(x);
  };
  if (r.key) add(*r.key);
  if (r.value) add(*r.value);
  for (const RecordHeader& h : r.headers) {
    for (char c : h.key) sum += static_cast<uint8_t>(c);
    if (h.value) add(*h.value);
  }
  return sum;
}

// Iterates a reader to its end or first error; returns the records read, or -1 on error.
int64_t drain(RecordReader& reader) {
  Record record;
  int64_t n = 0;
  int64_t previous = 0;
  volatile uint64_t sink = 0;
  while (true) {
    auto more = reader.next(record);
    if (!more) return -1;
    if (!*more) return n;
    // Offsets strictly increase and stay inside the batch's range.
    int64_t delta = record.offset - reader.header().base_offset;  // cannot overflow: offset = base + delta
    check(delta >= 0 && delta <= reader.header().last_offset_delta);
    if (n > 0) check(record.offset.value() > previous);
    previous = record.offset.value();
    sink = sink + touch(record);
    if (reader.header().is_control()) (void)parse_control_record(record);
    ++n;
  }
}

void exercise(ByteSpan input) {
  ValidationOptions options{
      .max_batch_bytes = kMaxBatchBytes, .check_records = true, .max_uncompressed_bytes = kMaxUncompressed};
  auto header = validate_batch(input, options);
  auto structural = validate_batch_crc(input, kMaxBatchBytes);
  // Full validation is structural validation plus record checks.
  if (!structural) check(!header && header.error().code == structural.error().code);
  if (header) {
    check(structural.has_value());
    check(header->total_size() <= input.size());
    check(header->total_size() >= bf::kHeaderSize);
    check(header->next_offset() > header->base_offset);  // UBSan: must not overflow
    ByteSpan batch = input.first(header->total_size());
    auto reader = RecordReader::open(batch, kMaxUncompressed);
    check(reader.has_value());
    check(drain(*reader) == header->record_count);

    std::vector<Record> records;
    Bytes scratch;
    check(decode_records(batch, records, scratch).has_value());
    check(records.size() == static_cast<size_t>(header->record_count));
    // A stored batch may end before its last offset (compaction dropped its tail records);
    // only a client's batch must end on it (checked below).
    if (!records.empty()) check(records.back().offset <= header->last_offset());

    // Stamping a new base offset keeps the batch valid.
    Bytes copy(batch.begin(), batch.end());
    stamp_base_offset(copy, Offset(1'000'000));
    auto stamped = validate_batch(copy, options);
    check(stamped.has_value() && stamped->base_offset == Offset(1'000'000));
  }

  // The produce path's checks, with a decompression buffer reused across inputs: what
  // they accept, full validation accepts, and its offset deltas are 0..count-1.
  static Bytes client_scratch;
  ValidationOptions client = options;
  client.from_client = true;
  client.scratch = &client_scratch;
  if (auto accepted = validate_batch(input, client)) {
    check(header.has_value());
    check(accepted->record_count > 0 && int64_t{accepted->record_count} == int64_t{accepted->last_offset_delta} + 1);
    check(!accepted->is_control() && !accepted->is_transactional());
    check(accepted->compression() == Compression::none || accepted->compression() == Compression::zstd);
    std::vector<Record> records;
    Bytes scratch;
    check(decode_records(input.first(accepted->total_size()), records, scratch).has_value());
    check(!records.empty() && records.back().offset == accepted->last_offset());
  }

  // The reader alone, on bytes nobody validated.
  auto reader = RecordReader::open(input, kMaxUncompressed);
  if (reader) (void)drain(*reader);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan input(reinterpret_cast<const std::byte*>(data), size);
  exercise(input);

  if (size >= bf::kHeaderSize) {
    Bytes sealed(input.begin(), input.end());
    auto length = load_be<int32_t>(sealed.data() + bf::kBatchLength);
    size_t end = size;
    if (length >= 0 && bf::kLogOverhead + static_cast<size_t>(length) < size) end = bf::kLogOverhead + length;
    if (end > bf::kAttributes) {
      uint32_t crc = crc32c(ByteSpan(sealed).subspan(bf::kAttributes, end - bf::kAttributes));
      store_be<uint32_t>(sealed.data() + bf::kCrc, crc);
      exercise(sealed);
    }
  }
  return 0;
}
