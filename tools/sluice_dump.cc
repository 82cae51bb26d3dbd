// sluice-dump: prints and checks partition logs. Given a partition directory it
// dumps every segment in base-offset order; given a `.log` file, that segment;
// given a `.index` or `.timeindex` file, its entries. Every batch's framing, CRC
// and records are checked; damage is reported and the dump goes on past it when
// the batch's length can be trusted. Files are opened read-only and never changed.
//
// Exit code: 0 when everything is clean, 1 when any damage was found, 2 on a usage
// or I/O error.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>

#include <CLI/CLI.hpp>

#include "sluice/storage/segment.h"
#include "sluice/storage/segment_scanner.h"
#include "sluice/storage/sparse_index.h"

#include "dump_format.h"
#include "main_guard.h"

namespace sluice::tools {
namespace {
using namespace storage;
namespace fs = std::filesystem;

// Exit codes: no damage found, damage found, could not read.
constexpr int kClean = 0;
constexpr int kDamaged = 1;
constexpr int kError = 2;

struct Options {
  bool records = false;
  bool full = false;
  bool gaps_legal = false;  // the partition is compacted: offset gaps are not damage
  size_t max_batch_bytes = 16u << 20;
  std::vector<std::string> paths;
};

// A File that can only be read: a dump must never change what it inspects.
class ReadOnlyFile final : public File {
 public:
  static Result<std::unique_ptr<ReadOnlyFile>> open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return make_error(Errc::io_error, "open " + path + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return make_error(Errc::io_error, "stat " + path + ": " + std::strerror(err));
    }
    return std::unique_ptr<ReadOnlyFile>(new ReadOnlyFile(fd, path, static_cast<uint64_t>(st.st_size)));
  }
  ~ReadOnlyFile() override { ::close(fd_); }

  Status append(ByteSpan) override { return refuse(); }
  Status sync() override { return refuse(); }
  Status truncate(uint64_t) override { return refuse(); }
  Result<size_t> read_at(uint64_t position, MutableByteSpan out) const override {
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(position + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return make_error(Errc::io_error, "read " + path_ + ": " + std::strerror(errno));
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }
  uint64_t size() const override { return size_; }
  const std::string& path() const override { return path_; }

 private:
  ReadOnlyFile(int fd, std::string path, uint64_t size) : fd_(fd), path_(std::move(path)), size_(size) {}
  Status refuse() const { return make_error(Errc::unsupported, path_ + " is open read-only"); }

  int fd_;
  std::string path_;
  uint64_t size_;
};

// "00000000000000000042.log" -> 42; nullopt for any other name.
std::optional<int64_t> base_offset_from_name(const fs::path& path) {
  std::string stem = path.stem().string();
  int64_t value = 0;
  auto [end, ec] = std::from_chars(stem.data(), stem.data() + stem.size(), value);
  if (stem.size() != 20 || ec != std::errc() || end != stem.data() + stem.size() || value < 0) return std::nullopt;
  return value;
}

struct SegmentSummary {
  uint64_t batches = 0;
  uint64_t records = 0;
  uint64_t bytes = 0;  // bytes of batches whose frame could be read
  uint64_t damaged_batches = 0;
  uint64_t tail_bytes = 0;  // bytes of a torn or garbled tail
};

class Dumper {
 public:
  explicit Dumper(const Options& options) : options_(options) { format_.max_bytes = options.full ? 0 : 64; }

  int dump_path(const std::string& path) {
    std::error_code ec;
    auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) return error("no such file or directory: " + path);
    if (fs::is_directory(status)) return dump_partition(path);
    std::string ext = fs::path(path).extension().string();
    if (ext == ".log") {
      SegmentSummary summary;
      int64_t next = base_offset_from_name(path).value_or(std::numeric_limits<int64_t>::min());
      return dump_segment(path, next, summary);
    }
    if (ext == ".index") return dump_index<OffsetIndexEntry>(path);
    if (ext == ".timeindex") return dump_index<TimeIndexEntry>(path);
    return error(path + ": not a partition directory, .log, .index or .timeindex file");
  }

