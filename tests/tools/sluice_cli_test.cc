// Runs the real `sluice` binary against an embedded broker: topic admin,
// produce from stdin, consume with formats, offsets, and failures.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "sluice/broker/embedded_broker.h"

#include "../broker/raw_client.h"
#include "tool_runner.h"

namespace sluice::testing {
namespace {

class SluiceCliTest : public ::testing::Test {
 protected:
  ToolRun sluice(std::vector<std::string> args, const ToolInput& input = {}) {
    args.insert(args.begin(), {"--brokers", broker_.bootstrap()});
    return run_tool(SLUICE_CLI_PATH, args, input);
  }
  ToolRun produce(const std::vector<std::string>& args, const std::string& lines) {
    std::vector<std::string> all{"produce"};
    all.insert(all.end(), args.begin(), args.end());
    return sluice(all, {.stdin_text = lines});
  }
  void create_topic(const std::string& name, int partitions) {
    auto run = sluice({"topic", "create", name, "--partitions", std::to_string(partitions)});
    ASSERT_EQ(run.exit_code, 0) << run.err;
  }
  // Whether the broker's /metrics has a line with `text`: what a command did on
  // the broker, which the test cannot see in the command's output.
  bool metrics_show(const std::string& text) {
    RawClient http(broker_.http_address());
    http.send_bytes(as_bytes(std::string("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")));
    return http.read_to_end().find(text) != std::string::npos;
  }
  // Polls /metrics until it shows `text`; the 30 s are a failure bound.
  bool wait_for_metric(const std::string& text) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!metrics_show(text) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling the broker's metrics for a condition
    }
    return metrics_show(text);
  }

  EmbeddedBroker broker_;
};

