// The k-way merge of per-store series streams: series come out in label order (Prometheus
// labels.Compare, bytewise); equal label sets from several stores (or replicas whose replica
// labels were removed) become one series with the union of their chunks, byte-identical
// chunks removed and the rest sorted by (min time, max time, bytes). Inputs are consumed as
// they arrive: the merge holds one head series per store.
#ifndef PAODIN_STOREAPI_PROXY_MERGE_H_
#define PAODIN_STOREAPI_PROXY_MERGE_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storeapi/client/series_stream.h"
#include "storeapi/proxy/loser_tree.h"

namespace paodin::storeapi {

// One sorted input of the merge.
class SeriesSource {
 public:
  virtual ~SeriesSource() = default;

  // Moves to the next series (in current()). Returns false at the end; an error stops the
  // whole merge.
  virtual absl::StatusOr<bool> Next() = 0;

  // The current series; the merge may move its contents out. Must be the same object for the
  // life of the source (the merge caches a pointer to its labels).
  virtual StoreSeries& current() = 0;
};

// A source over series held in memory (tests, benchmarks).
class VectorSeriesSource : public SeriesSource {
 public:
  explicit VectorSeriesSource(std::vector<StoreSeries> series) : series_(std::move(series)) {}

  absl::StatusOr<bool> Next() override {
    if (pos_ >= series_.size())
      return false;
    current_ = std::move(series_[pos_++]);
    return true;
  }

  StoreSeries& current() override { return current_; }

 private:
  std::vector<StoreSeries> series_;
  size_t pos_ = 0;
  StoreSeries current_;
};

// Removes byte-identical chunks and sorts the rest by (min time, max time, bytes).
void SortAndDedupChunks(std::vector<StoreChunk>* chunks);

// Merges sorted sources.
class SeriesMerger {
 public:
  explicit SeriesMerger(std::vector<std::unique_ptr<SeriesSource>> sources);

  // Reads the first series of every source and builds the tree. Call once before Next().
  absl::Status Init();

  // The next merged series into *out; false at the end.
  absl::StatusOr<bool> Next(StoreSeries* out);

 private:
  absl::Status Advance(size_t leaf);

  std::vector<std::unique_ptr<SeriesSource>> sources_;
  // Each source's current labels as a key whose bytes compare like labels.Compare (built once
  // per series, not per comparison: LevelDB's IteratorWrapper idea), in an LCP-aware loser tree.
  StringLoserTree tree_;
  bool initialized_ = false;
};

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_PROXY_MERGE_H_
