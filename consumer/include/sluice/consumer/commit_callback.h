// What commit_async() calls when its commit completed: the offsets it sent and the
// outcome (the first refused partition's error, or a failed request).
// Called from the consumer's poll(), commit_sync() or close(), on the caller's thread.
#pragma once

#include <functional>
#include <map>

#include "sluice/client/group_offsets.h"
#include "sluice/client/types.h"
#include "sluice/common/error.h"

namespace sluice::consumer {

using CommitCallback = std::function<void(const std::map<client::TopicPartition, client::OffsetAndMetadata>& offsets,
                                          const Status& status)>;

}  // namespace sluice::consumer
