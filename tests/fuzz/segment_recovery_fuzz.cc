// libFuzzer target for crash recovery (storage/FORMAT.md, "Recovery"): any bytes,
// as one or two segment files of a partition opened after a crash, must open to a
// log or fail with an error, never crash; and what the log then serves must be
// whole batches whose CRCs check and whose offsets only increase, with reads
// failing only at the holes it reports.
//
// The first input byte picks the split point of the rest into two segments (and
// whether offset gaps are legal); the second segment is named by the base offset
// stored in its first 8 bytes, so gaps and overlaps are reached.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "sluice/storage/partition_log.h"
#include "sluice/storage/record_batch.h"

namespace {

using namespace sluice;
using namespace sluice::storage;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void write_file(const std::string& path, const uint8_t* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
}

// In memory where the machine has /dev/shm: recovery syncs every file it writes,
// and on a disk that makes a run of this target a few executions a second.
const std::string& fuzz_dir() {
  static const std::string dir = (std::filesystem::is_directory("/dev/shm") ? std::filesystem::path("/dev/shm")
                                                                            : std::filesystem::temp_directory_path()) /
                                 ("sluice-recovery-fuzz-" + std::to_string(::getpid()));
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string& dir = fuzz_dir();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir);
  const uint8_t control = data[0];
  ++data, --size;
  size_t split = size == 0 ? 0 : (size * (control & 0x7f)) / 128;
  write_file(dir + "/" + segment_file_name(Offset(0), ".log"), data, split);
  if (size - split >= 8) {
    int64_t base = load_be<int64_t>(reinterpret_cast<const std::byte*>(data + split));
    if (base > 0 && base < (int64_t{1} << 40)) {
      write_file(dir + "/" + segment_file_name(Offset(base), ".log"), data + split, size - split);
    }
  }
  LogConfig config;
  config.segment_bytes = 1 << 16;
  config.index_interval_bytes = 256;
  config.durability = Durability::none;
  config.retention_ms = -1;
  config.offset_gaps = (control & 0x80) ? OffsetGaps::are_legal : OffsetGaps::are_damage;
  auto log = PartitionLog::open(posix_file_system(), dir, config);
  if (!log) return 0;
  std::vector<DamagedRange> holes = (*log)->damaged_ranges();
  Bytes buffer;
  Offset at = (*log)->log_start_offset();
  Offset previous_end = at;
  int reads = 0;
  while (at < (*log)->log_end_offset() && reads++ < 10'000) {
    auto r = (*log)->read(at, 1 << 16, buffer);
    if (!r) {
      bool in_hole = false;
      for (const DamagedRange& h : holes) {
        if (h.first <= at && at < h.end) {
          in_hole = true;
          at = h.end;
        }
      }
      check(in_hole && r.error().code == Errc::corrupt_data);
      continue;
    }
    if (r->bytes == 0) break;  // a legal gap up to the log end
    ByteSpan rest(buffer.data(), r->bytes);
    while (!rest.empty()) {
      auto h = validate_batch_crc(rest, config.max_batch_bytes);
      check(h.has_value());
      check(h->base_offset >= previous_end);
      previous_end = h->next_offset();
      rest = rest.subspan(h->total_size());
    }
    check(r->next_offset > at);
    at = r->next_offset;
  }
  check((*log)->close().has_value());
  return 0;
}
