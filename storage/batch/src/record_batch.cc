#include "sluice/storage/record_batch.h"

#include <zstd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

#include "sluice/common/crc32c.h"

namespace sluice::storage {
namespace bf = batch_format;

Result<BatchHeader> read_batch_header(ByteSpan b) {
  if (b.size() < bf::kHeaderSize) {
    return make_error(Errc::truncated, "batch header needs " + std::to_string(bf::kHeaderSize) + " bytes, have " +
                                           std::to_string(b.size()));
  }
  return decode_batch_header(b.data());
}

Result<BatchHeader> validate_batch_framing(ByteSpan b, size_t max_batch_bytes) {
  auto header = read_batch_header(b);
  if (!header) return header;
  const BatchHeader& h = *header;
  // Messages are built only on the error paths: this runs for every batch appended and read.
  auto at = [&] { return "batch at offset " + std::to_string(h.base_offset.value()); };
  if (h.magic != bf::kMagicV2) {
    return make_error(StorageErrc::wrong_magic, at() + ": magic " + std::to_string(h.magic) + ", expected 2");
  }
  if (h.batch_length < static_cast<int32_t>(bf::kHeaderSize - bf::kLogOverhead)) {
    return make_error(Errc::corrupt_data,
                      at() + ": batch length " + std::to_string(h.batch_length) + " is below the header size");
  }
  if (h.total_size() > max_batch_bytes) {
    return make_error(StorageErrc::batch_too_large, at() + ": " + std::to_string(h.total_size()) +
                                                        " bytes exceeds the limit of " +
                                                        std::to_string(max_batch_bytes));
  }
  if (h.total_size() > b.size()) {
    return make_error(Errc::truncated, at() + ": batch length says " + std::to_string(h.total_size()) +
                                           " bytes, only " + std::to_string(b.size()) + " available");
  }
  if (h.last_offset_delta < 0 || h.record_count < 0) {
    return make_error(Errc::corrupt_data, at() + ": negative last offset delta or record count");
  }
  // The CRC does not cover the base offset; next_offset() must not overflow.
  if (h.base_offset.value() > INT64_MAX - 1 - h.last_offset_delta) {
    return make_error(Errc::corrupt_data, at() + ": base offset plus last offset delta overflows int64");
  }
  return header;
}

Result<BatchHeader> validate_batch_crc(ByteSpan b, size_t max_batch_bytes) {
  auto header = validate_batch_framing(b, max_batch_bytes);
  if (!header) return header;
  const BatchHeader& h = *header;
  auto at = [&] { return "batch at offset " + std::to_string(h.base_offset.value()); };
  uint32_t computed = crc32c(b.subspan(bf::kAttributes, h.total_size() - bf::kAttributes));
  if (computed != h.crc) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), ": stored crc 0x%08x, computed 0x%08x", h.crc, computed);
    return make_error(StorageErrc::crc_mismatch, at() + buf);
  }
  return header;
}

namespace {

std::string unsupported_codec(const BatchHeader& h) {
  return "compression codec " + std::to_string(static_cast<int>(h.compression())) +
         " is not supported (only none and zstd)";
}

// What validate_batch's from_client refuses by the header alone.
Status check_client_header(const BatchHeader& h) {
  auto at = [&] { return "batch at offset " + std::to_string(h.base_offset.value()) + ": "; };
  if (h.compression() != Compression::none && h.compression() != Compression::zstd) {
    return make_error(StorageErrc::unsupported_compression, at() + unsupported_codec(h));
  }
  if (h.is_control()) {
    return make_error(StorageErrc::invalid_record,
                      at() +
                          "control batches (transaction markers) are written by the broker, "
                          "never by a client");
  }
  if (h.is_transactional()) {
    return make_error(StorageErrc::invalid_record,
                      at() + "transactional batches are refused: this broker has no transaction coordinator yet");
  }
  if (h.record_count == 0)
    return make_error(StorageErrc::invalid_record, at() + "a batch must hold at least one record");
  if (int64_t{h.record_count} != int64_t{h.last_offset_delta} + 1) {
    return make_error(StorageErrc::invalid_record,
                      at() + "record count " + std::to_string(h.record_count) + " does not match last offset delta " +
                          std::to_string(h.last_offset_delta) + " (a client's batch has offset deltas 0..count-1)");
  }
  return {};
}

}  // namespace

