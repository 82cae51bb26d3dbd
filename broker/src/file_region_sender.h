// Sends ranges of segment files to a client socket with sendfile(2): the bytes
// go from the page cache to the socket without a copy through user space, which
// is most of what a fetch from the page cache costs otherwise.
// Thread-safety: runs on the socket's executor, like every other write to it.
#pragma once

#include <system_error>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include "sluice/storage/partition_log.h"

namespace sluice::broker {

// Sends every region in order. A file that ends before its region does (a
// truncation after the read) is an error: the frame's length was already sent,
// so the connection cannot continue.
// REQUIRES: the socket is in non-blocking mode (native_non_blocking(true)).
asio::awaitable<std::error_code> send_file_regions(asio::ip::tcp::socket& socket,
                                                   const std::vector<storage::FileRegion>& regions);

}  // namespace sluice::broker
