// Runs the real `sluice-perf` binary against an embedded broker and checks its
// JSON report.
#include <gtest/gtest.h>

#include <cstdio>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "sluice/broker/embedded_broker.h"

#include "tool_runner.h"

namespace sluice::testing {
namespace {

// The number under "key" in a flat JSON object, if there is one.
std::optional<double> json_number(const std::string& json, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(json, m, std::regex("\"" + key + "\":(-?[0-9.eE+]+)"))) return std::nullopt;
  return std::stod(m[1].str());
}

class SluicePerfTest : public ::testing::Test {
 protected:
  ToolRun perf(std::vector<std::string> args) {
    args.insert(args.begin(), {"--brokers", broker_.bootstrap()});
    return run_tool(SLUICE_PERF_PATH, args);
  }

  EmbeddedBroker broker_;
};

TEST_F(SluicePerfTest, ProducesAndConsumes20000Records) {
  auto produced = perf({"produce", "--topic", "bench", "--records", "20000", "--record-size", "100",
                        "--create-partitions", "3", "--json"});
  ASSERT_EQ(produced.exit_code, 0) << produced.out << produced.err;
  auto lines = lines_of(produced.out);
  ASSERT_EQ(lines.size(), 1u) << produced.out;
  const std::string& json = lines[0];
  EXPECT_EQ(json.front(), '{');
  EXPECT_EQ(json.back(), '}');
  EXPECT_EQ(json_number(json, "records"), 20000);
  EXPECT_EQ(json_number(json, "record_size"), 100);
  EXPECT_EQ(json_number(json, "errors"), 0);
  for (const char* key : {"records_per_sec", "mb_per_sec", "seconds", "p50", "p99", "p999", "max"}) {
    auto value = json_number(json, key);
    ASSERT_TRUE(value) << key << " missing in " << json;
    EXPECT_GT(*value, 0) << key;
  }
  EXPECT_LE(*json_number(json, "p50"), *json_number(json, "p99"));
  EXPECT_LE(*json_number(json, "p99"), *json_number(json, "p999"));
  EXPECT_LE(*json_number(json, "p999"), *json_number(json, "max"));
  // MB/s is payload bytes (10^6) per second.
  EXPECT_NEAR(*json_number(json, "mb_per_sec"), *json_number(json, "records_per_sec") * 100 / 1e6,
              *json_number(json, "mb_per_sec") * 0.01 + 0.001);

  auto offsets = run_tool(SLUICE_CLI_PATH, {"--brokers", broker_.bootstrap(), "offsets", "bench"});
  ASSERT_EQ(offsets.exit_code, 0) << offsets.err;
  int64_t total = 0;
  for (const auto& line : lines_of(offsets.out)) {
    int partition = 0;
    long long earliest = 0, latest = 0;
    if (std::sscanf(line.c_str(), "%d %lld %lld", &partition, &earliest, &latest) == 3) total += latest - earliest;
  }
  EXPECT_EQ(total, 20000) << offsets.out;

  auto consumed = perf({"consume", "--topic", "bench", "--records", "20000", "--json"});
  ASSERT_EQ(consumed.exit_code, 0) << consumed.out << consumed.err;
  auto consumed_json = lines_of(consumed.out).at(0);
  EXPECT_EQ(json_number(consumed_json, "records"), 20000);
  EXPECT_EQ(json_number(consumed_json, "record_size"), 100);
  EXPECT_GT(*json_number(consumed_json, "records_per_sec"), 0);
  EXPECT_GT(*json_number(consumed_json, "mb_per_sec"), 0);
}

TEST_F(SluicePerfTest, TextReportWithZstdAndAcks1) {
  auto run = perf({"produce", "--topic", "bench", "--records", "5000", "--record-size", "1000", "--compression", "zstd",
                   "--acks", "1", "--batch-bytes", "65536", "--linger-ms", "2", "--create-partitions", "2"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  auto lines = lines_of(run.out);
  ASSERT_EQ(lines.size(), 2u) << run.out;
  EXPECT_EQ(lines[0].rfind("produce: 5000 records of 1000 bytes in ", 0), 0u) << lines[0];
  EXPECT_EQ(lines[1].rfind("latency ms: p50 ", 0), 0u) << lines[1];
}

TEST_F(SluicePerfTest, RateLimitedRunForSeconds) {
  auto run = perf({"produce", "--topic", "paced", "--seconds", "1", "--rate", "2000", "--record-size", "10",
                   "--create-partitions", "1", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  auto records = json_number(run.out, "records");
  ASSERT_TRUE(records) << run.out;
  EXPECT_GE(*records, 1900);
  EXPECT_LE(*records, 2000);
  EXPECT_GE(*json_number(run.out, "seconds"), 0.99);
}

TEST_F(SluicePerfTest, ConsumingMoreRecordsThanThereAreFails) {
  ASSERT_EQ(perf({"produce", "--topic", "small", "--records", "100", "--create-partitions", "2"}).exit_code, 0);
  auto run = perf({"consume", "--topic", "small", "--records", "150", "--timeout-ms", "2000", "--json"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(json_number(run.out, "records"), 100) << run.out;
  EXPECT_NE(run.err.find("read 100 of 150 records"), std::string::npos) << run.err;
}

TEST_F(SluicePerfTest, KeysLetItProduceToACompactedTopic) {
  auto created = run_tool(SLUICE_CLI_PATH, {"--brokers", broker_.bootstrap(), "topic", "create", "table", "--config",
                                            "cleanup.policy=compact"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  auto keyless = perf({"produce", "--topic", "table", "--records", "10"});
  EXPECT_EQ(keyless.exit_code, 1);
  EXPECT_NE(keyless.err.find("INVALID_RECORD"), std::string::npos) << keyless.err;
  auto keyed = perf({"produce", "--topic", "table", "--records", "200", "--keys", "5", "--json"});
  ASSERT_EQ(keyed.exit_code, 0) << keyed.err;
  EXPECT_EQ(json_number(keyed.out, "records"), 200) << keyed.out;
}

TEST_F(SluicePerfTest, ProducingToAMissingTopicFails) {
  auto run = perf({"produce", "--topic", "missing", "--records", "10"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("UNKNOWN_TOPIC_OR_PARTITION"), std::string::npos) << run.err;
  EXPECT_EQ(perf({"produce", "--topic", "missing"}).exit_code, 2);  // neither --records nor --seconds
}

}  // namespace
}  // namespace sluice::testing