Result<BatchHeader> validate_batch(ByteSpan b, const ValidationOptions& options) {
  auto header = validate_batch_crc(b, options.max_batch_bytes);
  if (!header) return header;
  if (options.from_client) {
    if (auto s = check_client_header(*header); !s) return tl::unexpected(s.error());
  }
  if (!options.check_records) return header;
  const BatchHeader& h = *header;
  std::string at = "batch at offset " + std::to_string(h.base_offset.value());
  auto reader = RecordReader::open(b.first(h.total_size()), options.max_uncompressed_bytes, options.scratch);
  if (!reader) return tl::unexpected(reader.error());
  Record record;
  int64_t last_delta = -1;
  while (true) {
    auto more = reader->next(record);
    if (!more) return tl::unexpected(more.error());
    if (!*more) break;
    last_delta = record.offset - h.base_offset;
    if (options.require_keys && !record.key) {
      return make_error(StorageErrc::invalid_record, at + ": record at offset delta " + std::to_string(last_delta) +
                                                         " has no key; a compacted topic keeps records by key, "
                                                         "so every record needs one");
    }
  }
  if (reader->records_read() != h.record_count) {
    return make_error(StorageErrc::record_count_mismatch, at + ": header says " + std::to_string(h.record_count) +
                                                              " records, found " +
                                                              std::to_string(reader->records_read()));
  }
  // A cleaned batch (compaction) keeps its last offset delta when its last record went:
  // only a client's batch must end on it.
  if (options.from_client && h.record_count > 0 && last_delta != h.last_offset_delta) {
    return make_error(StorageErrc::offset_delta_not_monotonic, at + ": last record has offset delta " +
                                                                   std::to_string(last_delta) + ", header says " +
                                                                   std::to_string(h.last_offset_delta));
  }
  return header;
}

void stamp_base_offset(MutableByteSpan batch, Offset base_offset) {
  store_be<int64_t>(batch.data() + bf::kBaseOffset, base_offset.value());
}

RecordReader::RecordReader(BatchHeader header, ByteSpan records, Bytes decompressed)
    : header_(header),
      decompressed_(std::move(decompressed)),
      records_(decompressed_.empty() ? records : ByteSpan(decompressed_)) {}

namespace {

// zstd's smallest window and its decoder's default cap (ZSTD_WINDOWLOG_ABSOLUTEMIN and
// ZSTD_WINDOWLOG_LIMIT_DEFAULT, which only its static-linking API names).
constexpr int kMinWindowLog = 10;
constexpr int kDefaultMaxWindowLog = 27;

// One context per thread, reused: creating one costs more than decompressing a small batch.
ZSTD_DCtx* thread_dctx() {
  struct Free {
    void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
  };
  thread_local std::unique_ptr<ZSTD_DCtx, Free> dctx(ZSTD_createDCtx());
  return dctx.get();
}

// Decompresses every frame of `in` to the front of `out`, which grows as needed
// (never past max_out) but never shrinks; returns the bytes produced.
Result<size_t> zstd_decompress(ByteSpan in, size_t max_out, Bytes& out) {
  ZSTD_DCtx* dctx = thread_dctx();
  if (!dctx) return make_error(StorageErrc::compression_error, "cannot allocate a zstd context");
  auto too_large = [&] {
    return make_error(StorageErrc::batch_too_large,
                      "decompressed records exceed the limit of " + std::to_string(max_out) + " bytes");
  };
  auto zstd_error = [](size_t code) {
    return make_error(StorageErrc::compression_error, std::string("zstd: ") + ZSTD_getErrorName(code));
  };
  ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
  // One frame that declares its content size (what ZSTD_compress writes) is checked
  // against the cap before anything is allocated, then decompressed in one call
  // with no window buffer.
  unsigned long long declared = ZSTD_getFrameContentSize(in.data(), in.size());
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR &&
      ZSTD_findFrameCompressedSize(in.data(), in.size()) == in.size()) {
    if (declared > max_out) return too_large();
    if (out.size() < declared) out.resize(declared);
    size_t n = ZSTD_decompressDCtx(dctx, out.data(), declared, in.data(), in.size());
    if (ZSTD_isError(n)) return zstd_error(n);
    return n;
  }
  // Otherwise (or undecodable: the stream reports why) stream into `out`, growing
  // it up to max_out; the window a frame may ask for is bounded by max_out too.
  int window_log = kMinWindowLog;
  while (window_log < kDefaultMaxWindowLog && (size_t{1} << window_log) < max_out) ++window_log;
  ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, window_log);
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  if (out.empty()) out.resize(std::min(max_out, std::max<size_t>(in.size() * 4, 4096)));
  size_t produced = 0;
  while (true) {
    ZSTD_outBuffer output{out.data() + produced, out.size() - produced, 0};
    size_t ret = ZSTD_decompressStream(dctx, &output, &input);
    produced += output.pos;
    if (ZSTD_isError(ret)) return zstd_error(ret);
    if (ret == 0 && input.pos == input.size) return produced;  // frame complete, input consumed
    if (ret == 0) continue;                                    // another frame follows
    if (input.pos == input.size && output.pos < output.size) {
      return make_error(StorageErrc::compression_error, "zstd: truncated frame");
    }
    if (produced == out.size()) {
      if (out.size() >= max_out) return too_large();
      out.resize(std::min(max_out, out.size() * 2));
    }
  }
}

}  // namespace

