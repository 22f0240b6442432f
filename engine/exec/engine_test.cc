#include "engine/exec/engine.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <thread>

#include "engine/exec/kernels.h"
#include "engine/storage/memory_queryable.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace paodin::engine {
namespace {

Labels L(std::vector<std::pair<std::string, std::string>> pairs) {
  return *Labels::FromPairs(std::move(pairs));
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Two counters, one sample every 15s for 10 minutes.
    for (int i = 0; i <= 40; ++i) {
      store_.Add(L({{"__name__", "req"}, {"job", "a"}}), i * 15000, i * 10.0);
      store_.Add(L({{"__name__", "req"}, {"job", "b"}}), i * 15000, i * 20.0);
    }
  }

  MemoryQueryable store_;
  Engine engine_;
};

TEST_F(EngineTest, InstantSelector) {
  auto r = engine_.InstantQuery(store_, "req", 600000);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->type, ResultType::kVector);
  ASSERT_EQ(r->series.size(), 2u);
  EXPECT_EQ(r->series[0].vs[0], 400);
}

TEST_F(EngineTest, SumByRate) {
  auto r = engine_.InstantQuery(store_, "sum by (job) (rate(req[1m]))", 600000);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->series.size(), 2u);
  for (const auto& s : r->series) {
    double want = s.labels.Get("job") == "a" ? 10.0 / 15 : 20.0 / 15;
    EXPECT_NEAR(s.vs[0], want, 1e-9);
  }
}

TEST_F(EngineTest, RangeQueryIsSortedAndHasEveryStep) {
  auto r = engine_.RangeQuery(store_, "req * 2", 0, 600000, 60000);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->type, ResultType::kMatrix);
  ASSERT_EQ(r->series.size(), 2u);
  EXPECT_EQ(r->series[0].labels.Get("job"), "a");
  EXPECT_EQ(r->series[0].ts.size(), 11u);
  EXPECT_FALSE(r->series[0].labels.Has("__name__"));
}

TEST_F(EngineTest, ScalarResult) {
  auto r = engine_.InstantQuery(store_, "1 + 2", 0);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->type, ResultType::kScalar);
  EXPECT_EQ(r->scalar, 3);
}

TEST_F(EngineTest, ManyToManyMatchingFails) {
  auto r = engine_.InstantQuery(store_, "req + on() req", 600000);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), ::testing::HasSubstr("many-to-many"));
}

TEST_F(EngineTest, ParseErrorIsInvalidArgument) {
  auto r = engine_.InstantQuery(store_, "sum(", 0);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(EngineTest, TooManySamples) {
  Engine small(EngineOptions{.max_samples = 10});
  auto r = small.InstantQuery(store_, "rate(req[10m])", 600000);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(EngineTest, Cancellation) {
  std::atomic<bool> cancel{true};
  auto r = engine_.InstantQuery(store_, "req", 0, QueryOptions{.cancel = &cancel});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled);
}

TEST_F(EngineTest, StaleMarkerEndsSeries) {
  store_.Add(L({{"__name__", "s"}}), 0, 1);
  store_.Add(L({{"__name__", "s"}}), 10000, StaleNaN());
  auto before = engine_.InstantQuery(store_, "s", 5000);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->series.size(), 1u);
  auto after = engine_.InstantQuery(store_, "s", 20000);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->series.size(), 0u);
}

}  // namespace
}  // namespace paodin::engine

