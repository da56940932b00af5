#include "engine/base/pipeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace portolan {
namespace {

struct WorkerState {
  int id = 0;
  int processed = 0;
  std::mt19937 rng;
};

std::vector<WorkerState> States(int n) {
  std::vector<WorkerState> states(n);
  for (int i = 0; i < n; ++i) {
    states[i].id = i;
    states[i].rng.seed(1234 + i);
  }
  return states;
}

// Random short delay (0-200 us) so workers finish out of order.
void Jitter(WorkerState& s) {
  std::uniform_int_distribution<int> d(0, 200);
  std::this_thread::sleep_for(std::chrono::microseconds(d(s.rng)));
}

class OrderedPipelineTest : public ::testing::TestWithParam<int> {};

TEST_P(OrderedPipelineTest, OutputsArriveInSubmissionOrder) {
  const int workers = GetParam();
  std::vector<int> got;
  std::atomic<int> worked{0};
  OrderedPipeline<int, std::string, WorkerState> pipeline(
      States(workers),
      [&](WorkerState& s, int x) -> Result<std::string> {
        Jitter(s);
        ++s.processed;
        ++worked;
        return std::to_string(x * 2);
      },
      [&](std::string out) {
        got.push_back(std::stoi(out));
        return Status::Ok();
      });
  EXPECT_EQ(pipeline.workers(), static_cast<size_t>(workers));
  const int n = 300;
  for (int i = 0; i < n; ++i) ASSERT_TRUE(pipeline.Submit(i).ok());
  ASSERT_TRUE(pipeline.Finish().ok());
  ASSERT_EQ(got.size(), static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) EXPECT_EQ(got[i], 2 * i);
  EXPECT_EQ(worked.load(), n);
  // Finish is idempotent; Submit after it is an error.
  EXPECT_TRUE(pipeline.Finish().ok());
  EXPECT_FALSE(pipeline.Submit(1).ok());
}

TEST_P(OrderedPipelineTest, EachWorkerUsesItsOwnState) {
  const int workers = GetParam();
  std::atomic<bool> shared_state{false};
  std::vector<std::atomic<int>> busy(workers);
  OrderedPipeline<int, int, WorkerState> pipeline(
      States(workers),
      [&](WorkerState& s, int x) -> Result<int> {
        if (busy[s.id].fetch_add(1) != 0) shared_state = true;  // two threads on one state
        Jitter(s);
        busy[s.id].fetch_sub(1);
        return x;
      },
      [](int) { return Status::Ok(); });
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(pipeline.Submit(i).ok());
  ASSERT_TRUE(pipeline.Finish().ok());
  EXPECT_FALSE(shared_state.load());
}

// Counts live instances, to check how many inputs/outputs exist at once.
struct Tracked {
  static std::atomic<int> live;
  static std::atomic<int> peak;
  int value = 0;
  explicit Tracked(int v) : value(v) { Up(); }
  Tracked(const Tracked& o) : value(o.value) { Up(); }
  Tracked(Tracked&& o) noexcept : value(o.value) { Up(); }
  Tracked& operator=(const Tracked&) = default;
  Tracked& operator=(Tracked&&) = default;
  ~Tracked() { --live; }
  static void Up() {
    const int now = ++live;
    int p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {
    }
  }
};
std::atomic<int> Tracked::live{0};
std::atomic<int> Tracked::peak{0};

TEST_P(OrderedPipelineTest, BackpressureBoundsWhatIsInFlight) {
  const int workers = GetParam();
  Tracked::live = 0;
  Tracked::peak = 0;
  std::atomic<int> submitted{0};
  int consumed = 0;
  int max_pending = 0;
  using Pipeline = OrderedPipeline<Tracked, Tracked, WorkerState>;
  Pipeline::Options options;
  options.max_in_flight = 3;
  {
    Pipeline pipeline(
        States(workers),
        [](WorkerState& s, Tracked in) -> Result<Tracked> {
          Jitter(s);
          return Tracked(in.value + 1);
        },
        [&](Tracked out) {
          EXPECT_EQ(out.value, consumed + 1);
          ++consumed;
          max_pending = std::max(max_pending, submitted.load() - consumed);
          return Status::Ok();
        },
        options);
    for (int i = 0; i < 100; ++i) {
      ++submitted;
      ASSERT_TRUE(pipeline.Submit(Tracked(i)).ok());
    }
    ASSERT_TRUE(pipeline.Finish().ok());
  }
  EXPECT_EQ(consumed, 100);
  // At most 3 inputs submitted but not consumed; live objects (counting moved-from copies of
  // the same item, the one being submitted and the one being consumed) stay far below the 100
  // submitted.
  EXPECT_LE(max_pending, 3);
  EXPECT_LE(Tracked::peak.load(), 20);
  EXPECT_EQ(Tracked::live.load(), 0);
}

TEST(OrderedPipelineTest, DefaultInFlightBound) {
  OrderedPipeline<int, int, WorkerState> four(
      States(4), [](WorkerState&, int x) -> Result<int> { return x; },
      [](int) { return Status::Ok(); });
  EXPECT_EQ(four.max_in_flight(), 10u);
}

TEST_P(OrderedPipelineTest, WorkerErrorSurfacesInOrder) {
  const int workers = GetParam();
  for (int fail_at : {0, 1, 7, 49, 99}) {
    std::vector<int> got;
    std::atomic<int> worked_after{0};
    OrderedPipeline<int, int, WorkerState> pipeline(
        States(workers),
        [&](WorkerState& s, int x) -> Result<int> {
          Jitter(s);
          if (x == fail_at || x == fail_at + 3) {  // a later failure must not win
            return InvalidArgument("bad input " + std::to_string(x));
          }
          if (x > fail_at) ++worked_after;
          return x;
        },
        [&](int x) {
          got.push_back(x);
          return Status::Ok();
        });
    Status status;
    int i = 0;
    for (; i < 100 && status.ok(); ++i) status = pipeline.Submit(i);
    if (status.ok()) status = pipeline.Finish();
    ASSERT_FALSE(status.ok()) << fail_at;
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(status.message(), "bad input " + std::to_string(fail_at));
    ASSERT_EQ(got.size(), static_cast<size_t>(fail_at)) << fail_at;
    for (int k = 0; k < fail_at; ++k) EXPECT_EQ(got[k], k);
    // Stopped: few inputs after the failure were submitted; the same error comes back.
    EXPECT_LE(i, fail_at + 1 + static_cast<int>(pipeline.max_in_flight()) + 1);
    EXPECT_EQ(pipeline.Submit(1000).message(), status.message());
    EXPECT_EQ(pipeline.Finish().message(), status.message());
  }
}

TEST_P(OrderedPipelineTest, ConsumerErrorStopsEverything) {
  const int workers = GetParam();
  for (int fail_at : {0, 5, 63}) {
    std::vector<int> got;
    OrderedPipeline<int, int, WorkerState> pipeline(
        States(workers),
        [&](WorkerState& s, int x) -> Result<int> {
          Jitter(s);
          return x;
        },
        [&](int x) {
          if (x == fail_at) return Internal("sink full");
          got.push_back(x);
          return Status::Ok();
        });
    Status status;
    for (int i = 0; i < 64 && status.ok(); ++i) status = pipeline.Submit(i);
    if (status.ok()) status = pipeline.Finish();
    EXPECT_EQ(status.code(), StatusCode::kInternal);
    EXPECT_EQ(status.message(), "sink full");
    EXPECT_EQ(got.size(), static_cast<size_t>(fail_at));
  }
}

TEST_P(OrderedPipelineTest, DestroyingWithoutFinishJoinsCleanly) {
  const int workers = GetParam();
  std::atomic<int> worked{0};
  int consumed = 0;
  {
    OrderedPipeline<std::unique_ptr<int>, std::unique_ptr<int>, WorkerState> pipeline(
        States(workers),
        [&](WorkerState& s, std::unique_ptr<int> x) -> Result<std::unique_ptr<int>> {
          Jitter(s);
          ++worked;
          return std::make_unique<int>(*x + 1);
        },
        [&](std::unique_ptr<int> x) {
          EXPECT_EQ(*x, consumed + 1);
          ++consumed;
          return Status::Ok();
        });
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(pipeline.Submit(std::make_unique<int>(i)).ok());
  }  // in-flight inputs are dropped; no leak (ASan), no hang
  EXPECT_LE(consumed, 50);
  EXPECT_GE(worked.load(), consumed);
}

TEST_P(OrderedPipelineTest, EmptyRun) {
  int consumed = 0;
  OrderedPipeline<int, int, WorkerState> pipeline(
      States(GetParam()), [](WorkerState&, int x) -> Result<int> { return x; },
      [&](int) {
        ++consumed;
        return Status::Ok();
      });
  EXPECT_TRUE(pipeline.Finish().ok());
  EXPECT_EQ(consumed, 0);
}

TEST(OrderedPipelineTest, SingleWorkerRunsInlineByDefault) {
  const std::thread::id caller = std::this_thread::get_id();
  std::thread::id worker_thread;
  OrderedPipeline<int, int, WorkerState> pipeline(
      States(1),
      [&](WorkerState&, int x) -> Result<int> {
        worker_thread = std::this_thread::get_id();
        return x;
      },
      [](int) { return Status::Ok(); });
  ASSERT_TRUE(pipeline.Submit(1).ok());
  EXPECT_EQ(worker_thread, caller);
  ASSERT_TRUE(pipeline.Finish().ok());

  using Pipeline = OrderedPipeline<int, int, WorkerState>;
  Pipeline::Options threaded;
  threaded.inline_single_worker = false;
  std::vector<int> got;
  Pipeline one_thread(
      States(1),
      [&](WorkerState&, int x) -> Result<int> {
        worker_thread = std::this_thread::get_id();
        return x;
      },
      [&](int x) {
        got.push_back(x);
        return Status::Ok();
      },
      threaded);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(one_thread.Submit(i).ok());
  ASSERT_TRUE(one_thread.Finish().ok());
  EXPECT_NE(worker_thread, caller);
  EXPECT_EQ(got.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(got[i], i);
}

INSTANTIATE_TEST_SUITE_P(Workers, OrderedPipelineTest, ::testing::Values(1, 2, 8),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::to_string(info.param) + "Workers";
                         });

}  // namespace
}  // namespace portolan
