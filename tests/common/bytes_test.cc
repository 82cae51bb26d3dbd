#include "sluice/common/bytes.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace sluice {
namespace {

Bytes bytes_of(std::initializer_list<int> values) {
  Bytes out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

Bytes encode_varint(int64_t v) {
  Bytes out;
  ByteWriter(out).put_varint(v);
  return out;
}

std::optional<int64_t> decode_varint(const Bytes& b) {
  ByteReader r(b);
  return r.get_varint();
}

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

TEST(ZigZag, KnownMappings) {
  EXPECT_EQ(zigzag_encode(0), 0u);
  EXPECT_EQ(zigzag_encode(-1), 1u);
  EXPECT_EQ(zigzag_encode(1), 2u);
  EXPECT_EQ(zigzag_encode(-2), 3u);
  EXPECT_EQ(zigzag_encode(kMax), 0xFFFFFFFFFFFFFFFEull);
  EXPECT_EQ(zigzag_encode(kMin), 0xFFFFFFFFFFFFFFFFull);
  static_assert(zigzag_decode(zigzag_encode(kMin)) == kMin);
  static_assert(zigzag_decode(zigzag_encode(kMax)) == kMax);
}

TEST(ZigZag, RoundTripsExtremesAndBoundaries) {
  std::vector<int64_t> values = {0, 1, -1, 63, -64, 64, -65, kMin, kMax, kMin + 1, kMax - 1};
  for (int shift = 0; shift < 63; ++shift) {
    int64_t p = int64_t{1} << shift;
    for (int64_t v : {p - 1, p, p + 1, -p, -p - 1, -p + 1}) values.push_back(v);
  }
  for (int64_t v : values) EXPECT_EQ(zigzag_decode(zigzag_encode(v)), v) << v;
}

TEST(Varint, KafkaEncodingsOfSmallValues) {
  EXPECT_EQ(encode_varint(0), bytes_of({0x00}));
  EXPECT_EQ(encode_varint(-1), bytes_of({0x01}));
  EXPECT_EQ(encode_varint(1), bytes_of({0x02}));
  EXPECT_EQ(encode_varint(63), bytes_of({0x7E}));
  EXPECT_EQ(encode_varint(-64), bytes_of({0x7F}));
  EXPECT_EQ(encode_varint(64), bytes_of({0x80, 0x01}));
  EXPECT_EQ(encode_varint(-65), bytes_of({0x81, 0x01}));
  EXPECT_EQ(encode_varint(300), bytes_of({0xD8, 0x04}));
}

TEST(Varint, Int64MinAndMaxTakeTenBytes) {
  EXPECT_EQ(encode_varint(kMin), bytes_of({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}));
  EXPECT_EQ(encode_varint(kMax), bytes_of({0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}));
  EXPECT_EQ(decode_varint(encode_varint(kMin)), kMin);
  EXPECT_EQ(decode_varint(encode_varint(kMax)), kMax);
  EXPECT_EQ(varint_size(kMin), 10u);
  EXPECT_EQ(varint_size(kMax), 10u);
}

TEST(Varint, RoundTripsAtEverySizeBoundary) {
  std::vector<int64_t> values = {0, -1, 1, kMin, kMax};
  // The zig-zag value crosses a 7-bit boundary at +/-2^(7k-1).
  for (int k = 1; k <= 9; ++k) {
    int64_t edge = int64_t{1} << (7 * k - 1);
    for (int64_t v : {edge - 1, edge, -edge, -edge - 1}) values.push_back(v);
  }
  for (int64_t v : values) {
    Bytes b = encode_varint(v);
    EXPECT_EQ(b.size(), varint_size(v)) << v;
    ByteReader r(b);
    EXPECT_EQ(r.get_varint(), v);
    EXPECT_EQ(r.remaining(), 0u) << v;
  }
  // Sizes grow exactly at the boundaries.
  for (int k = 1; k <= 9; ++k) {
    int64_t edge = int64_t{1} << (7 * k - 1);
    EXPECT_EQ(varint_size(edge - 1), static_cast<size_t>(k)) << k;
    EXPECT_EQ(varint_size(edge), static_cast<size_t>(k + 1)) << k;
    EXPECT_EQ(varint_size(-edge), static_cast<size_t>(k)) << k;
    EXPECT_EQ(varint_size(-edge - 1), static_cast<size_t>(k + 1)) << k;
  }
}

TEST(Varint, RandomRoundTripsInSequence) {
  std::mt19937_64 rng(42);
  std::vector<int64_t> values;
  for (int i = 0; i < 10000; ++i) {
    auto v = static_cast<int64_t>(rng());
    values.push_back(v >> (rng() % 64));  // spread over all sizes
  }
  Bytes buf;
  ByteWriter w(buf);
  size_t expected_size = 0;
  for (int64_t v : values) {
    w.put_varint(v);
    expected_size += varint_size(v);
  }
  EXPECT_EQ(buf.size(), expected_size);
  ByteReader r(buf);
  for (int64_t v : values) ASSERT_EQ(r.get_varint(), v);
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(r.get_varint(), std::nullopt);
}

TEST(Varint, UnsignedRoundTripsAndSizes) {
  for (uint64_t v : {uint64_t{0}, uint64_t{127}, uint64_t{128}, uint64_t{16383}, uint64_t{16384},
                     std::numeric_limits<uint64_t>::max()}) {
    Bytes b;
    ByteWriter(b).put_uvarint(v);
    EXPECT_EQ(b.size(), uvarint_size(v));
    ByteReader r(b);
    EXPECT_EQ(r.get_uvarint(), v);
  }
  EXPECT_EQ(uvarint_size(std::numeric_limits<uint64_t>::max()), 10u);
}

TEST(Varint, EmptyInputReturnsNullopt) {
  Bytes empty;
  ByteReader r(empty);
  EXPECT_EQ(r.get_uvarint(), std::nullopt);
  EXPECT_EQ(r.get_varint(), std::nullopt);
  EXPECT_EQ(r.get_varint32(), std::nullopt);
}

TEST(Varint, TruncatedVarintReturnsNullopt) {
  for (int64_t v : {int64_t{64}, int64_t{1} << 20, kMin, kMax}) {
    Bytes b = encode_varint(v);
    for (size_t cut = 0; cut < b.size(); ++cut) {
      Bytes prefix(b.begin(), b.begin() + static_cast<ptrdiff_t>(cut));
      EXPECT_EQ(decode_varint(prefix), std::nullopt) << v << " cut at " << cut;
    }
  }
  EXPECT_EQ(decode_varint(bytes_of({0x80})), std::nullopt);
  EXPECT_EQ(decode_varint(bytes_of({0xFF, 0xFF, 0xFF})), std::nullopt);
}

TEST(Varint, OverlongVarintReturnsNullopt) {
  // Eleven bytes: the tenth still has its continuation bit set.
  EXPECT_EQ(decode_varint(bytes_of({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x81, 0x00})), std::nullopt);
  Bytes many(20, std::byte{0x80});
  many.push_back(std::byte{0x00});
  EXPECT_EQ(decode_varint(many), std::nullopt);
}

TEST(Varint, NonMinimalButShortEncodingIsAccepted) {
  // 0x80 0x00 is a two-byte zero: valid LEB128, like Kafka's decoder.
  EXPECT_EQ(decode_varint(bytes_of({0x80, 0x00})), 0);
}

TEST(Varint, Varint32RejectsValuesOutsideInt32) {
  auto decode32 = [](int64_t v) {
    Bytes b = encode_varint(v);
    ByteReader r(b);
    return r.get_varint32();
  };
  EXPECT_EQ(decode32(std::numeric_limits<int32_t>::max()), std::numeric_limits<int32_t>::max());
  EXPECT_EQ(decode32(std::numeric_limits<int32_t>::min()), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(decode32(-1), -1);
  EXPECT_EQ(decode32(int64_t{std::numeric_limits<int32_t>::max()} + 1), std::nullopt);
  EXPECT_EQ(decode32(int64_t{std::numeric_limits<int32_t>::min()} - 1), std::nullopt);
  EXPECT_EQ(decode32(kMin), std::nullopt);
  EXPECT_EQ(decode32(kMax), std::nullopt);
}

TEST(BigEndian, StoreWritesMostSignificantByteFirst) {
  std::byte buf[8];
  store_be<uint16_t>(buf, 0x0102);
  EXPECT_EQ(Bytes(buf, buf + 2), bytes_of({0x01, 0x02}));
  store_be<int32_t>(buf, 0x01020304);
  EXPECT_EQ(Bytes(buf, buf + 4), bytes_of({0x01, 0x02, 0x03, 0x04}));
  store_be<int64_t>(buf, 0x0102030405060708);
  EXPECT_EQ(Bytes(buf, buf + 8), bytes_of({0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}));
  store_be<int32_t>(buf, -2);
  EXPECT_EQ(Bytes(buf, buf + 4), bytes_of({0xFF, 0xFF, 0xFF, 0xFE}));
  store_be<int8_t>(buf, -128);
  EXPECT_EQ(buf[0], std::byte{0x80});
}

TEST(BigEndian, LoadReadsMostSignificantByteFirst) {
  Bytes b = bytes_of({0x80, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07});
  EXPECT_EQ(load_be<uint8_t>(b.data()), 0x80u);
  EXPECT_EQ(load_be<int8_t>(b.data()), -128);
  EXPECT_EQ(load_be<uint16_t>(b.data()), 0x8001u);
  EXPECT_EQ(load_be<int16_t>(b.data()), static_cast<int16_t>(0x8001));
  EXPECT_EQ(load_be<uint32_t>(b.data()), 0x80010203u);
  EXPECT_EQ(load_be<int64_t>(b.data()), static_cast<int64_t>(0x8001020304050607ull));
}

TEST(BigEndian, RoundTripsExtremesAtUnalignedAddresses) {
  Bytes buf(24);
  for (size_t at = 0; at < 8; ++at) {
    store_be<int64_t>(buf.data() + at, kMin);
    EXPECT_EQ(load_be<int64_t>(buf.data() + at), kMin);
    store_be<int64_t>(buf.data() + at, kMax);
    EXPECT_EQ(load_be<int64_t>(buf.data() + at), kMax);
    store_be<int32_t>(buf.data() + at, std::numeric_limits<int32_t>::min());
    EXPECT_EQ(load_be<int32_t>(buf.data() + at), std::numeric_limits<int32_t>::min());
    store_be<int16_t>(buf.data() + at, -1);
    EXPECT_EQ(load_be<int16_t>(buf.data() + at), -1);
    store_be<uint32_t>(buf.data() + at, 0xDEADBEEFu);
    EXPECT_EQ(load_be<uint32_t>(buf.data() + at), 0xDEADBEEFu);
  }
}

TEST(ByteWriterReader, FixedWidthSequenceRoundTrips) {
  Bytes buf;
  ByteWriter w(buf);
  w.put_be<int8_t>(-5);
  w.put_be<int16_t>(-300);
  w.put_be<int32_t>(123456789);
  w.put_be<int64_t>(kMin);
  w.put_be<uint32_t>(0xFFFFFFFFu);
  EXPECT_EQ(w.size(), 1u + 2 + 4 + 8 + 4);
  ByteReader r(buf);
  EXPECT_EQ(r.get_be<int8_t>(), -5);
  EXPECT_EQ(r.get_be<int16_t>(), -300);
  EXPECT_EQ(r.get_be<int32_t>(), 123456789);
  EXPECT_EQ(r.get_be<int64_t>(), kMin);
  EXPECT_EQ(r.get_be<uint32_t>(), 0xFFFFFFFFu);
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(ByteWriterReader, TruncatedFixedWidthReturnsNulloptWithoutAdvancing) {
  Bytes buf = bytes_of({1, 2, 3});
  ByteReader r(buf);
  EXPECT_EQ(r.get_be<int32_t>(), std::nullopt);
  EXPECT_EQ(r.position(), 0u);
  EXPECT_EQ(r.get_be<int16_t>(), 0x0102);
  EXPECT_EQ(r.get_be<int16_t>(), std::nullopt);
  EXPECT_EQ(r.get_be<int8_t>(), 3);
  EXPECT_EQ(r.get_be<int8_t>(), std::nullopt);
}

TEST(ByteWriterReader, GetBytesChecksBounds) {
  Bytes buf = bytes_of({1, 2, 3, 4});
  ByteReader r(buf);
  EXPECT_EQ(r.get_bytes(5), std::nullopt);
  EXPECT_EQ(r.position(), 0u);
  auto first = r.get_bytes(3);
  ASSERT_TRUE(first);
  EXPECT_EQ(Bytes(first->begin(), first->end()), bytes_of({1, 2, 3}));
  EXPECT_EQ(r.get_bytes(2), std::nullopt);
  auto empty = r.get_bytes(0);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(r.get_bytes(std::numeric_limits<size_t>::max()), std::nullopt);
}

TEST(ByteWriterReader, StringViewConversionsRoundTrip) {
  std::string_view s("sluice\0log", 10);
  Bytes buf;
  ByteWriter(buf).put_bytes(as_bytes(s));
  EXPECT_EQ(as_string_view(buf), s);
}

}  // namespace
}  // namespace sluice