namespace paodin::engine {
namespace {

// Series shards on several threads must give exactly the single-threaded result.
TEST(EngineThreadsTest, ShardedResultEqualsSingleThreaded) {
  MemoryQueryable store;
  for (int s = 0; s < 1000; ++s) {
    Labels l = *Labels::FromPairs(
        {{"__name__", "m"}, {"job", "j" + std::to_string(s % 7)}, {"i", std::to_string(s)}});
    for (int i = 0; i <= 120; ++i) {
      if ((i + s) % 13 == 0)
        continue;  // gaps
      store.Add(l, i * 15000, (s % 5 == 0 && i == 60) ? 0 : i * (s % 3 + 1.0));
    }
  }
  Engine one(EngineOptions{.threads = 1});
  Engine two(EngineOptions{.threads = 2});
  for (const char* q :
       {"m", "rate(m[2m])", "sum by (job) (increase(m[5m]))", "max_over_time(m[1m:15s])",
        "absent_over_time(m[1m])", "m / on(i) (m offset 1m)", "(rate(m[1m]) > bool 1) or m",
        "topk by (job) (3, m) + on(i) group_left sum by (i) (m)"}) {
    auto a = one.RangeQuery(store, q, 0, 1800000, 30000);
    auto b = two.RangeQuery(store, q, 0, 1800000, 30000);
    ASSERT_TRUE(a.ok() && b.ok()) << q;
    ASSERT_EQ(a->series.size(), b->series.size()) << q;
    for (size_t i = 0; i < a->series.size(); ++i) {
      EXPECT_EQ(a->series[i].labels, b->series[i].labels) << q;
      EXPECT_EQ(a->series[i].ts, b->series[i].ts) << q;
      EXPECT_EQ(a->series[i].vs, b->series[i].vs) << q;
    }
  }
}

TEST(EngineThreadsTest, ShardErrorsPropagate) {
  MemoryQueryable store;
  for (int s = 0; s < 600; ++s) {
    store.Add(*Labels::FromPairs({{"__name__", "m"}, {"i", std::to_string(s)}}), 0, 1);
    store.Add(*Labels::FromPairs({{"__name__", "m"}, {"i", std::to_string(s)}}), 15000, 2);
  }
  Engine two(EngineOptions{.threads = 2});
  auto r = two.InstantQuery(store, "holt_winters(m[1m], 2, 0.5)", 30000);
  EXPECT_FALSE(r.ok());
}

// A store whose Select takes longer than the query's timeout, so the deadline has passed
// before the first batch is evaluated, whatever the machine's speed.
class SlowQueryable final : public Queryable {
 public:
  explicit SlowQueryable(Queryable* inner) : inner_(inner) {}

  absl::StatusOr<std::unique_ptr<SeriesSet>> Select(const SelectHints& hints,
                                                    std::span<const Matcher> matchers,
                                                    const QueryContext& ctx) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return inner_->Select(hints, matchers, ctx);
  }

 private:
  Queryable* inner_;
};

TEST(EngineTest2, TimeoutIsDeadlineExceeded) {
  MemoryQueryable store;
  store.Add(*Labels::FromPairs({{"__name__", "m"}}), 0, 1);
  SlowQueryable slow(&store);
  Engine engine(EngineOptions{.timeout_ms = 1});
  absl::Status st = engine.RangeQuery(slow, "sum_over_time(m[1h:1s])", 0, 86400000, 1000).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded) << st;
}

