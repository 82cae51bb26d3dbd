// The cleaner's key -> latest offset map: the latest put wins, a full map refuses new
// keys (and still updates known ones), clear() empties it, and its memory is 24 bytes
// per slot.
#include "sluice/storage/key_offset_map.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::storage {
namespace {

ByteSpan key(const std::string& s) { return as_bytes(s); }

TEST(KeyOffsetMap, TheLatestOffsetOfAKeyWins) {
  KeyOffsetMap map(1 << 16);
  EXPECT_FALSE(map.get(key("a")));
  EXPECT_TRUE(map.put(key("a"), 1));
  EXPECT_TRUE(map.put(key("b"), 2));
  EXPECT_TRUE(map.put(key("a"), 5));
  EXPECT_EQ(map.get(key("a")), 5);
  EXPECT_EQ(map.get(key("b")), 2);
  EXPECT_FALSE(map.get(key("c")));
  EXPECT_EQ(map.size(), 2u);
  EXPECT_TRUE(map.put(key(""), 9)) << "an empty key is a key";
  EXPECT_EQ(map.get(key("")), 9);
}

TEST(KeyOffsetMap, AFullMapRefusesNewKeysAndStillUpdatesKnownOnes) {
  KeyOffsetMap map(100 * KeyOffsetMap::kEntryBytes);
  EXPECT_EQ(map.memory_bytes(), 100 * KeyOffsetMap::kEntryBytes);
  EXPECT_EQ(map.max_entries(), 90u);
  for (int i = 0; i < 90; ++i) ASSERT_TRUE(map.put(key("k" + std::to_string(i)), i));
  EXPECT_FALSE(map.put(key("one more"), 100));
  EXPECT_FALSE(map.get(key("one more")));
  EXPECT_TRUE(map.put(key("k3"), 200));
  EXPECT_EQ(map.get(key("k3")), 200);
  for (int i = 0; i < 90; ++i) EXPECT_EQ(map.get(key("k" + std::to_string(i))), i == 3 ? 200 : i);
  map.clear();
  EXPECT_EQ(map.size(), 0u);
  EXPECT_FALSE(map.get(key("k3")));
  EXPECT_TRUE(map.put(key("one more"), 1));
}

TEST(KeyOffsetMap, ATinyBudgetStillHoldsOneKey) {
  KeyOffsetMap map(0);
  EXPECT_EQ(map.max_entries(), 1u);
  EXPECT_TRUE(map.put(key("a"), 1));
  EXPECT_FALSE(map.put(key("b"), 2));
  EXPECT_EQ(map.get(key("a")), 1);
  EXPECT_FALSE(map.get(key("b")));
}

}  // namespace
}  // namespace sluice::storage
