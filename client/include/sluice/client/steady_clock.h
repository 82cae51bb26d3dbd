// The client measures its deadlines on the common steady clock seam.
#pragma once

#include "sluice/common/steady_clock.h"

namespace sluice::client {

using sluice::SteadyClock;
using sluice::SteadyTime;
using sluice::SystemSteadyClock;

}  // namespace sluice::client
