#include "sluice/storage/io_throttle.h"

#include <algorithm>
#include <cmath>

namespace sluice::storage {

IoThrottle::IoThrottle(double bytes_per_second)
    : bytes_per_second_(std::isfinite(bytes_per_second) && bytes_per_second > 0 ? bytes_per_second : 0) {
  credit_ = bytes_per_second_ * std::chrono::duration<double>(kBurst).count();
}

IoThrottle::Pace IoThrottle::pace(double credit, std::chrono::nanoseconds elapsed, uint64_t bytes,
                                  double bytes_per_second) {
  const double burst = bytes_per_second * std::chrono::duration<double>(kBurst).count();
  credit = std::min(burst, credit + bytes_per_second * std::chrono::duration<double>(elapsed).count());
  credit -= static_cast<double>(bytes);
  if (credit >= 0) return Pace{std::chrono::nanoseconds{0}, credit};
  const auto pause =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(-credit / bytes_per_second));
  return Pace{pause, 0};
}

void IoThrottle::record(uint64_t bytes) {
  std::lock_guard paced(pace_mu_);
  std::unique_lock lock(mu_);
  bytes_recorded_ += bytes;
  if (bytes_per_second_ == 0 || stopping_) return;
  const Clock::time_point now = Clock::now();
  const Pace next = pace(credit_, now - last_, bytes, bytes_per_second_);
  credit_ = next.credit;
  last_ = now;
  if (next.pause.count() == 0) return;
  // The debt is paid by the end of the pause: the bucket refills from then.
  stopped_.wait_for(lock, next.pause, [this] { return stopping_; });
  last_ = Clock::now();
  time_paused_ += last_ - now;
}

void IoThrottle::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  stopped_.notify_all();
}

uint64_t IoThrottle::bytes_recorded() const {
  std::lock_guard lock(mu_);
  return bytes_recorded_;
}

std::chrono::nanoseconds IoThrottle::time_paused() const {
  std::lock_guard lock(mu_);
  return time_paused_;
}

}  // namespace sluice::storage
