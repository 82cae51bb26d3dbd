// Fuzzes what the broker does with the bytes of one frame before any handler logic:
// splitting it into header, body and records, and parsing the header and every
// request body type. Must never crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>

#include "sluice/proto/frame.h"
#include "sluice/storage/record_batch.h"

#include "sluice.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  ByteSpan bytes(reinterpret_cast<const std::byte*>(data), size);
  auto view = wire::split_frame(bytes);
  if (!view) return 0;
  wire::RequestHeader header;
  if (!wire::parse_message(view->header, header)) return 0;
  wire::ProduceRequest produce;
  if (wire::parse_message(view->body, produce)) {
    // What the produce handler does with the records section: slice by records_size,
    // then validate each batch.
    size_t position = 0;
    for (const auto& p : produce.partitions()) {
      if (p.records_size() > view->records.size() - position) break;
      ByteSpan rest = view->records.subspan(position, p.records_size());
      position += p.records_size();
      while (!rest.empty()) {
        auto h = storage::validate_batch(
            rest, {.max_batch_bytes = 1 << 20, .check_records = true, .max_uncompressed_bytes = 4 << 20});
        if (!h) break;
        rest = rest.subspan(h->total_size());
      }
    }
  }
  wire::FetchRequest fetch;
  (void)wire::parse_message(view->body, fetch);
  wire::MetadataRequest metadata;
  (void)wire::parse_message(view->body, metadata);
  wire::CreateTopicsRequest create;
  (void)wire::parse_message(view->body, create);
  wire::ListOffsetsRequest list;
  (void)wire::parse_message(view->body, list);
  return 0;
}
