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
  // The rewritten batch uncompressed: the header as it is, then the kept records.
  Bytes kept(batch.begin(), batch.begin() + bf::kHeaderSize);
  Record record;
  while (true) {
    auto more = reader->next(record);
    if (!more) return tl::unexpected(more.error());
    if (!*more) break;
    if (keep(record)) {
      kept.insert(kept.end(), record.encoded.begin(), record.encoded.end());
      ++out.kept;
    } else {
      ++out.dropped;
    }
  }
  if (out.dropped == 0) return out;  // unchanged
  out.outcome = out.kept == 0 ? FilteredBatch::Outcome::emptied : FilteredBatch::Outcome::rewritten;
  if (header.compression() == Compression::zstd && out.kept > 0) {
    out.bytes.assign(kept.begin(), kept.begin() + bf::kHeaderSize);
    const ByteSpan records = ByteSpan(kept).subspan(bf::kHeaderSize);
    if (auto s = append_zstd(records, options.zstd_level, out.bytes); !s) return tl::unexpected(s.error());
  } else {
    out.bytes = std::move(kept);  // uncompressed, or no records left
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
