// A simple in-memory Queryable over raw sample arrays, for tests and the script runner.
#ifndef PAODIN_ENGINE_STORAGE_MEMORY_QUERYABLE_H_
#define PAODIN_ENGINE_STORAGE_MEMORY_QUERYABLE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/storage/loadable.h"
#include "engine/storage/queryable.h"

namespace paodin::engine {

// Holds series as sorted (timestamp, value) arrays. Not thread-safe for writes; reads (Select)
// may run concurrently once loading is done.
class MemoryQueryable : public LoadableQueryable {
 public:
  MemoryQueryable() = default;

  // Adds one sample; a sample at an existing timestamp replaces the old value. Samples may
  // come in any order.
  void Add(const Labels& labels, int64_t t_ms, double value);

  // LoadableQueryable: Add(); never fails.
  absl::Status Load(const Labels& labels, int64_t t_ms, double value) override {
    Add(labels, t_ms, value);
    return absl::OkStatus();
  }

  // Removes every series.
  void Clear() override;

  // Number of series held.
  size_t NumSeries() const { return series_.size(); }

  absl::StatusOr<std::unique_ptr<SeriesSet>> Select(const SelectHints& hints,
                                                    std::span<const Matcher> matchers,
                                                    const QueryContext& ctx) override;

  absl::StatusOr<std::vector<std::string>> LabelNames(int64_t start_ms, int64_t end_ms,
                                                      std::span<const Matcher> matchers,
                                                      const QueryContext& ctx) override;

  absl::StatusOr<std::vector<std::string>> LabelValues(std::string_view name, int64_t start_ms,
                                                       int64_t end_ms,
                                                       std::span<const Matcher> matchers,
                                                       const QueryContext& ctx) override;

  // One stored series.
  struct Series {
    Labels labels;
    std::vector<int64_t> ts;
    std::vector<double> vs;
  };

 private:
  // Series matching the matchers with at least one sample in [start, end], in label order.
  std::vector<const Series*> Matching(int64_t start_ms, int64_t end_ms,
                                      std::span<const Matcher> matchers) const;

  // Keyed by the labels' encoded bytes.
  std::map<std::string, std::unique_ptr<Series>> series_;
};

}  // namespace paodin::engine

#endif  // PAODIN_ENGINE_STORAGE_MEMORY_QUERYABLE_H_
