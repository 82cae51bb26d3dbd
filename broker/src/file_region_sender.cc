#include "file_region_sender.h"

#include <sys/sendfile.h>

#include <cerrno>

#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

namespace sluice::broker {

asio::awaitable<std::error_code> send_file_regions(asio::ip::tcp::socket& socket,
                                                   const std::vector<storage::FileRegion>& regions) {
  for (const auto& region : regions) {
    // The broker's logs live on the POSIX file system, whose files all have one.
    int fd = region.segment->log_file().native_handle();
    if (fd < 0) co_return std::make_error_code(std::errc::bad_file_descriptor);
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
