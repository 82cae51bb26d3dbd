// The consumer-group series of /metrics, computed at scrape time from the coordinator,
// the offset store and the logs: lag per group and partition in records and seconds,
// groups by state, members and rebalances per group.
// Thread-safety: safe from any thread; reads one batch per lagging partition:
// REQUIRES it runs off the I/O thread.
#pragma once

#include <string>

#include "request_context.h"

namespace sluice::broker {

std::string render_group_metrics(const BrokerState& state);

}  // namespace sluice::broker
