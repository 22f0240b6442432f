// Test doubles for the HTTP layer: a small selector parser and a scriptable backend.
#ifndef PAODIN_HTTP_TESTING_FAKES_H_
#define PAODIN_HTTP_TESTING_FAKES_H_

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "http/backend.h"

namespace paodin::http::testing {

// Parses `name`, `{l="v",...}` and `name{...}` with = != =~ !~; anything else fails with
// `1:1: parse error: unexpected input "<s>"` (the real parser's messages differ).
absl::StatusOr<MatcherSet> FakeParseSelector(std::string_view s);

// A backend whose answers are functions set by the test. Unset functions return empty
// results. It records the last requests it saw.
class FakeBackend : public ApiBackend {
 public:
  absl::StatusOr<QueryResult> InstantQuery(const InstantQueryRequest& request,
                                           const engine::QueryContext& ctx) override;
  absl::StatusOr<QueryResult> RangeQuery(const RangeQueryRequest& request,
                                         const engine::QueryContext& ctx) override;
  absl::StatusOr<SeriesResult> Series(const MetadataRequest& request,
                                      const engine::QueryContext& ctx) override;
  absl::StatusOr<StringsResult> LabelNames(const MetadataRequest& request,
                                           const engine::QueryContext& ctx) override;
  absl::StatusOr<StringsResult> LabelValues(std::string_view name, const MetadataRequest& request,
                                            const engine::QueryContext& ctx) override;

  std::optional<StringsResult> LabelNamesAtHand(const MetadataRequest& request) override {
    return on_label_names_at_hand ? on_label_names_at_hand(request) : std::nullopt;
  }

  std::optional<StringsResult> LabelValuesAtHand(std::string_view name,
                                                 const MetadataRequest& request) override {
    return on_label_values_at_hand ? on_label_values_at_hand(name, request) : std::nullopt;
  }

  std::vector<EndpointStatus> Stores() override { return stores; }

  std::vector<std::pair<std::string, std::string>> Flags() override { return flags; }

  BuildInfo GetBuildInfo() override { return build_info; }

  bool Ready() override { return ready.load(); }

  std::function<absl::StatusOr<QueryResult>(const InstantQueryRequest&,
                                            const engine::QueryContext&)>
      on_instant;
  std::function<absl::StatusOr<QueryResult>(const RangeQueryRequest&, const engine::QueryContext&)>
      on_range;
  std::function<absl::StatusOr<SeriesResult>(const MetadataRequest&)> on_series;
  std::function<absl::StatusOr<StringsResult>(const MetadataRequest&)> on_label_names;
  std::function<absl::StatusOr<StringsResult>(std::string_view, const MetadataRequest&)>
      on_label_values;
  // Unset: nothing is at hand.
  std::function<std::optional<StringsResult>(const MetadataRequest&)> on_label_names_at_hand;
  std::function<std::optional<StringsResult>(std::string_view, const MetadataRequest&)>
      on_label_values_at_hand;
  std::vector<EndpointStatus> stores;
  std::vector<std::pair<std::string, std::string>> flags;
  BuildInfo build_info;
  std::atomic<bool> ready{true};

  // The last requests, guarded by mu.
  std::mutex mu;
  InstantQueryRequest last_instant;
  RangeQueryRequest last_range;
  MetadataRequest last_metadata;
  std::string last_label_name;
};

// A result series from label pairs and (t, v) points.
ResultSeries MakeSeries(std::vector<std::pair<std::string, std::string>> labels,
                        std::vector<std::pair<int64_t, double>> points);

// A scalar result.
QueryResult ScalarResult(int64_t t_ms, double v);

// Waits (polling every millisecond, at most `max_ms`) until `done` returns true; returns its
// last answer. For synchronisation with worker threads, never for timing assertions.
bool WaitFor(const std::function<bool()>& done, int max_ms = 10000);

}  // namespace paodin::http::testing

#endif  // PAODIN_HTTP_TESTING_FAKES_H_
