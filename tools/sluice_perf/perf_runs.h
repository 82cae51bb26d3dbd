// The two sluice-perf workloads. Each returns the process exit code and prints
// its report (text, or one JSON line with --json) to stdout, progress and
// errors to stderr.
// Thread-safety: run from main() only.
#pragma once

#include "sluice/common/error.h"

#include "perf_options.h"

namespace sluice::tools {

int run_produce_perf(const PerfOptions& options);
int run_consume_perf(const PerfOptions& options);

// Creates the topic with options.create_partitions partitions unless it exists
// (no-op without --create-partitions).
Status ensure_topic(const PerfOptions& options);

}  // namespace sluice::tools
