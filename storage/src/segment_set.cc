#include "sluice/storage/segment_set.h"

#include <algorithm>

#include "sluice/common/log.h"

namespace sluice::storage {

size_t segment_index_for(const SegmentList& list, Offset offset) {
  auto it = std::upper_bound(list.begin(), list.end(), offset,
                             [](Offset o, const std::shared_ptr<Segment>& s) { return o < s->base_offset(); });
  return static_cast<size_t>(std::max<ptrdiff_t>(it - list.begin() - 1, 0));
}

DamagedRange hole_between(const Segment& before, const Segment& after) {
  return DamagedRange{before.next_offset(), after.base_offset(), segment_file_name(before.base_offset(), ".log"),
                      before.size()};
}

std::vector<DamagedRange> holes(const SegmentList& list, OffsetGaps gaps) {
  std::vector<DamagedRange> out;
  if (gaps == OffsetGaps::are_legal) return out;
  for (size_t i = 1; i < list.size(); ++i) {
    if (list[i - 1]->next_offset() < list[i]->base_offset()) out.push_back(hole_between(*list[i - 1], *list[i]));
  }
  return out;
}

Error hole_error(const std::string& dir, const DamagedRange& hole) {
  return Error{Errc::corrupt_data, dir + ": offsets [" + std::to_string(hole.first.value()) + ", " +
                                       std::to_string(hole.end.value()) + ") are damaged: recovery found them in " +
                                       hole.segment + " at position " + std::to_string(hole.position) +
                                       " and set the file aside in " + std::string(kQuarantineDir) +
                                       "/; the log continues at offset " + std::to_string(hole.end.value())};
}

uint64_t SegmentSet::size_bytes() const {
  uint64_t total = 0;
  for (const auto& s : *snapshot()) total += s->size();
  return total;
}

size_t SegmentSet::index_memory_bytes() const {
  size_t total = 0;
  for (const auto& s : *snapshot()) total += s->index_memory_bytes();
  return total;
}

void SegmentSet::push_back(std::shared_ptr<Segment> segment) {
  auto list = *snapshot();
  list.push_back(std::move(segment));
  publish(std::move(list));
}

Result<size_t> SegmentSet::apply_retention(int64_t now_ms, int64_t retention_ms, int64_t retention_bytes) {
  auto list = *snapshot();
  uint64_t total = 0;
  for (const auto& s : list) total += s->size();
  size_t removed = 0;
  while (list.size() > 1) {
    const Segment& oldest = *list.front();
    bool expired = retention_ms >= 0 && now_ms - oldest.max_timestamp() > retention_ms;
    bool over_size = retention_bytes >= 0 && static_cast<int64_t>(total - oldest.size()) >= retention_bytes;
    if (!expired && !over_size) break;
    if (auto s = list.front()->remove_files(); !s) return tl::unexpected(s.error());
    total -= oldest.size();
    list.erase(list.begin());
    ++removed;
  }
  if (removed > 0) publish(std::move(list));
  return removed;
}

Result<SegmentList> SegmentSet::truncated_at(Offset offset, std::atomic<int64_t>& log_end) {
  auto list = *snapshot();
  size_t keep = segment_index_for(list, offset);
  // Checks the boundary before anything changes.
  if (auto s = list[keep]->truncate_to(offset); !s) return tl::unexpected(s.error());
  // Inside a hole (or a compacted log's gap) the log ends after the last batch kept.
  log_end.store(list[keep]->next_offset().value(), std::memory_order_release);
  for (size_t i = keep + 1; i < list.size(); ++i) {
    if (auto s = list[i]->remove_files(); !s) return tl::unexpected(s.error());
  }
  list.resize(keep + 1);
  return list;
}

}  // namespace sluice::storage
