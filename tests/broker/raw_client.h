// A blocking loopback socket that speaks raw frames, for tests that must send what
// the SDK never would (garbage, truncated and oversize frames).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>

#include "sluice/proto/frame.h"

#include "sluice.pb.h"

namespace sluice::testing {

class RawClient {
 public:
  // `receive_buffer_bytes` > 0 caps the socket's receive buffer (and so the TCP
  // window), for a client that reads slowly or not at all.
  explicit RawClient(const std::string& host_port, int receive_buffer_bytes = 0) {
    auto colon = host_port.rfind(':');
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(std::stoi(host_port.substr(colon + 1))));
    inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr);
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (receive_buffer_bytes > 0) {
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes, sizeof(receive_buffer_bytes));
    }
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawClient() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool connected() const { return connected_; }

  bool send_bytes(ByteSpan bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  bool send_request(wire::ApiKey api, uint64_t correlation_id, const google::protobuf::MessageLite& body,
                    ByteSpan records = {}, uint32_t version = 0) {
    wire::RequestHeader header;
    header.set_api(api);
    header.set_version(version);
    header.set_correlation_id(correlation_id);
    header.set_client_id("raw-test");
    Bytes frame;
    wire::build_frame(header, body, {records}, frame);
    return send_bytes(frame);
  }

  struct Reply {
    wire::ResponseHeader header;
    Bytes body;
    Bytes records;
  };

  // Reads one response frame; nullopt if the broker closed the connection.
  std::optional<Reply> read_reply() {
    std::byte length[4];
    if (!read_exact(length, 4)) return std::nullopt;
    Bytes frame(load_be<uint32_t>(length));
    if (!read_exact(frame.data(), frame.size())) return std::nullopt;
    auto view = wire::split_frame(frame);
    if (!view) return std::nullopt;
    Reply reply;
    if (!wire::parse_message(view->header, reply.header)) return std::nullopt;
    reply.body.assign(view->body.begin(), view->body.end());
    reply.records.assign(view->records.begin(), view->records.end());
    return reply;
  }

  // Everything until the peer closes (for HTTP).
  std::string read_to_end() {
    std::string out;
    char buf[4096];
    while (true) {
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

  // True when the broker closed (EOF) or reset the connection rather than answering
  // within the receive timeout.
  bool closed_by_peer() {
    std::byte b;
    ssize_t n = ::recv(fd_, &b, 1, 0);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }

  template <typename Body>
  std::optional<Body> call(wire::ApiKey api, const google::protobuf::MessageLite& request, ByteSpan records = {},
                           Bytes* response_records = nullptr) {
    uint64_t id = next_id_++;
    if (!send_request(api, id, request, records)) return std::nullopt;
    return read_body<Body>(id, response_records);
  }

  // Reads the response to request `correlation_id` (sent with send_request) and
  // parses its body; nullopt if there is none, it answers another id, or it does
  // not parse.
  template <typename Body>
  std::optional<Body> read_body(uint64_t correlation_id, Bytes* response_records = nullptr) {
    auto reply = read_reply();
    if (!reply || reply->header.correlation_id() != correlation_id) return std::nullopt;
    Body body;
    if (!wire::parse_message(reply->body, body)) return std::nullopt;
    if (response_records) *response_records = reply->records;
    return body;
  }

  // True if a response (or the peer's close) is waiting to be read; neither waits
  // nor consumes it.
  bool reply_ready() {
    std::byte b;
    ssize_t n = ::recv(fd_, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n >= 0;
  }

  // Reads only a response's length prefix, leaving the rest unread; 0 on failure.
  uint32_t read_length_only() {
    std::byte length[4];
    return read_exact(length, 4) ? load_be<uint32_t>(length) : 0;
  }

 private:
  bool read_exact(std::byte* p, size_t n) {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::recv(fd_, p + done, n - done, 0);
      if (r <= 0) return false;
      done += static_cast<size_t>(r);
    }
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  uint64_t next_id_ = 1;
};

// GET `path` from the broker's HTTP endpoint; the whole response, or "" if the
// connection failed or was closed without one.
inline std::string http_get(const std::string& host_port, const std::string& path) {
  RawClient http(host_port);
  if (!http.connected()) return "";
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
  if (!http.send_bytes(as_bytes(request))) return "";
  return http.read_to_end();
}

// A counter or gauge from /metrics, e.g. `series` = `sluice_active_connections`; -1 if
// the scrape failed or the series is absent.
inline int64_t scrape_metric(const std::string& http_address, const std::string& series) {
  std::string metrics = http_get(http_address, "/metrics");
  auto at = metrics.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(metrics.substr(at + series.size() + 2));
}

}  // namespace sluice::testing
