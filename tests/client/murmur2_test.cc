#include <gtest/gtest.h>

#include <map>
#include <string>

#include "sluice/client/partitioner.h"

namespace sluice::client {
namespace {

// Kafka's UtilsTest.testMurmur2 vectors (clients/src/test/.../utils/UtilsTest.java).
TEST(Murmur2, MatchesKafkaUtilsTestVectors) {
  const std::map<std::string, int32_t> cases = {
      {"21", -973932308},
      {"foobar", -790332482},
      {"a-little-bit-long-string", -985981536},
      {"a-little-bit-longer-string", -1486304829},
      {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
      {"abc", 479470107},
  };
  for (const auto& [key, expected] : cases) EXPECT_EQ(murmur2(as_bytes(key)), expected) << key;
}

// Every tail length (0-3 bytes after the 4-byte blocks), values from Kafka's Utils.murmur2.
TEST(Murmur2, EveryTailLength) {
  EXPECT_EQ(murmur2(as_bytes("1")), -1993445489);
  EXPECT_EQ(murmur2(as_bytes("12")), 126087238);
  EXPECT_EQ(murmur2(as_bytes("123")), -267702483);
  EXPECT_EQ(murmur2(as_bytes("1234")), -1614185708);
  EXPECT_EQ(murmur2(as_bytes("12345")), -1188365604);
}

// The expected values below are computed from the Java algorithm step by step
// (int arithmetic wraps, bytes masked with 0xff, >>> is a logical shift).
TEST(Murmur2, EmptyKeyIsTheSeedMix) { EXPECT_EQ(murmur2(ByteSpan{}), 275646681); }

TEST(Murmur2, HighBytesAreUnsigned) {
  // Java masks each byte with 0xff; a sign-extending port would differ here.
  const std::byte bytes[] = {std::byte{0xff}, std::byte{0x80}, std::byte{0xfe}, std::byte{0x01}, std::byte{0x9c}};
  EXPECT_EQ(murmur2(ByteSpan(bytes, 5)), -1112518196);
}

TEST(ToPositive, ClearsTheSignBitLikeKafka) {
  EXPECT_EQ(to_positive(-973932308), 1173551340);
  EXPECT_EQ(to_positive(INT32_MIN), 0);  // not abs(): abs(INT_MIN) overflows
  EXPECT_EQ(to_positive(-1), INT32_MAX);
  EXPECT_EQ(to_positive(42), 42);
}

TEST(PartitionForKey, IsToPositiveOfMurmur2ModuloPartitions) {
  // "21" -> toPositive(-973932308) = 1173551340; 1173551340 % 4 == 0, % 3 == 0, % 7 == 2
  EXPECT_EQ(partition_for_key(as_bytes("21"), 4), 1173551340 % 4);
  EXPECT_EQ(partition_for_key(as_bytes("21"), 7), 1173551340 % 7);
  // "foobar" -> toPositive(-790332482) = 1357151166
  EXPECT_EQ(partition_for_key(as_bytes("foobar"), 10), 1357151166 % 10);
  EXPECT_EQ(partition_for_key(as_bytes("abc"), 6), 479470107 % 6);
  EXPECT_EQ(partition_for_key(as_bytes("anything"), 1), 0);
}

}  // namespace
}  // namespace sluice::client
