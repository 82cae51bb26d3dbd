#include "sluice/proto/frame.h"

namespace sluice::wire {

Result<FrameView> split_frame(ByteSpan frame) {
  ByteReader r(frame);
  auto header_size = r.get_be<uint32_t>();
  if (!header_size) return make_error(Errc::truncated, "frame too short for a header size");
  auto header = r.get_bytes(*header_size);
  if (!header)
    return make_error(Errc::truncated, "header size " + std::to_string(*header_size) + " overruns the frame");
  auto body_size = r.get_be<uint32_t>();
  if (!body_size) return make_error(Errc::truncated, "frame too short for a body size");
  auto body = r.get_bytes(*body_size);
  if (!body) return make_error(Errc::truncated, "body size " + std::to_string(*body_size) + " overruns the frame");
  return FrameView{*header, *body, frame.subspan(r.position())};
}

void build_frame_prefix(const google::protobuf::MessageLite& header, const google::protobuf::MessageLite& body,
                        size_t records_size, Bytes& out) {
  size_t header_size = header.ByteSizeLong();
  size_t body_size = body.ByteSizeLong();
  size_t length = 4 + header_size + 4 + body_size + records_size;
  out.resize(kFrameLengthSize + 4 + header_size + 4 + body_size);
  std::byte* p = out.data();
  store_be<uint32_t>(p, static_cast<uint32_t>(length));
  store_be<uint32_t>(p + 4, static_cast<uint32_t>(header_size));
  header.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(p + 8));
  p += 8 + header_size;
  store_be<uint32_t>(p, static_cast<uint32_t>(body_size));
  body.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(p + 4));
}

void build_frame(const google::protobuf::MessageLite& header, const google::protobuf::MessageLite& body,
                 std::initializer_list<ByteSpan> records, Bytes& out) {
  size_t records_size = 0;
  for (ByteSpan r : records) records_size += r.size();
  build_frame_prefix(header, body, records_size, out);
  size_t at = out.size();
  out.resize(at + records_size);
  std::byte* p = out.data() + at;
  for (ByteSpan r : records) {
    if (r.empty()) continue;  // an empty span may have a null data pointer
    std::memcpy(p, r.data(), r.size());
    p += r.size();
  }
}

bool parse_message(ByteSpan bytes, google::protobuf::MessageLite& message) {
  return message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

}  // namespace sluice::wire
