// The completion condition for asio::async_read / async_write of whole frames on
// both ends of a connection.
//
// asio's own transfer_all hands the socket at most 64 KiB per read_some or
// write_some (asio::default_max_transfer_size), so a 1 MiB produce request took 16
// send()s on the client and 16 recv()s on the broker, each a trip through the
// event loop. This one offers everything that is left in one call; the kernel
// still takes only what fits in the socket buffer.
#pragma once

#include <cstddef>
#include <limits>
#include <system_error>

namespace sluice::wire {

struct TransferAll {
  size_t operator()(const std::error_code& error, size_t /*transferred*/) const {
    return error ? 0 : std::numeric_limits<size_t>::max();
  }
};

}  // namespace sluice::wire