TEST(EngineTest2, RangeQueryOfStringOrMatrixFails) {
  MemoryQueryable store;
  Engine engine;
  EXPECT_EQ(engine.RangeQuery(store, "\"x\"", 0, 10, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(engine.RangeQuery(store, "m[5m]", 0, 10, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(engine.RangeQuery(store, "m", 0, 10, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Prometheus 2.42's topk/bottomk loop: a full heap is Pop + Push and a NaN on top is replaced
// by anything, so among equal values the series kept are the ones 2.42 keeps.
TEST(EngineTest2, BottomkKeepsTheTiesOfPrometheus242) {
  MemoryQueryable store;
  const std::vector<std::pair<std::string, double>> in = {
      {"huge", 1e300}, {"inf", 2}, {"nan", 2}, {"tiny", 1e-300}};
  for (const auto& [kind, v] : in)
    store.Add(*Labels::FromPairs({{"__name__", "x"}, {"kind", kind}}), 0, v);
  Engine engine;
  auto r = engine.InstantQuery(store, "bottomk(2, x)", 0);
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<std::string> kinds;
  for (const ResultSeries& s : r->series)
    kinds.emplace_back(s.labels.Get("kind"));
  EXPECT_THAT(kinds, ::testing::ElementsAre("tiny", "nan"));
}

TEST(EngineTest2, TopkReplacesANaNTopEvenWithNaN) {
  MemoryQueryable store;
  const std::vector<std::pair<std::string, double>> in = {
      {"a", std::nan("")}, {"b", std::nan("")}, {"c", 1}};
  for (const auto& [name, v] : in)
    store.Add(*Labels::FromPairs({{"__name__", "x"}, {"s", name}}), 0, v);
  Engine engine;
  auto r = engine.InstantQuery(store, "topk(2, x)", 0);
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<std::string> names;
  for (const ResultSeries& s : r->series)
    names.emplace_back(s.labels.Get("s"));
  // Go's heap: [a] -> push b, which sifts above a (NaN is "less") -> [b, a] -> the NaN top
  // admits c: Pop removes b -> [a], Push c -> [a, c] -> reverse sort: c, a.
  EXPECT_THAT(names, ::testing::ElementsAre("c", "a"));
}

// Argument errors found while evaluating are execution errors (422 in the API), as in
// Prometheus, where these functions panic during evaluation.
TEST(EngineTest2, FunctionArgumentErrorsAreExecutionErrors) {
  MemoryQueryable store;
  store.Add(*Labels::FromPairs({{"__name__", "m"}, {"job", "j"}}), 0, 1);
  store.Add(*Labels::FromPairs({{"__name__", "m"}, {"job", "j"}}), 15000, 2);
  Engine engine;
  for (const char* q : {"label_replace(m, \"foo\", \"x\", \"job\", \"(\")",
                        "label_replace(nothing, \"1bad\", \"x\", \"job\", \".*\")",
                        "label_join(m, \"x\", \",\", \"1bad\")", "holt_winters(m[1m], 2, 0.5)",
                        "holt_winters(m[1m], 0.5, 0)"}) {
    EXPECT_EQ(engine.InstantQuery(store, q, 30000).status().code(),
              absl::StatusCode::kFailedPrecondition)
        << q;
  }
}

TEST(EngineTest2, StartAndEndResolveToQueryRange) {
  MemoryQueryable store;
  for (int i = 0; i <= 20; ++i)
    store.Add(*Labels::FromPairs({{"__name__", "m"}}), i * 60000, i);
  Engine engine;
  auto r = engine.RangeQuery(store, "m @ start() + m @ end()", 120000, 600000, 60000);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->series.size(), 1u);
  for (double v : r->series[0].vs)
    EXPECT_EQ(v, 2 + 10);
  auto s = engine.InstantQuery(store, "m @ end()", 300000);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->series[0].vs[0], 5);
}

TEST(EngineTest2, InstantMatrixResult) {
  MemoryQueryable store;
  for (int i = 0; i <= 10; ++i)
    store.Add(*Labels::FromPairs({{"__name__", "m"}}), i * 60000, i);
  Engine engine;
  auto r = engine.InstantQuery(store, "m[2m]", 300000);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->type, ResultType::kMatrix);
  ASSERT_EQ(r->series.size(), 1u);
  EXPECT_EQ(r->series[0].ts, (std::vector<int64_t>{180000, 240000, 300000}));
  auto sq = engine.InstantQuery(store, "m[2m:1m]", 300000);
  ASSERT_TRUE(sq.ok()) << sq.status();
  EXPECT_EQ(sq->series[0].vs, (std::vector<double>{3, 4, 5}));
}

TEST(EngineTest2, StringResult) {
  MemoryQueryable store;
  Engine engine;
  auto r = engine.InstantQuery(store, "\"hello\"", 1000);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->type, ResultType::kString);
  EXPECT_EQ(r->str, "hello");
}

}  // namespace
}  // namespace paodin::engine

namespace paodin::engine {
namespace {

// Records the hints of every Select and forwards to a memory store.
class RecordingQueryable : public Queryable {
 public:
  absl::StatusOr<std::unique_ptr<SeriesSet>> Select(const SelectHints& hints,
                                                    std::span<const Matcher> matchers,
                                                    const QueryContext& ctx) override {
    hints_.push_back(hints);
    return store_.Select(hints, matchers, ctx);
  }

  MemoryQueryable store_;
  std::vector<SelectHints> hints_;
};

TEST(EngineHintsTest, FuncRangeAndGroupingLikePrometheus) {
  RecordingQueryable q;
  Engine engine;
  ASSERT_TRUE(engine.InstantQuery(q, "sum by (job) (rate(m[5m] offset 1m))", 600000).ok());
  ASSERT_EQ(q.hints_.size(), 1u);
  EXPECT_EQ(q.hints_[0].func, "rate");
  EXPECT_EQ(q.hints_[0].range_ms, 300000);
  EXPECT_EQ(q.hints_[0].start_ms, 600000 - 60000 - 300000);
  EXPECT_EQ(q.hints_[0].end_ms, 600000 - 60000);
  EXPECT_TRUE(q.hints_[0].grouping.empty());

  q.hints_.clear();
  ASSERT_TRUE(engine.RangeQuery(q, "max without (i) (m) + m", 0, 600000, 60000).ok());
  ASSERT_EQ(q.hints_.size(), 2u);
  EXPECT_EQ(q.hints_[0].func, "max");
  EXPECT_FALSE(q.hints_[0].by);
  EXPECT_EQ(q.hints_[0].grouping, std::vector<std::string>{"i"});
  EXPECT_EQ(q.hints_[0].step_ms, 60000);
  EXPECT_EQ(q.hints_[0].start_ms, -300000);
  EXPECT_EQ(q.hints_[1].func, "");
}

// Logs "select <name>" for each Select and "read <name>" when a selection's first series is
// read.
class EventQueryable : public Queryable {
 public:
  class LoggingSet : public SeriesSet {
   public:
    LoggingSet(std::unique_ptr<SeriesSet> in, std::string name, std::vector<std::string>* log)
        : in_(std::move(in)), name_(std::move(name)), log_(log) {}

    bool Next() override {
      if (!read_)
        log_->push_back("read " + name_);
      read_ = true;
      return in_->Next();
    }

    const Labels& labels() const override { return in_->labels(); }

    std::unique_ptr<SampleIterator> Samples() override { return in_->Samples(); }

    absl::Status status() const override { return in_->status(); }

    std::vector<std::string> warnings() const override { return in_->warnings(); }

   private:
    std::unique_ptr<SeriesSet> in_;
    std::string name_;
    std::vector<std::string>* log_;
    bool read_ = false;
  };

  absl::StatusOr<std::unique_ptr<SeriesSet>> Select(const SelectHints& hints,
                                                    std::span<const Matcher> matchers,
                                                    const QueryContext& ctx) override {
    std::string name;
    for (const Matcher& m : matchers) {
      if (m.name() == "__name__")
        name = m.value();
    }
    log_.push_back("select " + name);
    absl::StatusOr<std::unique_ptr<SeriesSet>> set = store_.Select(hints, matchers, ctx);
    if (!set.ok())
      return set.status();
    return std::unique_ptr<SeriesSet>(new LoggingSet(*std::move(set), name, &log_));
  }

  MemoryQueryable store_;
  std::vector<std::string> log_;
};

// Like Prometheus, every selection is opened before the first is read (remote stores then
// stream them all at once), and each selector is selected once.
TEST(EngineHintsTest, AllSelectionsOpenBeforeTheFirstIsRead) {
  EventQueryable q;
  for (const char* name : {"a", "b", "c"}) {
    for (int i = 0; i < 10; ++i)
      q.store_.Add(*Labels::FromPairs({{"__name__", name}}), i * 60000, i);
  }
  Engine engine;
  auto r = engine.RangeQuery(q, "sum(rate(a[5m])) / sum(b) + max_over_time(c[10m:1m])", 300000,
                             540000, 60000);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(q.log_.size(), 6u);
  EXPECT_EQ(q.log_[0], "select a");
  EXPECT_EQ(q.log_[1], "select b");
  EXPECT_EQ(q.log_[2], "select c");
  EXPECT_EQ(q.log_[3], "read a");

  // One selector: selected once, no second planning pass needed.
  q.log_.clear();
  ASSERT_TRUE(engine.InstantQuery(q, "sum(a)", 300000).ok());
  EXPECT_EQ(q.log_, (std::vector<std::string>{"select a", "read a"}));
}

TEST(EngineHintsTest, SelectErrorsPropagate) {
  class Failing : public Queryable {
   public:
    absl::StatusOr<std::unique_ptr<SeriesSet>> Select(const SelectHints&, std::span<const Matcher>,
                                                      const QueryContext&) override {
      return absl::UnavailableError("store down");
    }
  } q;

  Engine engine;
  auto r = engine.InstantQuery(q, "sum(rate(m[5m]))", 0);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace paodin::engine

namespace paodin::engine {
namespace {

TEST(EngineLimitsTest, SubqueryCountsTowardsMaxSamples) {
  MemoryQueryable store;
  for (int i = 0; i < 10; ++i)
    store.Add(*Labels::FromPairs({{"__name__", "m"}}), i * 1000, i);
  Engine engine(EngineOptions{.max_samples = 100});
  auto r = engine.InstantQuery(store, "sum_over_time(vector(1)[1h:1s])", 3600000);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(r.status().message()), ::testing::HasSubstr("too many samples"));
}

TEST(EngineLimitsTest, ZeroDefaultIntervalFallsBackToOneMinute) {
  MemoryQueryable store;
  Engine engine(EngineOptions{.default_eval_interval_ms = 0});
  auto r = engine.InstantQuery(store, "count_over_time(vector(1)[5m:])", 600000);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->series[0].vs[0], 6);
}

}  // namespace
}  // namespace paodin::engine

namespace paodin::engine {
namespace {

// Long series: buffers are compacted as the evaluation walks forward, so only the windows are
// held, and the results stay exact.
TEST(EngineStreamingTest, LongSeriesAreStreamedAndCompacted) {
  MemoryQueryable store;
  const int kSamples = 20000;
  for (int s = 0; s < 3; ++s) {
    Labels l = *Labels::FromPairs({{"__name__", "m"}, {"s", std::to_string(s)}});
    for (int i = 0; i < kSamples; ++i)
      store.Add(l, int64_t{i} * 15000, i + s);
  }
  for (int threads : {1, 2}) {
    Engine engine(EngineOptions{.threads = threads});
    const int64_t end = int64_t{kSamples - 1} * 15000;
    auto r = engine.RangeQuery(store, "count_over_time(m[1m])", 60000, end, 60000);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->series.size(), 3u);
    for (double v : r->series[1].vs)
      ASSERT_EQ(v, 5);
    EXPECT_LT(r->stats.peak_samples, 3 * kSamples / 2);
    auto v = engine.RangeQuery(store, "m", 0, end, 60000);
    ASSERT_TRUE(v.ok()) << v.status();
    for (size_t i = 0; i < v->series[2].ts.size(); ++i) {
      ASSERT_EQ(v->series[2].vs[i], v->series[2].ts[i] / 15000 + 2);
    }
  }
}

}  // namespace
}  // namespace paodin::engine

namespace paodin::engine {
namespace {

// Range functions evaluated incrementally (rate/increase keep their counter resets as the
// window slides; count/last/present use only the window bounds; sum/avg_over_time run eight
// windows interleaved) must equal, bit for bit, the
// kernel applied to each full window, on every evaluation path: the series-major root path, the
// step batches under a binary operator, and the stream blocks under an aggregation; with one
// thread and with two.
struct PathFn {
  const char* name;
  promql::FunctionId id;
};

// Checks every function of `fns` on 40 irregular series whose next value `next_value(prev,
// rnd)` gives.
void CheckPathsAgainstKernel(std::span<const PathFn> fns,
                             const std::function<double(double, uint64_t)>& next_value) {
  MemoryQueryable store;
  std::vector<std::vector<std::pair<int64_t, double>>> data(40);
  uint64_t rnd = 12345;
  auto next = [&rnd] {
    rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
    return rnd >> 33;
  };
  for (int s = 0; s < 40; ++s) {
    Labels l = *Labels::FromPairs({{"__name__", "c"}, {"s", std::to_string(s)}});
    double v = 0;
    int64_t t = static_cast<int64_t>(next() % 20000);
    while (t < 3'600'000) {
      v = next_value(v, next());
      store.Add(l, t, v);
      data[s].push_back({t, v});
      t += 5000 + static_cast<int64_t>(next() % 40000);  // irregular, sometimes gaps > range
    }
  }

  const int64_t start = 600'000, end = 3'500'000;
  for (int64_t range_ms : {60'000, 300'000, 1'234'000}) {
    for (int64_t step : {15'000, 60'000, 77'000}) {
      for (const PathFn& fn : fns) {
        // Expected: the kernel on each full window.
        std::map<std::string, std::vector<std::pair<int64_t, double>>> want;
        for (int s = 0; s < 40; ++s) {
          for (int64_t t = start; t <= end; t += step) {
            std::vector<int64_t> ts;
            std::vector<double> vs;
            for (auto [st, sv] : data[s]) {
              if (st >= t - range_ms && st <= t) {
                ts.push_back(st);
                vs.push_back(sv);
              }
            }
            if (ts.empty())
              continue;
            exec::Window w{.ts = ts, .vs = vs, .range_end = t, .range_ms = range_ms, .eval_ts = t};
            auto v = exec::EvalRangeFunction(fn.id, w, {});
            ASSERT_TRUE(v.ok());
            if (v->has_value())
              want[std::to_string(s)].push_back({t, **v});
          }
        }
        const std::string sel =
            std::string(fn.name) + "(c[" + std::to_string(range_ms / 1000) + "s])";
        for (int threads : {1, 2}) {
          EngineOptions opts;
          opts.threads = threads;
          opts.parallel_min_series = 1;
          Engine engine(opts);
          for (const std::string& q :
               {sel, sel + " * 1", "sum by (s) (" + sel + ")", "max by (s) (" + sel + ")"}) {
            SCOPED_TRACE(q + " step=" + std::to_string(step) +
                         " threads=" + std::to_string(threads));
            auto r = engine.RangeQuery(store, q, start, end, step);
            ASSERT_TRUE(r.ok()) << r.status();
            ASSERT_EQ(r->series.size(), want.size());
            for (const ResultSeries& rs : r->series) {
              const auto& w = want[std::string(rs.labels.Get("s"))];
              ASSERT_EQ(rs.ts.size(), w.size());
              for (size_t k = 0; k < w.size(); ++k) {
                ASSERT_EQ(rs.ts[k], w[k].first);
                // Bit-identical (the `* 1` and single-series aggregations are exact).
                ASSERT_EQ(std::memcmp(&rs.vs[k], &w[k].second, sizeof(double)), 0)
                    << rs.vs[k] << " vs " << w[k].second << " at " << rs.ts[k];
              }
            }
          }
        }
      }
    }
  }
}

TEST(RangeFunctionPathsTest, IncrementalWindowsEqualTheFullWindowKernel) {
  const PathFn fns[] = {{"rate", promql::FunctionId::kRate},
                        {"increase", promql::FunctionId::kIncrease},
                        {"delta", promql::FunctionId::kDelta},
                        {"count_over_time", promql::FunctionId::kCountOverTime},
                        {"last_over_time", promql::FunctionId::kLastOverTime},
                        {"present_over_time", promql::FunctionId::kPresentOverTime},
                        {"sum_over_time", promql::FunctionId::kSumOverTime},
                        {"avg_over_time", promql::FunctionId::kAvgOverTime},
                        {"max_over_time", promql::FunctionId::kMaxOverTime},
                        {"min_over_time", promql::FunctionId::kMinOverTime}};
  CheckPathsAgainstKernel(fns, [](double v, uint64_t r) {
    // Counters with resets.
    return r % 23 == 0 ? static_cast<double>((r >> 8) % 5) : v + static_cast<double>((r >> 8) % 9);
  });
}

// max/min_over_time's queue against Prometheus' loop where it is subtle: NaNs (first, last,
// all of a window), signed zeros (the first of equal extremes wins), infinities, ties.
TEST(RangeFunctionPathsTest, IncrementalExtremesMatchTheKernelOnSpecialValues) {
  const PathFn fns[] = {{"max_over_time", promql::FunctionId::kMaxOverTime},
                        {"min_over_time", promql::FunctionId::kMinOverTime}};
  CheckPathsAgainstKernel(fns, [](double, uint64_t r) {
    const double kValues[] = {std::numeric_limits<double>::quiet_NaN(),
                              0.0,
                              -0.0,
                              1.0,
                              -1.0,
                              2.0,
                              std::numeric_limits<double>::infinity(),
                              -std::numeric_limits<double>::infinity()};
    // NaN three times as often, so that whole windows are NaN now and then.
    const uint64_t k = (r >> 8) % 10;
    return k >= 8 ? kValues[0] : kValues[k];
  });
}

}  // namespace
}  // namespace paodin::engine
