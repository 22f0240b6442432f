// Sample iterators over a merged series' XOR chunks, filling the engine's tiles:
//   - the plain iterator walks chunks in (min time, max time) order, drops samples at or before
//     the last one returned (overlapping data from several stores) and clips to the Select
//     range;
//   - the dedup iterator splits the chunks into non-overlapping lanes (one per replica, in
//     effect) and combines the lanes with Thanos' penalty algorithm or a chained merge.
// Corrupt chunks become a warning (partial response WARN, the chunk is skipped) or an error
// (ABORT), naming the store they came from.
#ifndef PAODIN_STOREAPI_PROXY_SAMPLE_ITERATORS_H_
#define PAODIN_STOREAPI_PROXY_SAMPLE_ITERATORS_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "engine/storage/queryable.h"
#include "storeapi/client/series_stream.h"
#include "storeapi/proxy/options.h"

namespace paodin::storeapi {

// Warnings of one Select, shared by its series set and every iterator. Thread-safe.
class WarningSink {
 public:
  // Adds a warning unless the same text is already there.
  void Add(std::string warning);

  // All warnings so far, in arrival order.
  std::vector<std::string> Get() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::string> warnings_;
};

// What iterators of one Select need to report chunk errors.
struct IterationContext {
  PartialResponseStrategy strategy = PartialResponseStrategy::kWarn;
  // Store names by StoreChunk::store_index.
  std::vector<std::string> store_names;
  std::shared_ptr<WarningSink> warnings = std::make_shared<WarningSink>();

  // Reports a chunk that failed to decode: under WARN records a warning and returns OK (the
  // caller skips the chunk); under ABORT returns DataLoss naming the store.
  absl::Status OnCorruptChunk(const StoreChunk& chunk, const engine::Labels& labels,
                              const absl::Status& error) const;
};

// How replicas are combined.
struct DedupParams {
  DedupFunc func = DedupFunc::kPenalty;
  int64_t initial_penalty_ms = 5000;
  // Apply the counter adjustment at replica switches (the selector's function is rate,
  // increase, irate or resets).
  bool counter = false;
};

// True for the functions under which Thanos adjusts counters at replica switches.
bool IsCounterFunc(std::string_view func);

// Splits chunks (sorted by min time) into lanes of non-overlapping chunks: each chunk goes to
// the first lane whose last chunk ends before it starts, else to a new lane. Returns chunk
// indices per lane.
std::vector<std::vector<uint32_t>> SplitOverlappingChunks(std::span<const StoreChunk> chunks);

// Iterates all chunks of `series` (sorted by min time) within [mint, maxt].
std::unique_ptr<engine::SampleIterator> NewChunkSampleIterator(
    std::shared_ptr<const StoreSeries> series, int64_t mint, int64_t maxt,
    std::shared_ptr<const IterationContext> ctx);

// Iterates `series` with its replicas deduplicated within [mint, maxt].
std::unique_ptr<engine::SampleIterator> NewDedupSampleIterator(
    std::shared_ptr<const StoreSeries> series, int64_t mint, int64_t maxt, DedupParams params,
    std::shared_ptr<const IterationContext> ctx);

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_PROXY_SAMPLE_ITERATORS_H_
