#include "assignor.h"

#include "range_assignor.h"
#include "uniform_assignor.h"

namespace sluice::broker::group {

const Assignor* find_assignor(std::string_view name) {
  static const UniformAssignor kUniform;
  static const RangeAssignor kRange;
  if (name == kUniform.name()) return &kUniform;
  if (name == kRange.name()) return &kRange;
  return nullptr;
}

}  // namespace sluice::broker::group