 private:
  static int error(const std::string& message) {
    std::cout.flush();
    std::cerr << "sluice-dump: " << message << '\n';
    return kError;
  }

  int dump_partition(const std::string& dir) {
    std::vector<std::pair<int64_t, fs::path>> segments;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      auto base = base_offset_from_name(entry.path());
      if (entry.path().extension() == ".log" && base) segments.emplace_back(*base, entry.path());
    }
    if (ec) return error("cannot list " + dir + ": " + ec.message());
    if (segments.empty()) return error(dir + ": no segment files (NNNNNNNNNNNNNNNNNNNN.log)");
    std::sort(segments.begin(), segments.end());
    std::string recovery_point = "none";
    if (std::ifstream in(fs::path(dir) / "recovery-point"); in) std::getline(in, recovery_point);
    bool clean = fs::exists(fs::path(dir) / "clean-shutdown", ec);
    // A log the cleaner ever worked on has a cleaner checkpoint; its gaps are
    // legal, as the broker reads them.
    const bool compacted = fs::exists(fs::path(dir) / "cleaner-checkpoint", ec);
    const bool gaps_legal = options_.gaps_legal || compacted;
    std::cout << "partition " << dir << " segments=" << segments.size() << " recovery_point=" << recovery_point
              << " clean_shutdown=" << (clean ? "yes" : "no") << " compacted=" << (compacted ? "yes" : "no") << '\n';
    int worst = kClean;
    SegmentSummary total;
    int64_t next = std::numeric_limits<int64_t>::min();
    uint64_t missing_offsets = 0;
    for (const auto& [base, path] : segments) {
      if (next != std::numeric_limits<int64_t>::min() && base > next && !gaps_legal) {
        // What recovery leaves where it set damage aside (or a power cut lost a tail).
        std::cout << "DAMAGED missing offsets=[" << next << ", " << base << ") before " << path.filename().string()
                  << '\n';
        missing_offsets += static_cast<uint64_t>(base - next);
        worst = std::max(worst, kDamaged);
      }
      next = std::max(next, base);
      worst = std::max(worst, dump_segment(path.string(), next, total));
    }
    size_t quarantined = dump_quarantine(fs::path(dir) / std::string(kQuarantineDir));
    if (quarantined > 0) worst = std::max(worst, kDamaged);
    std::cout << "partition summary segments=" << segments.size() << " batches=" << total.batches
              << " records=" << total.records << " bytes=" << total.bytes
              << " damaged_batches=" << total.damaged_batches << " damaged_tail_bytes=" << total.tail_bytes
              << " missing_offsets=" << missing_offsets << " quarantined_files=" << quarantined << '\n';
    return worst;
  }