Result<RecordReader> RecordReader::open(ByteSpan batch, size_t max_uncompressed_bytes, Bytes* scratch) {
  auto header = read_batch_header(batch);
  if (!header) return tl::unexpected(header.error());
  if (header->total_size() > batch.size() || header->total_size() < bf::kHeaderSize) {
    return make_error(Errc::truncated, "batch length does not match the available bytes");
  }
  ByteSpan body = batch.subspan(bf::kRecords, header->total_size() - bf::kRecords);
  switch (header->compression()) {
    case Compression::none: return RecordReader(*header, body);
    case Compression::zstd: {
      Bytes owned;
      auto n = zstd_decompress(body, max_uncompressed_bytes, scratch ? *scratch : owned);
      if (!n) return tl::unexpected(n.error());
      if (scratch) return RecordReader(*header, ByteSpan(*scratch).first(*n));
      owned.resize(*n);
      return RecordReader(*header, {}, std::move(owned));
    }
    default: return make_error(Errc::unsupported, unsupported_codec(*header));
  }
}

Result<bool> RecordReader::next(Record& out) {
  if (pos_ >= records_.size()) return false;
  auto fail = [&](const char* what) {
    return make_error(Errc::corrupt_data, "record " + std::to_string(read_) + " of batch at offset " +
                                              std::to_string(header_.base_offset.value()) + ": " + what);
  };
  ByteReader outer(records_.subspan(pos_));
  auto length = outer.get_varint32();
  if (!length || *length < 0) return fail("bad record length");
  auto body = outer.get_bytes(static_cast<size_t>(*length));
  if (!body) return fail("record length past the end of the batch");
  ByteReader r(*body);
  auto attributes = r.get_be<int8_t>();
  auto ts_delta = r.get_varint();
  auto offset_delta = r.get_varint32();
  if (!attributes || !ts_delta || !offset_delta) return fail("truncated record fields");
  if (*offset_delta <= previous_delta_)
    return make_error(StorageErrc::offset_delta_not_monotonic,
                      "record " + std::to_string(read_) + " of batch at offset " +
                          std::to_string(header_.base_offset.value()) + ": offset delta " +
                          std::to_string(*offset_delta) + " after " + std::to_string(previous_delta_));
  if (*offset_delta > header_.last_offset_delta)
    return make_error(StorageErrc::offset_delta_not_monotonic,
                      "record offset delta " + std::to_string(*offset_delta) + " beyond the batch's last offset delta");
  auto read_nullable = [&](std::optional<ByteSpan>& dst) -> bool {
    auto len = r.get_varint32();
    if (!len || *len < -1) return false;
    if (*len == -1) {
      dst.reset();
      return true;
    }
    auto bytes = r.get_bytes(static_cast<size_t>(*len));
    if (!bytes) return false;
    dst = *bytes;
    return true;
  };
  if (!read_nullable(out.key)) return fail("bad key");
  if (!read_nullable(out.value)) return fail("bad value");
  auto header_count = r.get_varint32();
  if (!header_count || *header_count < 0 || static_cast<size_t>(*header_count) > r.remaining())
    return fail("bad header count");
  out.headers.clear();
  for (int32_t i = 0; i < *header_count; ++i) {
    auto key_len = r.get_varint32();
    if (!key_len || *key_len < 0) return fail("bad header key length");
    auto key = r.get_bytes(static_cast<size_t>(*key_len));
    if (!key) return fail("header key past the end");
    RecordHeader h{as_string_view(*key), std::nullopt};
    if (!read_nullable(h.value)) return fail("bad header value");
    out.headers.push_back(h);
  }
  if (r.remaining() != 0) return fail("trailing bytes inside the record");
  // Both sums come from untrusted bytes (the CRC does not cover the base offset).
  int64_t timestamp = 0;
  int64_t offset = 0;
  if (__builtin_add_overflow(header_.base_timestamp, *ts_delta, &timestamp)) return fail("timestamp overflows int64");
  if (__builtin_add_overflow(header_.base_offset.value(), int64_t{*offset_delta}, &offset)) {
    return fail("offset overflows int64");
  }
  out.attributes = *attributes;
  out.timestamp = timestamp;
  out.offset = Offset(offset);
  previous_delta_ = *offset_delta;
  out.encoded = records_.subspan(pos_, outer.position());
  pos_ += outer.position();
  ++read_;
  return true;
}

Status decode_records(ByteSpan batch, std::vector<Record>& out, Bytes& scratch) {
  out.clear();
  auto reader = RecordReader::open(batch);
  if (!reader) return tl::unexpected(reader.error());
  Record record;
  while (true) {
    auto more = reader->next(record);
    if (!more) return tl::unexpected(more.error());
    if (!*more) break;
    out.push_back(record);
  }
  scratch = reader->release_decompressed();
  return {};
}

Result<ControlRecord> parse_control_record(const Record& record) {
  if (!record.key || record.key->size() < 4) return make_error(Errc::corrupt_data, "control record key too short");
  int16_t type = load_be<int16_t>(record.key->data() + 2);
  if (type != 0 && type != 1)
    return make_error(Errc::corrupt_data, "unknown control record type " + std::to_string(type));
  ControlRecord control{static_cast<ControlType>(type), 0};
  if (record.value && record.value->size() >= 6) control.coordinator_epoch = load_be<int32_t>(record.value->data() + 2);
  return control;
}

}  // namespace sluice::storage
