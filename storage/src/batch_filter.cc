#include "sluice/storage/batch_filter.h"

#include "sluice/storage/batch_builder.h"
#include "sluice/storage/record_batch_format.h"

namespace sluice::storage {
namespace bf = batch_format;

Result<FilteredBatch> filter_batch(ByteSpan batch, const std::function<bool(const Record&)>& keep,
                                   const FilterOptions& options) {
  auto reader = RecordReader::open(batch, options.max_uncompressed_bytes, options.scratch);
  if (!reader) return tl::unexpected(reader.error());
  const BatchHeader header = reader->header();
  FilteredBatch out;
  Bytes kept_records;
  Record record;
  while (true) {
    auto more = reader->next(record);
    if (!more) return tl::unexpected(more.error());
    if (!*more) break;
    if (keep(record)) {
      kept_records.insert(kept_records.end(), record.encoded.begin(), record.encoded.end());
      ++out.kept;
    } else {
      ++out.dropped;
    }
  }
  if (out.dropped == 0) return out;  // unchanged
  out.outcome = out.kept == 0 ? FilteredBatch::Outcome::emptied : FilteredBatch::Outcome::rewritten;
  out.bytes.assign(batch.begin(), batch.begin() + bf::kHeaderSize);
  if (header.compression() == Compression::zstd && out.kept > 0) {
    if (auto s = append_zstd(kept_records, options.zstd_level, out.bytes); !s) return tl::unexpected(s.error());
  } else if (header.compression() == Compression::none) {
    out.bytes.insert(out.bytes.end(), kept_records.begin(), kept_records.end());
  }
  std::byte* p = out.bytes.data();
  if (out.kept == 0) {  // no records section to decompress: the header says none
    store_be<int16_t>(p + bf::kAttributes, static_cast<int16_t>(header.attributes & ~bf::kCompressionMask));
  }
  store_be<int32_t>(p + bf::kBatchLength, static_cast<int32_t>(out.bytes.size() - bf::kLogOverhead));
  store_be<int32_t>(p + bf::kRecordCount, out.kept);
  seal_crc(out.bytes);
  return out;
}

}  // namespace sluice::storage
