// Exponential backoff with jitter for retries: base * 2^(attempt-1), capped at
// max, then scaled by a random factor in [0.8, 1.2] so clients that failed
// together do not retry together.
// Thread-safety: the caller owns `rng`.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

namespace sluice::client {

inline std::chrono::milliseconds retry_backoff(int attempt, std::chrono::milliseconds base,
                                               std::chrono::milliseconds max, std::mt19937_64& rng) {
  double exp = static_cast<double>(base.count()) * std::pow(2.0, std::max(0, attempt - 1));
  double capped = std::min(exp, static_cast<double>(std::max(base, max).count()));
  double jitter = std::uniform_real_distribution<double>(0.8, 1.2)(rng);
  return std::chrono::milliseconds(static_cast<int64_t>(capped * jitter));
}

}  // namespace sluice::client
