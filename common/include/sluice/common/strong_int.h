// Strong integer types for identifiers, so an offset cannot be passed where a
// partition id is expected. Thread-safety: plain value types.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace sluice {

template <typename Tag, typename Rep>
class StrongInt {
 public:
  using rep = Rep;
  constexpr StrongInt() = default;
  constexpr explicit StrongInt(Rep v) : value_(v) {}
  constexpr Rep value() const { return value_; }
  constexpr auto operator<=>(const StrongInt&) const =
      default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 misreads it
  constexpr StrongInt operator+(Rep d) const { return StrongInt(value_ + d); }
  constexpr StrongInt operator-(Rep d) const { return StrongInt(value_ - d); }
  constexpr Rep operator-(StrongInt o) const { return value_ - o.value_; }
  constexpr StrongInt& operator+=(Rep d) {
    value_ += d;
    return *this;
  }

 private:
  Rep value_{};
};

// Absolute position of a record in a partition.
using Offset = StrongInt<struct OffsetTag, int64_t>;
using PartitionId = StrongInt<struct PartitionIdTag, int32_t>;
using ProducerId = StrongInt<struct ProducerIdTag, int64_t>;
using ProducerEpoch = StrongInt<struct ProducerEpochTag, int16_t>;
// Milliseconds since the Unix epoch, as Kafka timestamps.
using TimestampMs = StrongInt<struct TimestampMsTag, int64_t>;

}  // namespace sluice

template <typename Tag, typename Rep>
struct std::hash<sluice::StrongInt<Tag, Rep>> {
  size_t operator()(sluice::StrongInt<Tag, Rep> v) const noexcept { return std::hash<Rep>{}(v.value()); }
};
