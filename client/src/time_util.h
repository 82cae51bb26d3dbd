// Deadlines from durations without overflow (a duration of milliseconds::max()
// means "no limit"); the clock they are measured on is in steady_clock.h.
#pragma once

#include <chrono>

#include "sluice/client/steady_clock.h"

namespace sluice::client {

inline SteadyTime deadline_after(std::chrono::milliseconds d, SteadyTime now) {
  constexpr auto kFar = std::chrono::hours(24 * 365 * 100);
  if (d >= std::chrono::duration_cast<std::chrono::milliseconds>(kFar)) return now + kFar;
  if (d.count() < 0) return now;
  return now + d;
}

}  // namespace sluice::client
