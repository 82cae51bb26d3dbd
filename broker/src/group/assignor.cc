#include "assignor.h"

#include "range_assignor.h"
#include "uniform_assignor.h"

namespace sluice::broker::group {

const Assignor* find_assignor(std::string_view name) {
  static const UniformAssignor uniform;
  static const RangeAssignor range;
  if (name == uniform.name()) return &uniform;
  if (name == range.name()) return &range;
  return nullptr;
}

}  // namespace sluice::broker::group