  // Lists the files recovery set aside, with the reason it wrote beside each.
  static size_t dump_quarantine(const fs::path& folder) {
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) return 0;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(folder, ec)) {
      if (entry.path().extension() != ".txt") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
      std::string reason;
      if (std::ifstream in(file.string() + ".txt"); in) std::getline(in, reason);
      std::cout << "QUARANTINED " << file.string() << " size=" << fs::file_size(file, ec) << " reason=\"" << reason
                << "\"\n";
    }
    return files.size();
  }

  // Dumps one segment. `next` is the lowest base offset the next batch may have;
  // it is advanced past each batch. Adds this segment's counts to `total`.
  int dump_segment(const std::string& path, int64_t& next, SegmentSummary& total) {
    auto file = ReadOnlyFile::open(path);
    if (!file) return error(file.error().to_string());
    const File& log = **file;
    std::cout << "segment " << path << " size=" << log.size() << '\n';
    SegmentScanner scanner(log, 0, log.size(), options_.max_batch_bytes);
    SegmentSummary s;
    while (true) {
      auto scanned = scanner.next();
      if (!scanned) return error(scanned.error().to_string());
      if (!*scanned) break;
      const ScannedBatch& b = **scanned;
      if (!b.can_skip) {  // the length field cannot be trusted: nothing after it is readable
        s.tail_bytes = log.size() - b.position;
        std::cout << "DAMAGED tail position=" << b.position << " bytes=" << s.tail_bytes << ": "
                  << b.status.error().to_string() << '\n';
        break;
      }
      s.batches += 1;
      s.bytes += b.bytes.size();
      if (!dump_batch(b, next, s)) s.damaged_batches += 1;
      next = std::max(next, b.header.next_offset().value());
    }
    std::cout << "summary " << path << " batches=" << s.batches << " records=" << s.records << " bytes=" << s.bytes
              << " damaged_batches=" << s.damaged_batches << " damaged_tail_bytes=" << s.tail_bytes << '\n';
    total.batches += s.batches;
    total.records += s.records;
    total.bytes += s.bytes;
    total.damaged_batches += s.damaged_batches;
    total.tail_bytes += s.tail_bytes;
    return s.damaged_batches > 0 || s.tail_bytes > 0 ? kDamaged : kClean;
  }

  // Prints a batch whose frame is whole, checks it, and prints its records with
  // --records. Returns false when the batch is damaged.
  bool dump_batch(const ScannedBatch& b, int64_t next, SegmentSummary& s) {
    const BatchHeader& h = b.header;
    CrcCheck crc = check_crc(b.bytes, h);
    std::cout << format_batch(b.position, h, crc) << '\n';
    bool ok = crc.ok();
    if (!b.status && b.status.error().code != StorageErrc::crc_mismatch) {
      std::cout << "  DAMAGED " << b.status.error().to_string() << '\n';
      ok = false;
    }
    if (h.base_offset.value() < next) {
      std::cout << "  DAMAGED base offset " << h.base_offset.value() << " is below the expected next offset " << next
                << '\n';
      ok = false;
    }
    if (h.last_offset_delta < 0 || h.record_count < 0) return false;  // already reported; records unreadable
    auto reader = RecordReader::open(b.bytes);
    if (!reader) {
      bool unsupported = reader.error().code == Errc::unsupported;
      std::cout << (unsupported ? "  NOTE records not decoded: " : "  DAMAGED ") << reader.error().to_string() << '\n';
      return ok && unsupported;
    }
    Record record;
    int64_t last_delta = -1;
    while (true) {
      auto more = reader->next(record);
      if (!more) {
        std::cout << "  DAMAGED " << more.error().to_string() << '\n';
        s.records += static_cast<uint64_t>(reader->records_read());
        return false;
      }
      if (!*more) break;
      last_delta = record.offset - h.base_offset;
      if (options_.records)
        std::cout << format_record(record, h.is_control() ? BatchKind::control : BatchKind::data, format_) << '\n';
    }
    s.records += static_cast<uint64_t>(reader->records_read());
    if (reader->records_read() != h.record_count) {
      std::cout << "  DAMAGED header says " << h.record_count << " records, found " << reader->records_read() << '\n';
      ok = false;
    } else if (h.record_count > 0 && last_delta != h.last_offset_delta) {
      std::cout << "  DAMAGED last record has offset delta " << last_delta << ", header says " << h.last_offset_delta
                << '\n';
      ok = false;
    }
    return ok;
  }

  // Prints the entries of a `.index` or `.timeindex` file and checks their order;
  // offset index entries are also checked against the segment's `.log`, if present.
  template <typename Entry>
  int dump_index(const std::string& path) {
    constexpr bool kOffsetIndex = std::is_same_v<Entry, OffsetIndexEntry>;
    auto file = ReadOnlyFile::open(path);
    if (!file) return error(file.error().to_string());
    Bytes bytes((*file)->size());
    auto n = (*file)->read_at(0, bytes);
    if (!n) return error(n.error().to_string());
    bytes.resize(*n);
    int64_t base = base_offset_from_name(path).value_or(0);
    std::unique_ptr<ReadOnlyFile> log;
    if (kOffsetIndex) {
      auto opened = ReadOnlyFile::open(fs::path(path).replace_extension(".log").string());
      if (opened) log = std::move(*opened);
    }
    std::cout << "index " << path << " size=" << bytes.size() << '\n';
    size_t count = bytes.size() / Entry::kDiskSize;
    uint64_t damaged = 0;
    auto report = [&](const std::string& what) {
      std::cout << "  DAMAGED " << what << '\n';
      ++damaged;
    };
    for (size_t i = 0; i < count; ++i) {
      Entry e = Entry::decode(bytes.data() + i * Entry::kDiskSize);
      int64_t offset = base + e.relative_offset;
      if constexpr (kOffsetIndex) {
        std::cout << "entry offset=" << offset << " relative_offset=" << e.relative_offset << " position=" << e.position
                  << '\n';
        if (log) check_index_entry(*log, e.position, offset, report);
      } else {
        std::cout << "entry timestamp=" << e.timestamp << " offset=" << offset
                  << " relative_offset=" << e.relative_offset << '\n';
      }
      if (i > 0) {
        Entry prev = Entry::decode(bytes.data() + (i - 1) * Entry::kDiskSize);
        if (e.key() < prev.key() || e.relative_offset < prev.relative_offset) report("entry out of order");
        if constexpr (kOffsetIndex) {
          if (e.position <= prev.position) report("position does not increase");
        }
      }
    }
    if (size_t rest = bytes.size() % Entry::kDiskSize; rest != 0) {
      report("trailing partial entry position=" + std::to_string(count * Entry::kDiskSize) +
             " bytes=" + std::to_string(rest));
    }
    std::cout << "summary " << path << " entries=" << count << " damaged_entries=" << damaged << '\n';
    return damaged > 0 ? kDamaged : kClean;
  }

  template <typename Report>
  static void check_index_entry(const File& log, uint32_t position, int64_t offset, Report& report) {
    std::byte header[batch_format::kLogOverhead];
    auto n = log.read_at(position, header);
    if (!n || *n < sizeof(header)) {
      report("position " + std::to_string(position) + " is past the end of " + log.path());
    } else if (int64_t at = load_be<int64_t>(header); at != offset) {
      report("position " + std::to_string(position) + " holds a batch at offset " + std::to_string(at) + ", not " +
             std::to_string(offset));
    }
  }

  Options options_;
  BytesFormat format_;
};

}  // namespace
}  // namespace sluice::tools

