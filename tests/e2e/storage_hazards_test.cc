// What an operator meets first, on the real sluiced process: a full disk (writes
// refused, reads served, a clean stop and a start that need no free space,
// /healthz saying so) and damage found at startup (reported in /metrics, reads
// of it answered with CORRUPT_MESSAGE naming segment and position).
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "sluice/storage/batch_builder.h"
#include "sluice/storage/record_batch.h"

#include "../broker/raw_client.h"
#include "broker_process.h"
#include "e2e_helpers.h"

namespace sluice {
namespace {

using testing::BrokerProcess;
using testing::http_get;
using testing::RawClient;

Bytes batch_of(int n, size_t value_bytes) {
  storage::BatchBuilder builder;
  std::string value(value_bytes, static_cast<char>('a' + n % 26));
  builder.add(1'700'000'000'000 + n, std::nullopt, as_bytes(value));
  return std::move(*builder.build());
}

wire::ProduceResponse::PartitionResult produce(RawClient& c, const std::string& topic, const Bytes& batch) {
  wire::ProduceRequest req;
  req.set_acks(-1);
  auto* p = req.add_partitions();
  p->set_topic(topic);
  p->set_partition(0);
  p->set_records_size(static_cast<uint32_t>(batch.size()));
  auto resp = c.call<wire::ProduceResponse>(wire::PRODUCE, req, batch);
  EXPECT_TRUE(resp);
  return resp ? resp->results(0) : wire::ProduceResponse::PartitionResult{};
}

// Counts the records from `offset` to the end (or, with `stopped_by`, to the first
// fetch that fails), following next offsets.
int64_t count_records(RawClient& c, const std::string& topic, int64_t offset, wire::ErrorCode* stopped_by = nullptr) {
  int64_t records = 0;
  while (true) {
    Fetched f = fetch_once(c, topic, offset);
    if (stopped_by && f.partition.error().code() != wire::NONE) {
      *stopped_by = f.partition.error().code();
      return records;
    }
    EXPECT_EQ(f.partition.error().code(), wire::NONE) << f.partition.error().message();
    if (f.records.empty()) return records;
    ByteSpan rest(f.records);
    while (!rest.empty()) {
      auto h = storage::validate_batch(rest);
      EXPECT_TRUE(h.has_value());
      if (!h) return -1;
      records += h->record_count;
      offset = h->next_offset().value();
      rest = rest.subspan(h->total_size());
    }
  }
}

// Writes to `path` until the file system is full.
void fill_up(const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  std::string block(4096, 'f');
  while (out.write(block.data(), static_cast<std::streamsize>(block.size())) && out.flush()) {
  }
}

// A small tmpfs of its own, so the test can fill it. Needs CAP_SYS_ADMIN.
class SmallFileSystem {
 public:
  explicit SmallFileSystem(const std::string& size) : path_(temp_dir("sluice-full-disk")) {
    std::filesystem::create_directories(path_);
    mounted_ = ::mount("tmpfs", path_.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
  }
  ~SmallFileSystem() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  bool mounted() const { return mounted_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool mounted_ = false;
};

// The report: with a full disk the broker could not stop cleanly (its
// recovery-point write failed), could not start until space was freed, and
// /healthz said ok while every write failed.
TEST(StorageHazards, AFullDiskRefusesWritesServesReadsAndStillStopsAndStarts) {
  SmallFileSystem disk("6m");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (needs CAP_SYS_ADMIN)";
  const std::string data = disk.path() + "/data";
  const std::string ballast = disk.path() + "/ballast";
  { std::ofstream(ballast) << std::string(1 << 20, 'b'); }  // freed at the end to make room again
  BrokerProcess broker(SLUICED_PATH, data);
  ASSERT_TRUE(broker.start());
  int64_t acknowledged = 0;
  {
    RawClient c(broker.address());
    ASSERT_EQ(create_topic_with(c, "full", {{"durability", "fsync"}}), wire::NONE);
    EXPECT_NE(http_get(broker.http_address(), "/healthz").find("200 OK"), std::string::npos);
    for (int n = 0; n < 1000; ++n) {
      auto r = produce(c, "full", batch_of(n, 64 << 10));
      if (r.error().code() != wire::NONE) {
        EXPECT_EQ(r.error().code(), wire::STORAGE_ERROR) << r.error().message();
        break;
      }
      ++acknowledged;
    }
    ASSERT_GT(acknowledged, 10);
    ASSERT_LT(acknowledged, 1000) << "the disk never filled";
    fill_up(disk.path() + "/filler");  // not even a small file fits now
    std::string health = http_get(broker.http_address(), "/healthz");
    EXPECT_NE(health.find("503"), std::string::npos) << health;
    EXPECT_NE(health.find("not writable"), std::string::npos) << health;
    EXPECT_EQ(count_records(c, "full", 0), acknowledged) << "reads are served on a full disk";
  }
  EXPECT_EQ(broker.stop(SIGTERM), 0);
  EXPECT_NE(broker.log().find("broker stopped clean=true"), std::string::npos) << broker.log();
  EXPECT_TRUE(std::filesystem::exists(data + "/full-0/clean-shutdown"));

  ASSERT_TRUE(broker.start()) << "a full disk must not keep the broker from starting\n" << broker.log();
  {
    RawClient c(broker.address());
    EXPECT_EQ(count_records(c, "full", 0), acknowledged);
    EXPECT_NE(http_get(broker.http_address(), "/healthz").find("503"), std::string::npos);
    std::filesystem::remove(ballast);
    auto r = produce(c, "full", batch_of(0, 100));
    EXPECT_EQ(r.error().code(), wire::NONE) << r.error().message();
    EXPECT_NE(http_get(broker.http_address(), "/healthz").find("200 OK"), std::string::npos);
  }
  EXPECT_EQ(broker.stop(SIGTERM), 0);
}

// A closed segment damaged while the broker was down: the broker starts, keeps
// every intact record, says where the damage is, and answers reads of it with
// CORRUPT_MESSAGE rather than skipping it or deleting what follows.
TEST(StorageHazards, DamageFoundAtStartIsReportedAndEveryIntactRecordIsServed) {
  const std::string data = temp_dir("sluice-damage");
  BrokerProcess broker(SLUICED_PATH, data);
  ASSERT_TRUE(broker.start());
  constexpr int kBatches = 60;
  {
    RawClient c(broker.address());
    ASSERT_EQ(create_topic_with(c, "damaged", {{"segment.bytes", "65536"}}), wire::NONE);
    for (int n = 0; n < kBatches; ++n) ASSERT_EQ(produce(c, "damaged", batch_of(n, 4000)).error().code(), wire::NONE);
  }
  ASSERT_EQ(broker.stop(SIGKILL), -SIGKILL);
  // Cut the first (closed, synced) segment's last batch in half.
  const std::string segment = data + "/damaged-0/00000000000000000000.log";
  ASSERT_TRUE(std::filesystem::exists(data + "/damaged-0/00000000000000000016.log"));
  std::filesystem::resize_file(segment, std::filesystem::file_size(segment) - 2000);

  ASSERT_TRUE(broker.start());
  EXPECT_NE(broker.log().find("segment_damaged"), std::string::npos) << broker.log();
  std::string metrics = http_get(broker.http_address(), "/metrics");
  EXPECT_NE(metrics.find("sluice_partition_damaged_offsets{topic=\"damaged\",partition=\"0\"} 1"), std::string::npos)
      << metrics;
  RawClient c(broker.address());
  Fetched at = fetch_once(c, "damaged", 15);
  EXPECT_EQ(at.partition.error().code(), wire::CORRUPT_MESSAGE);
  EXPECT_NE(at.partition.error().message().find("00000000000000000000.log at position"), std::string::npos)
      << at.partition.error().message();
  wire::ErrorCode stopped_by = wire::NONE;
  EXPECT_EQ(count_records(c, "damaged", 0, &stopped_by), 15) << "a read from before the damage stops in front of it";
  EXPECT_EQ(stopped_by, wire::CORRUPT_MESSAGE);
  EXPECT_EQ(count_records(c, "damaged", 16), kBatches - 16) << "every segment after the damage is kept";
  EXPECT_EQ(broker.stop(SIGTERM), 0);
  std::filesystem::remove_all(data);
  std::filesystem::remove(data + ".log");
}

}  // namespace
}  // namespace sluice
