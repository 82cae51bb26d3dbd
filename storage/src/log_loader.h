// Opening a partition log: what Kafka's LogLoader does. Lists the segment files,
// runs crash recovery where needed (see partition_log.h for the rules: a torn
// tail is cut, damage is set aside in quarantine/ with every good batch kept,
// overlapping segments are moved aside whole), makes what survived durable,
// drops the clean-shutdown marker, and loads the producers' state (from the
// snapshot after a clean close, else from the batch headers).
//
// Thread-safety: runs before the log is published, on one thread.
#pragma once

#include <string>
#include <vector>

#include "sluice/common/clock.h"
#include "sluice/common/error.h"
#include "sluice/storage/file_system.h"
#include "sluice/storage/log_config.h"
#include "sluice/storage/log_recovery.h"
#include "sluice/storage/producer_state.h"
#include "sluice/storage/segment_set.h"

namespace sluice::storage {

struct LoadedLog {
  SegmentList segments;   // never empty; the last is the active segment
  Offset recovery_point;  // every segment below the one holding it is synced
};

class LogLoader {
 public:
  // Everything passed must outlive the loader.
  LogLoader(FileSystem& fs, const std::string& dir, const LogConfig& config, Clock& clock, RecoveryReport& report)
      : fs_(fs), dir_(dir), config_(config), clock_(clock), report_(report) {}

  // Fills `producers` (cleared first) and `report_`.
  Result<LoadedLog> load(ProducerStateTable& producers);

 private:
  // Base offsets of the segment files in the directory, ascending; removes the
  // temporary files of interrupted atomic writes.
  Result<std::vector<Offset>> list_segments();
  // Removes the empty segment files a power cut left at the end of the log.
  Status remove_empty_tail(std::vector<Offset>& bases, bool clean, Offset recovery_point);
  Result<SegmentList> open_segments(const std::vector<Offset>& bases, bool clean, Offset recovery_point);
  // Whether a segment is the log's last (the only one that can have a torn tail).
  enum class LastSegment : bool { no, yes };
  // Recovery's answer to a segment whose scan found damage; the runs of good
  // batches after the damage become segments, whose bases are added to `salvaged`.
  Status handle_damage(Segment& segment, const SegmentRecovery& report, LastSegment last, Offset recovery_point,
                       std::vector<Offset>& salvaged);
  Status load_producer_state(const SegmentList& list, bool clean, ProducerStateTable& producers);
  SegmentOptions segment_options() const;

  FileSystem& fs_;
  const std::string& dir_;
  const LogConfig& config_;
  Clock& clock_;
  RecoveryReport& report_;
};

// Reads every batch header of `list` into `producers` (cleared first), as at
// `now_ms`: at open, and after a truncation.
Status rebuild_producer_state(const SegmentList& list, int64_t now_ms, ProducerStateTable& producers);

// The options a segment of a log with `config` is created or opened with.
SegmentOptions segment_options_for(const LogConfig& config);

}  // namespace sluice::storage
