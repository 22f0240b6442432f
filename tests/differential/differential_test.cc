// The differential test: the same generated data in a real Prometheus 2.42 (by remote write)
// and in our MemStore, the same corpus of queries against both (Prometheus through its HTTP
// API, ours through Engine directly), as instant queries at several times and as range queries
// over dashboard-like windows; every answer must agree (see result_compare.h for the rules).
//
// Environment knobs for developers: PAODIN_DIFF_FILTER=substring runs only matching queries,
// PAODIN_DIFF_VERBOSE=1 prints every comparison, PAODIN_DIFF_START_MS moves the data,
// PAODIN_DIFF_PARALLEL=0 skips the two-thread engine run, and PAODIN_DIFF_KEEP_TMP=1 keeps
// Prometheus' temporary folder.
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/exec/engine.h"
#include "gtest/gtest.h"
#include "storeapi/memstore/memstore.h"
#include "tests/differential/corpus.h"
#include "tests/differential/data_gen.h"
#include "tests/differential/http_client.h"
#include "tests/differential/loaders.h"
#include "tests/differential/prometheus_process.h"
#include "tests/differential/result_compare.h"

#ifndef PAODIN_DIFF_QUERIES
#error "PAODIN_DIFF_QUERIES must name queries.txt"
#endif

namespace paodin::differential {
namespace {

// 2023-11-30T22:00:00Z: the data crosses midnight and a month end, which the time functions
// (day_of_month, days_in_month, month, ...) notice. Prometheus accepts such old samples by
// remote write as long as they arrive in time order within its head's window.
constexpr int64_t kDefaultStartMs = 1701381600000;

std::string PromTime(int64_t ms) { return absl::StrFormat("%d.%03d", ms / 1000, ms % 1000); }

// One way of evaluating a query: an instant query at `start`, or a range query.
struct Evaluation {
  std::string name;
  bool instant = true;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  int64_t step_ms = 0;
};

std::string Describe(const Evaluation& e) {
  if (e.instant)
    return absl::StrCat(e.name, " (instant @", e.start_ms, ")");
  return absl::StrCat(e.name, " (range ", e.start_ms, "..", e.end_ms, " step ", e.step_ms, ")");
}

absl::StatusOr<Answer> AskPrometheus(int port, const std::string& query, const Evaluation& e) {
  std::string target;
  if (e.instant) {
    target = absl::StrCat("/api/v1/query?query=", UrlEncode(query), "&time=", PromTime(e.start_ms));
  } else {
    target = absl::StrCat("/api/v1/query_range?query=", UrlEncode(query),
                          "&start=", PromTime(e.start_ms), "&end=", PromTime(e.end_ms),
                          "&step=", PromTime(e.step_ms));
  }
  absl::StatusOr<HttpResponse> r = HttpRequest(port, "GET", target);
  if (!r.ok())
    return r.status();
  absl::StatusOr<Answer> a = AnswerFromPrometheus(r->body);
  if (!a.ok()) {
    return absl::InternalError(
        absl::StrCat(a.status().message(), " (HTTP ", r->status, "): ", r->body.substr(0, 300)));
  }
  return a;
}

Answer AskEngine(const engine::Engine& eng, storeapi::MemStore& store, const std::string& query,
                 const Evaluation& e) {
  if (e.instant)
    return AnswerFromEngine(eng.InstantQuery(store, query, e.start_ms));
  return AnswerFromEngine(eng.RangeQuery(store, query, e.start_ms, e.end_ms, e.step_ms));
}

TEST(DifferentialTest, EngineAgreesWithPrometheus242) {
  DataSetSpec spec;
  spec.start_ms = kDefaultStartMs;
  if (const char* s = std::getenv("PAODIN_DIFF_START_MS"); s != nullptr && *s != '\0') {
    spec.start_ms = std::atoll(s);
  }
  const char* filter_env = std::getenv("PAODIN_DIFF_FILTER");
  const std::string filter = filter_env != nullptr ? filter_env : "";
  const bool verbose = std::getenv("PAODIN_DIFF_VERBOSE") != nullptr;

  absl::StatusOr<std::vector<CorpusEntry>> corpus = ReadCorpusFile(PAODIN_DIFF_QUERIES);
  ASSERT_TRUE(corpus.ok()) << corpus.status();
  if (filter.empty()) {
    ASSERT_GE(corpus->size(), 300u) << "the corpus must hold 300+ queries";
  }

  const auto t_begin = std::chrono::steady_clock::now();
  DataSet data = GenerateDataSet(spec);
  ASSERT_GT(data.series.size(), 200u);

  absl::StatusOr<std::unique_ptr<PrometheusProcess>> prom = PrometheusProcess::Start();
  if (absl::IsNotFound(prom.status()))
    GTEST_SKIP() << prom.status();
  ASSERT_TRUE(prom.ok()) << prom.status();
  const int port = (*prom)->port();

  absl::StatusOr<int> requests = RemoteWrite(port, data);
  ASSERT_TRUE(requests.ok()) << requests.status() << "\n" << (*prom)->LogTail();

  storeapi::MemStore store;
  absl::Status loaded = LoadMemStore(data, store);
  ASSERT_TRUE(loaded.ok()) << loaded;

  // Prometheus must hold every sample: a range selection over all the data returns each one
  // (staleness markers excepted) with its exact time and value.
  {
    int64_t stale = 0;
    for (const GenSeries& s : data.series) {
      for (double v : s.vs) {
        uint64_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        if (bits == 0x7ff0000000000002ULL)
          ++stale;
      }
    }
    Evaluation all{"all", true, data.max_ms, 0, 0};
    absl::StatusOr<Answer> a = AskPrometheus(port, "{__name__=~\".+\"}[4h]", all);
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE(a->error.empty()) << a->error;
    int64_t points = 0;
    for (const AnswerSeries& s : a->series)
      points += static_cast<int64_t>(s.ts.size());
    EXPECT_EQ(a->series.size(), data.series.size());
    ASSERT_EQ(points, data.num_samples - stale) << "Prometheus did not keep every sample";
  }

  // Instant queries at the start edge, in the middle on and off the scrape grid, just after
  // the data ends (lookback) and well after; range queries like a dashboard.
  const int64_t t0 = data.min_ms;
  const int64_t t1 = data.max_ms;
  const std::vector<Evaluation> runs = {
      {"instant-early", true, t0 + 2 * 60000, 0, 0},
      {"instant-mid", true, t0 + 75 * 60000, 0, 0},
      {"instant-odd", true, t0 + 101 * 60000 + 7 * 1000 + 123, 0, 0},
      {"instant-end", true, t1 + 3 * 60000, 0, 0},
      {"range-dashboard", false, t0 + 60000, t1 + 10 * 60000, 60000},
      {"range-zoom", false, t0 + 42 * 60000 + 500, t0 + 73 * 60000, 15000},
      // On the scrape grid of the aligned series: window and lookback edges hit samples.
      {"instant-aligned", true, spec.start_ms + 65 * 60000, 0, 0},
      {"range-aligned", false, spec.start_ms + 30 * 60000, spec.start_ms + 120 * 60000, 60000},
      // A step longer than the lookback, a single-step range, and before any data.
      {"range-coarse", false, t0, t1 + 10 * 60000, 7 * 60000 + 13000},
      {"range-single", false, t0 + 50 * 60000, t0 + 50 * 60000, 60000},
      {"instant-before", true, t0 - 10 * 60000, 0, 0},
  };

  // Our engine twice: on one thread, and on two threads with every operator on its parallel
  // path (PAODIN_DIFF_PARALLEL=0 leaves the second out).
  engine::EngineOptions parallel_options;
  parallel_options.threads = 2;
  parallel_options.parallel_min_series = 1;
  std::vector<std::pair<std::string, engine::Engine>> engines;
  engines.emplace_back("", engine::Engine(engine::EngineOptions{}));
  if (const char* p = std::getenv("PAODIN_DIFF_PARALLEL"); p == nullptr || *p != '0') {
    engines.emplace_back(" [threads=2]", engine::Engine(parallel_options));
  }
  int queries = 0, passed = 0, failed = 0, known_failed = 0;
  // What Prometheus answered: data, an empty vector/matrix, or an error.
  int answers_data = 0, answers_empty = 0, answers_error = 0;
  // Values that agree only within the tolerance (for the report; not a failure).
  int64_t inexact_values = 0;
  std::map<std::string, std::string> inexact_queries;
  std::vector<std::string> fixed_known;
  for (const CorpusEntry& entry : *corpus) {
    if (!filter.empty() && entry.query.find(filter) == std::string::npos)
      continue;
    ++queries;
    CompareOptions opts;
    bool entry_failed = false;
    std::string report;
    for (const Evaluation& e : runs) {
      opts.ordered = e.instant && OrderMatters(entry.query);
      absl::StatusOr<Answer> want = AskPrometheus(port, entry.query, e);
      ASSERT_TRUE(want.ok()) << entry.query << ": " << want.status();
      if (!want->error_type.empty()) {
        ++answers_error;
      } else if (want->series.empty() && want->type != "scalar" && want->type != "string") {
        ++answers_empty;
      } else {
        ++answers_data;
      }
      for (const auto& [engine_name, eng] : engines) {
        Answer got = AskEngine(eng, store, entry.query, e);
        std::vector<std::string> diffs = CompareAnswers(*want, got, opts);
        if (verbose) {
          std::cout << (diffs.empty() ? "ok   " : "FAIL ") << entry.query << " " << Describe(e)
                    << engine_name << " -> "
                    << (want->error_type.empty() ? want->type : want->error_type) << " "
                    << want->series.size() << " series\n";
        }
        if (diffs.empty()) {
          ++passed;
          std::string worst;
          if (int64_t n = CountInexactValues(*want, got, &worst); n > 0) {
            inexact_values += n;
            inexact_queries.emplace(entry.query, worst);
          }
          continue;
        }
        if (!entry.known.empty()) {
          ++known_failed;
        } else {
          ++failed;
        }
        if (!entry_failed) {
          absl::StrAppend(&report, "line ", entry.line, ": ", entry.query, "\n  ", Describe(e),
                          engine_name, "\n");
          for (const std::string& d : diffs)
            absl::StrAppend(&report, "  ", d, "\n");
        } else {
          absl::StrAppend(&report, "  also differs: ", Describe(e), engine_name, "\n");
        }
        entry_failed = true;
      }
    }
    if (!entry.known.empty() && !entry_failed) {
      fixed_known.push_back(
          absl::StrCat("line ", entry.line, " [known:", entry.known, "] ", entry.query));
    }
    if (entry_failed) {
      if (entry.known.empty()) {
        ADD_FAILURE() << report;
      } else {
        std::cout << "[known:" << entry.known << "] " << report;
      }
    }
  }
  std::cout << "prometheus answers: " << answers_data << " with data, " << answers_empty
            << " empty, " << answers_error << " errors; each compared with " << engines.size()
            << " engine configurations\n";
  std::cout << "values equal within tolerance but not bit-identical: " << inexact_values << " in "
            << inexact_queries.size() << " queries\n";
  if (verbose) {
    for (const auto& [q, worst] : inexact_queries) {
      std::cout << "  inexact: " << q << "\n      e.g. " << worst << "\n";
    }
  }
  for (const std::string& k : fixed_known) {
    std::cout << "now agrees, remove the known mark: " << k << "\n";
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_begin).count();
  std::cout << absl::StrFormat(
      "differential: %d queries, %d comparisons passed, %d failed, %d known-failing; %d series, "
      "%d samples, %d remote-write requests, %.1f s\n",
      queries, passed, failed, known_failed, data.series.size(), data.num_samples, *requests,
      seconds);
  EXPECT_EQ(failed, 0);
}

}  // namespace
}  // namespace paodin::differential