namespace {
int run(int argc, char** argv) {
  using namespace sluice::tools;
  Options options;
  CLI::App app{
      "Prints and checks Sluice partition logs: a partition directory (every segment in offset order), a "
      "segment .log file, or a .index / .timeindex file.\nExit code: 0 clean, 1 damage found, 2 usage or I/O error.",
      "sluice-dump"};
  app.add_flag("--records", options.records, "Also print every record: offset, timestamp, key, value, headers");
  app.add_flag("--full", options.full, "Print keys, values and headers whole instead of cutting them at 64 bytes");
  app.add_flag("--gaps-legal", options.gaps_legal,
               "Offsets missing between segments are not damage (implied for a partition with a "
               "cleaner-checkpoint, which was compacted)");
  app.add_option("--max-batch-bytes", options.max_batch_bytes, "A larger batch length counts as damage")
      ->capture_default_str()
      ->check(CLI::Range(size_t{64}, size_t{1} << 31));
  app.add_option("paths", options.paths, "Partition directories, .log, .index or .timeindex files")
      ->required()
      ->type_name("DIR|FILE");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kClean : kError;
  }
  Dumper dumper(options);
  int worst = kClean;
  for (const std::string& path : options.paths) worst = std::max(worst, dumper.dump_path(path));
  std::cout.flush();
  return worst;
}
}  // namespace

int main(int argc, char** argv) {
  return sluice::tools::run_guarded("sluice-dump", [&] { return run(argc, argv); });
}
