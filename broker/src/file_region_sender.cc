#include "file_region_sender.h"

#include <sys/sendfile.h>

#include <cerrno>

#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

namespace sluice::broker {
namespace {

// Files without a descriptor (not used by the broker's POSIX file system) are
// copied through a buffer instead.
asio::awaitable<std::error_code> copy_region(asio::ip::tcp::socket& socket, const storage::FileRegion& region) {
  Bytes buffer(static_cast<size_t>(region.size));
  auto n = region.segment->log_file().read_at(region.position, buffer);
  if (!n || *n != buffer.size()) co_return std::make_error_code(std::errc::io_error);
  std::error_code ec;
  co_await asio::async_write(socket, asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
  co_return ec;
}

}  // namespace

asio::awaitable<std::error_code> send_file_regions(asio::ip::tcp::socket& socket,
                                                   const std::vector<storage::FileRegion>& regions) {
  for (const auto& region : regions) {
    int fd = region.segment->log_file().native_handle();
    if (fd < 0) {
      if (auto ec = co_await copy_region(socket, region)) co_return ec;
      continue;
    }
    auto offset = static_cast<off_t>(region.position);
    uint64_t left = region.size;
    while (left > 0) {
      ssize_t n = ::sendfile(socket.native_handle(), fd, &offset, static_cast<size_t>(left));
      if (n > 0) {
        left -= static_cast<uint64_t>(n);
        continue;
      }
      if (n == 0) co_return std::make_error_code(std::errc::io_error);  // the file got shorter
      if (errno == EINTR) continue;
      if (errno != EAGAIN) co_return std::error_code(errno, std::system_category());
      std::error_code ec;
      co_await socket.async_wait(asio::ip::tcp::socket::wait_write, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return ec;
    }
  }
  co_return std::error_code{};
}

}  // namespace sluice::broker
