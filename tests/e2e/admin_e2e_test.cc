// Topic administration against the real sluiced process: what a client sees when
// a CreateTopics fails part-way.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "sluice/client/admin.h"
#include "sluice/client/client_errors.h"
#include "sluice/client/producer.h"

#include "broker_process.h"

namespace sluice {
namespace {

using testing::temp_dir;

class AdminEndToEnd : public ::testing::Test {
 protected:
  void TearDown() override {
    broker_.reset();
    std::filesystem::remove_all(dir_);
    std::filesystem::remove(dir_ + ".log");
  }

  // Entries under the data directory whose name mentions `topic`.
  std::vector<std::string> files_of(const std::string& topic) const {
    std::vector<std::string> out;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_)) {
      if (entry.path().filename().string().find(topic) != std::string::npos) out.push_back(entry.path().string());
    }
    return out;
  }

  std::string dir_ = temp_dir("sluice-admin-e2e");
  std::unique_ptr<testing::BrokerProcess> broker_ = std::make_unique<testing::BrokerProcess>(SLUICED_PATH, dir_);
};

// Each partition holds its active segment's file open: under a limit of 128
// descriptors the first partitions open and a later one cannot. The request
// answers with that topic's error, and nothing of the topic stays on disk or in
// the broker, so a retry with fewer partitions works.
TEST_F(AdminEndToEnd, CreateTopicThatFailsPartWayAnswersTheErrorAndLeavesNothingBehind) {
#if defined(__SANITIZE_ADDRESS__)
  // UBSan's vptr check opens a pipe to probe memory; with every descriptor in use that
  // fails and it reports a false "invalid vptr" (strace: pipe2 = EMFILE right before it).
  GTEST_SKIP() << "needs every descriptor in use, which the sanitizers' vptr check cannot run with";
#endif
  broker_->set_open_files_limit(128);
  ASSERT_TRUE(broker_->start()) << broker_->log();
  auto admin = client::Admin::create({.bootstrap = broker_->address()});
  ASSERT_TRUE(admin.has_value());

  auto statuses = admin->create_topics({{"huge", 200, {}}});
  ASSERT_TRUE(statuses.has_value()) << statuses.error().to_string();
  ASSERT_EQ(statuses->size(), 1u);
  EXPECT_EQ((*statuses)[0].name, "huge");
  ASSERT_FALSE((*statuses)[0].status.has_value());
  const Error& error = (*statuses)[0].status.error();
  EXPECT_NE(error.message.find("STORAGE_ERROR"), std::string::npos) << error.to_string();
  std::smatch failed;
  ASSERT_TRUE(std::regex_search(error.message, failed, std::regex("cannot open partition ([0-9]+) of 'huge'")))
      << error.to_string();
  EXPECT_GT(std::stoi(failed[1]), 0) << "the test needs the first partitions to open and a later one to fail";
  EXPECT_NE(error.message.find("Too many open files"), std::string::npos) << error.to_string();

  EXPECT_EQ(files_of("huge"), std::vector<std::string>{}) << "no partition directory, no metadata file";
  EXPECT_EQ(admin->describe_topic("huge").error().code, client::ErrorCode::unknown_topic_or_partition);

  ASSERT_TRUE(admin->create_topic("huge", 20).has_value());
  client::Producer producer({.bootstrap = broker_->address()});
  auto sent = producer.send({.topic = "huge", .partition = 19, .value = "after the retry"}).get();
  ASSERT_TRUE(sent.has_value()) << sent.error().to_string();
  EXPECT_EQ(sent->offset, 0);
}

}  // namespace
}  // namespace sluice