TEST_F(SluiceCliTest, TopicCreateListDescribeDelete) {
  auto created = sluice({"topic", "create", "orders", "--partitions", "3", "--config", "retention.ms=3600000",
                         "--config", "cleanup.policy=delete"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_EQ(created.out, "created topic orders with 3 partitions\n");
  create_topic("payments", 1);

  auto list = sluice({"topic", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(lines_of(list.out), (std::vector<std::string>{"orders", "payments"}));

  ASSERT_EQ(produce({"orders", "--partition", "2"}, "x\ny\n").exit_code, 0);
  auto described = sluice({"topic", "describe", "orders"});
  ASSERT_EQ(described.exit_code, 0) << described.err;
  auto lines = lines_of(described.out);
  ASSERT_GE(lines.size(), 7u) << described.out;
  EXPECT_EQ(lines[0], "Topic: orders");
  EXPECT_EQ(lines[1], "Partitions: 3");
  EXPECT_EQ(lines[2], "  PARTITION  START-OFFSET  END-OFFSET  RECORDS");
  EXPECT_EQ(lines[3], "  0          0             0           0");
  EXPECT_EQ(lines[5], "  2          0             2           2");
  EXPECT_EQ(lines[6], "Configs:");
  EXPECT_NE(described.out.find("  retention.ms=3600000\n"), std::string::npos) << described.out;
  EXPECT_NE(described.out.find("  cleanup.policy=delete\n"), std::string::npos) << described.out;

  auto deleted = sluice({"topic", "delete", "orders"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_EQ(deleted.out, "deleted topic orders\n");
  EXPECT_EQ(lines_of(sluice({"topic", "list"}).out), (std::vector<std::string>{"payments"}));

  auto gone = sluice({"topic", "describe", "orders"});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_NE(gone.err.find("UNKNOWN_TOPIC_OR_PARTITION"), std::string::npos) << gone.err;
  auto again = sluice({"topic", "delete", "orders"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("UNKNOWN_TOPIC_OR_PARTITION"), std::string::npos) << again.err;
}

TEST(SluiceCliCompactedTopic, DescribeShowsTheDirtyRatioAndTheLastClean) {
  broker::BrokerConfig config;
  config.log_cleaner_backoff_ms = 50;
  EmbeddedBroker broker(config);
  auto sluice = [&](std::vector<std::string> args, const ToolInput& input = {}) {
    args.insert(args.begin(), {"--brokers", broker.bootstrap()});
    return run_tool(SLUICE_CLI_PATH, args, input);
  };
  ASSERT_EQ(sluice({"topic", "create", "table", "--config", "cleanup.policy=compact", "--config", "segment.bytes=4096"})
                .exit_code,
            0);
  auto fresh = lines_of(sluice({"topic", "describe", "table"}).out);
  ASSERT_GE(fresh.size(), 4u);
  EXPECT_EQ(fresh[2], "  PARTITION  START-OFFSET  END-OFFSET  OFFSETS  DIRTY  LAST-CLEAN");
  EXPECT_EQ(fresh[3], "  0          0             0           0        0.0%   never");

  std::string lines;
  for (int i = 0; i < 400; ++i) lines += "k" + std::to_string(i % 4) + "\t" + std::string(40, 'v') + "\n";
  ASSERT_EQ(sluice({"produce", "table", "-K", "\t"}, {.stdin_text = lines}).exit_code, 0);
  // The cleaner runs every 50 ms; the 30 s are a failure bound.
  std::vector<std::string> described;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  do {
    described = lines_of(sluice({"topic", "describe", "table"}).out);
  } while ((described.size() < 4 || described[3].ends_with("never")) && std::chrono::steady_clock::now() < deadline);
  ASSERT_GE(described.size(), 4u);
  // "  0  0  400  400  D%  2026-12-04T02:30:00Z": cleaned, the time in UTC.
  EXPECT_TRUE(
      std::regex_search(described[3], std::regex(R"(^  0 +0 +400 +400 +[0-9.]+% +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$)")))
      << described[3];
  // A consume from the start crosses the cleaner's gaps: fewer records than
  // offsets, and every key's last value (i = 396..399) among them.
  auto consumed = sluice({"consume", "table", "--from-beginning", "--timeout-ms", "500", "-f", "%o %k\n"});
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  const auto records = lines_of(consumed.out);
  EXPECT_LT(records.size(), 400u) << consumed.out;
  for (const char* last : {"396 k0", "397 k1", "398 k2", "399 k3"}) {
    EXPECT_NE(std::find(records.begin(), records.end(), last), records.end()) << last << " in\n" << consumed.out;
  }
}

TEST_F(SluiceCliTest, TopicAlterConfigSetsAndRemovesSettings) {
  create_topic("orders", 1);
  auto altered =
      sluice({"topic", "alter-config", "orders", "--set", "retention.ms=60000", "--set", "segment.ms=3600000"});
  ASSERT_EQ(altered.exit_code, 0) << altered.err;
  EXPECT_EQ(altered.out, "altered topic orders: 2 settings\n");
  auto described = sluice({"topic", "describe", "orders"});
  EXPECT_NE(described.out.find("  retention.ms=60000\n"), std::string::npos) << described.out;
  EXPECT_NE(described.out.find("  segment.ms=3600000\n"), std::string::npos) << described.out;

  ASSERT_EQ(sluice({"topic", "alter-config", "orders", "--delete", "segment.ms"}).exit_code, 0);
  described = sluice({"topic", "describe", "orders"});
  EXPECT_NE(described.out.find("  segment.ms=604800000\n"), std::string::npos)
      << "the default again; " << described.out;

  auto fixed = sluice({"topic", "alter-config", "orders", "--set", "durability=none"});
  EXPECT_EQ(fixed.exit_code, 1);
  EXPECT_NE(fixed.err.find("durability cannot change"), std::string::npos) << fixed.err;
  auto nothing = sluice({"topic", "alter-config", "orders"});
  EXPECT_EQ(nothing.exit_code, 2);
  EXPECT_NE(nothing.err.find("nothing to change"), std::string::npos) << nothing.err;
  auto both = sluice({"topic", "alter-config", "orders", "--set", "retention.ms=1", "--delete", "retention.ms"});
  EXPECT_EQ(both.exit_code, 2);
}

TEST_F(SluiceCliTest, CreatingAnExistingTopicFails) {
  create_topic("orders", 1);
  auto run = sluice({"topic", "create", "orders", "--partitions", "2"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("TOPIC_ALREADY_EXISTS"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("orders"), std::string::npos) << run.err;
}

TEST_F(SluiceCliTest, UnknownTopicConfigIsRejectedByTheBroker) {
  auto run = sluice({"topic", "create", "orders", "--config", "no.such.setting=1"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("no.such.setting"), std::string::npos) << run.err;
  auto malformed = sluice({"topic", "create", "orders", "--config", "retention.ms"});
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_NE(malformed.err.find("not key=value"), std::string::npos) << malformed.err;
}

TEST_F(SluiceCliTest, ConsumeWithAGroupCommitsWhatItPrintedAndTheNextRunResumesThere) {
  create_topic("events", 1);
  ASSERT_EQ(produce({"events"}, "a\nb\nc\nd\n").exit_code, 0);
  auto first = sluice({"consume", "events", "--group", "g", "--from-beginning", "--max-records", "2"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(lines_of(first.out), (std::vector<std::string>{"a", "b"}));
  // Only the two printed records were committed, though poll() returned all four.
  auto second = sluice({"consume", "events", "--group", "g", "--max-records", "2"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(lines_of(second.out), (std::vector<std::string>{"c", "d"}));
  auto mixed = sluice({"consume", "events", "--group", "g", "--partition", "0"});
  EXPECT_EQ(mixed.exit_code, 2) << mixed.err;
}

TEST_F(SluiceCliTest, ProduceKeysAndHeadersThenConsumeFromBeginning) {
  create_topic("events", 1);
  auto produced = produce({"events", "--key-separator", ":", "--header", "source=cli", "--header", "trace"},
                          "user-1:logged in\nuser-2:paid: 10 EUR\nuser-1:\n");
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
  EXPECT_EQ(produced.out, "");

  auto consumed = sluice({"consume", "events", "--from-beginning", "--max-records", "3", "--format",
                          "%T %p/%o key=%k value=%v headers=%h"});
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  EXPECT_EQ(lines_of(consumed.out), (std::vector<std::string>{
                                        "events 0/0 key=user-1 value=logged in headers=source=cli,trace",
                                        "events 0/1 key=user-2 value=paid: 10 EUR headers=source=cli,trace",
                                        "events 0/2 key=user-1 value= headers=source=cli,trace",
                                    }));
  EXPECT_NE(consumed.err.find("consumed 3 records"), std::string::npos) << consumed.err;

  // The default format is the value alone; without a separator keys are null.
  ASSERT_EQ(produce({"events"}, "plain\n").exit_code, 0);
  auto values = sluice({"consume", "events", "--from-beginning", "--max-records", "4"});
  ASSERT_EQ(values.exit_code, 0) << values.err;
  EXPECT_EQ(lines_of(values.out), (std::vector<std::string>{"logged in", "paid: 10 EUR", "", "plain"}));
  auto keys = sluice({"consume", "events", "--offset", "3", "--max-records", "1", "--format", "%k\\t%v%%"});
  ASSERT_EQ(keys.exit_code, 0) << keys.err;
  EXPECT_EQ(keys.out, "null\tplain%\n");
}

TEST_F(SluiceCliTest, ConsumeJsonEscapesAndShowsNulls) {
  create_topic("events", 1);
  ASSERT_EQ(produce({"events", "-K", "|", "-H", "h=1"}, "k\"1|a\\b\n").exit_code, 0);
  ASSERT_EQ(produce({"events"}, "v\n").exit_code, 0);
  auto consumed = sluice({"consume", "events", "--from-beginning", "--max-records", "2", "--format", "json"});
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  auto lines = lines_of(consumed.out);
  ASSERT_EQ(lines.size(), 2u) << consumed.out;
  EXPECT_EQ(lines[0].substr(0, 52), R"({"topic":"events","partition":0,"offset":0,"timestam)");
  EXPECT_NE(lines[0].find(R"("key":"k\"1","value":"a\\b","headers":[{"key":"h","value":"1"}]})"), std::string::npos)
      << lines[0];
  EXPECT_NE(lines[1].find(R"("offset":1,)"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find(R"("key":null,"value":"v","headers":[]})"), std::string::npos) << lines[1];
}

// -Z sends an empty value as null (a tombstone); consume prints null apart from empty.
TEST_F(SluiceCliTest, ProduceDashZSendsEmptyValuesAsTombstones) {
  create_topic("events", 1);
  ASSERT_EQ(produce({"events", "-K", ":", "-Z"}, "a:1\na:\n").exit_code, 0);
  ASSERT_EQ(produce({"events", "-K", ":"}, "b:\n").exit_code, 0);
  auto consumed = sluice({"consume", "events", "--from-beginning", "--max-records", "3", "--format", "json"});
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  auto lines = lines_of(consumed.out);
  ASSERT_EQ(lines.size(), 3u) << consumed.out;
  EXPECT_NE(lines[0].find(R"("key":"a","value":"1")"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find(R"("key":"a","value":null)"), std::string::npos) << "-Z: a tombstone; " << lines[1];
  EXPECT_NE(lines[2].find(R"("key":"b","value":"")"), std::string::npos) << "without -Z: empty; " << lines[2];
  auto plain = sluice({"consume", "events", "--from-beginning", "--max-records", "3", "--format", "%k=%v"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(lines_of(plain.out), (std::vector<std::string>{"a=1", "a=null", "b="}));
}

TEST_F(SluiceCliTest, ConsumeStopsAtMaxRecords) {
  create_topic("events", 3);
  std::string input;
  for (int i = 0; i < 30; ++i) input += "key-" + std::to_string(i) + "=value-" + std::to_string(i) + "\n";
  ASSERT_EQ(produce({"events", "--key-separator", "="}, input).exit_code, 0);

  auto start = std::chrono::steady_clock::now();
  auto some = sluice({"consume", "events", "--from-beginning", "--max-records", "7", "--timeout-ms", "60000"});
  ASSERT_EQ(some.exit_code, 0) << some.err;
  EXPECT_EQ(lines_of(some.out).size(), 7u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));  // not the idle timeout

  // All partitions are read: every value comes back once.
  auto all = sluice({"consume", "events", "--from-beginning", "--max-records", "30", "--format", "%v"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  auto values = lines_of(all.out);
  std::sort(values.begin(), values.end());
  std::vector<std::string> expected;
  for (int i = 0; i < 30; ++i) expected.push_back("value-" + std::to_string(i));
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(values, expected);
}

TEST_F(SluiceCliTest, ConsumeTimesOutBeforeMaxRecordsWithExitCode3) {
  create_topic("events", 1);
  ASSERT_EQ(produce({"events"}, "a\nb\n").exit_code, 0);
  auto run = sluice({"consume", "events", "--from-beginning", "--max-records", "5", "--timeout-ms", "1000"});
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_EQ(run.out, "a\nb\n");
  EXPECT_NE(run.err.find("2 of 5 records"), std::string::npos) << run.err;
}

TEST_F(SluiceCliTest, ConsumeStartsAtTheEndByDefault) {
  create_topic("events", 2);
  ASSERT_EQ(produce({"events"}, "old-1\nold-2\n").exit_code, 0);
  auto run = sluice({"consume", "events", "--timeout-ms", "300"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "");
  EXPECT_NE(run.err.find("consumed 0 records"), std::string::npos) << run.err;
}

TEST_F(SluiceCliTest, ConsumeFromTheEndSeesOnlyNewRecords) {
  create_topic("events", 2);
  ASSERT_EQ(produce({"events"}, "old\n").exit_code, 0);
  ToolRun tail;
  std::thread consumer([&] { tail = sluice({"consume", "events", "--max-records", "1", "--timeout-ms", "30000"}); });
  // The consumer pins its start at the log end with a ListOffsets request, the
  // first of this test; what is produced after the broker answered it is new.
  EXPECT_TRUE(wait_for_metric("sluice_requests_total{api=\"list_offsets\"} 1"))
      << "the command never looked up the end";
  EXPECT_EQ(produce({"events"}, "new\n").exit_code, 0);
  consumer.join();
  ASSERT_EQ(tail.exit_code, 0) << tail.err;
  EXPECT_EQ(tail.out, "new\n");
}

// `sluice consume` of a topic deleted under it exits non-zero with a message
// naming the topic, also when it would otherwise wait forever (--timeout-ms 0).
TEST_F(SluiceCliTest, ConsumeOfADeletedTopicFailsNamingIt) {
  create_topic("doomed", 1);
  ASSERT_EQ(produce({"doomed"}, "before\n").exit_code, 0);
  ToolRun tail;
  std::thread consumer([&] {
    tail = sluice({"consume", "doomed", "--from-beginning", "--timeout-ms", "0"}, {.timeout_seconds = 60});
  });
  // Only the broker can tell that the command is reading: it has fetched the record.
  EXPECT_TRUE(wait_for_metric("sluice_topic_records_out_total{topic=\"doomed\"} 1"))
      << "the command never fetched the record";
  auto deleted = sluice({"topic", "delete", "doomed"});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
  consumer.join();
  EXPECT_GT(tail.exit_code, 0) << "-1 is the kill after 60 s: it waited in silence\n" << tail.err;
  EXPECT_EQ(tail.out, "before\n");
  EXPECT_NE(tail.err.find("consume from \"doomed\""), std::string::npos) << tail.err;
  EXPECT_NE(tail.err.find("UNKNOWN_TOPIC_OR_PARTITION"), std::string::npos) << tail.err;
}

TEST_F(SluiceCliTest, ConsumeOnePartitionFromAnOffset) {
  create_topic("events", 3);
  ASSERT_EQ(produce({"events", "--partition", "1"}, "a\nb\nc\nd\ne\n").exit_code, 0);
  ASSERT_EQ(produce({"events", "--partition", "2"}, "z\n").exit_code, 0);
  auto run = sluice(
      {"consume", "events", "--partition", "1", "--offset", "2", "--format", "%p:%o:%v", "--timeout-ms", "2000"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(lines_of(run.out), (std::vector<std::string>{"1:2:c", "1:3:d", "1:4:e"}));

  auto missing = sluice({"consume", "events", "--partition", "3"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("partition 3 does not exist"), std::string::npos) << missing.err;
}

TEST_F(SluiceCliTest, ConsumeFromATimestamp) {
  create_topic("events", 1);
  ASSERT_EQ(produce({"events"}, "before\n").exit_code, 0);
  auto now_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  // "before" was stamped at or before now; "after" is stamped once the wall clock reached the cut.
  const int64_t cut = now_ms() + 1;
  while (now_ms() < cut) std::this_thread::yield();
  ASSERT_EQ(produce({"events"}, "after\n").exit_code, 0);
  auto run = sluice({"consume", "events", "--timestamp", std::to_string(cut), "--timeout-ms", "2000"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "after\n");

  auto offsets = sluice({"offsets", "events", "--timestamp", std::to_string(cut)});
  ASSERT_EQ(offsets.exit_code, 0) << offsets.err;
  auto lines = lines_of(offsets.out);
  ASSERT_EQ(lines.size(), 2u) << offsets.out;
  EXPECT_EQ(lines[0].substr(0, 27), "PARTITION  OFFSET  TIMESTAM");
  EXPECT_EQ(lines[1].substr(0, 19), "0          1       ");
}

TEST_F(SluiceCliTest, OffsetsShowEarliestAndLatestPerPartition) {
  create_topic("events", 2);
  ASSERT_EQ(produce({"events", "--partition", "0"}, "a\nb\nc\nd\n").exit_code, 0);
  ASSERT_EQ(produce({"events", "--partition", "1", "--acks", "1"}, "e\nf\ng\n").exit_code, 0);
  auto run = sluice({"offsets", "events"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out,
            "PARTITION  EARLIEST  LATEST\n"
            "0          0         4\n"
            "1          0         3\n");
  auto one = sluice({"offsets", "events", "--partition", "1"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(lines_of(one.out).size(), 2u);
  EXPECT_EQ(lines_of(one.out)[1], "1          0         3");
}

TEST_F(SluiceCliTest, ProduceToUnknownTopicFailsWithAMessage) {
  auto run = produce({"no-such-topic"}, "a\nb\n");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("no-such-topic"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("UNKNOWN_TOPIC_OR_PARTITION"), std::string::npos) << run.err;

  auto consume = sluice({"consume", "no-such-topic"});
  EXPECT_EQ(consume.exit_code, 1);
  EXPECT_NE(consume.err.find("UNKNOWN_TOPIC_OR_PARTITION"), std::string::npos) << consume.err;
}

TEST_F(SluiceCliTest, ProduceLineWithoutKeySeparatorFails) {
  create_topic("events", 1);
  auto run = produce({"events", "--key-separator", ","}, "k,v\nno separator here\nk2,v2\n");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("line 2 has no key separator"), std::string::npos) << run.err;
  // The line before it was delivered; nothing after it was sent.
  auto offsets = sluice({"offsets", "events"});
  EXPECT_EQ(lines_of(offsets.out).at(1), "0          0         1");
}

TEST_F(SluiceCliTest, ProduceToMissingPartitionFails) {
  create_topic("events", 2);
  auto run = produce({"events", "--partition", "2"}, "a\n");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("partition 2 does not exist"), std::string::npos) << run.err;
}

TEST_F(SluiceCliTest, BrokersComeFromTheEnvironment) {
  create_topic("events", 1);
  auto from_env = run_tool(SLUICE_CLI_PATH, {"topic", "list"}, {.env = {{"SLUICE_BROKERS", broker_.bootstrap()}}});
  ASSERT_EQ(from_env.exit_code, 0) << from_env.err;
  EXPECT_EQ(from_env.out, "events\n");

  // --brokers wins over the environment.
  auto flag_wins = run_tool(SLUICE_CLI_PATH, {"topic", "list", "--brokers", broker_.bootstrap()},
                            {.env = {{"SLUICE_BROKERS", "127.0.0.1:1"}}});
  ASSERT_EQ(flag_wins.exit_code, 0) << flag_wins.err;
  EXPECT_EQ(flag_wins.out, "events\n");

  auto nobody = run_tool(SLUICE_CLI_PATH, {"topic", "list"}, {.env = {{"SLUICE_BROKERS", "127.0.0.1:1"}}});
  EXPECT_EQ(nobody.exit_code, 1);
  EXPECT_NE(nobody.err.find("DISCONNECTED"), std::string::npos) << nobody.err;
  EXPECT_NE(nobody.err.find("is a broker listening on 127.0.0.1:1?"), std::string::npos) << nobody.err;
}

TEST_F(SluiceCliTest, DashXSetsAClientSettingByItsKafkaName) {
  create_topic("events", 1);
  // max.request.size caps a record: a 4000-byte line no longer fits in 1024.
  auto capped = produce({"events", "-X", "max.request.size=1024"}, std::string(4000, 'v') + "\n");
  EXPECT_EQ(capped.exit_code, 1);
  EXPECT_NE(capped.err.find("RECORD_TOO_LARGE"), std::string::npos) << capped.err;
  EXPECT_EQ(produce({"events", "-X", "linger.ms=0", "-X", "compression.type=zstd"}, "a\n").exit_code, 0);
  auto consumed = sluice({"consume", "events", "--from-beginning", "--max-records", "1", "-X", "fetch.max.wait.ms=50"});
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  EXPECT_EQ(consumed.out, "a\n");

  auto unknown = produce({"events", "-X", "linger.mss=5"}, "");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown setting 'linger.mss'"), std::string::npos) << unknown.err;
  auto not_a_number = sluice({"consume", "events", "-X", "max.poll.records=many"});
  EXPECT_EQ(not_a_number.exit_code, 2);
  EXPECT_NE(not_a_number.err.find("max.poll.records: 'many' is not an integer"), std::string::npos) << not_a_number.err;
  auto no_value = sluice({"consume", "events", "-X", "check.crcs"});
  EXPECT_EQ(no_value.exit_code, 2);
  EXPECT_NE(no_value.err.find("expected key=value"), std::string::npos) << no_value.err;
}

TEST_F(SluiceCliTest, BadUsageExitsWith2) {
  EXPECT_EQ(sluice({}).exit_code, 2);
  EXPECT_EQ(sluice({"topic", "create"}).exit_code, 2);
  EXPECT_EQ(sluice({"consume", "events", "--from-beginning", "--offset", "3"}).exit_code, 2);
  auto format = sluice({"consume", "events", "--format", "%x"});
  EXPECT_EQ(format.exit_code, 2);
  EXPECT_NE(format.err.find("unknown placeholder %x"), std::string::npos) << format.err;
  auto acks = produce({"events", "--acks", "2"}, "");
  EXPECT_EQ(acks.exit_code, 2);
  EXPECT_NE(acks.err.find("--acks must be 0, 1 or all"), std::string::npos) << acks.err;

  auto help = run_tool(SLUICE_CLI_PATH, {"consume", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("%k key"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace sluice::testing
