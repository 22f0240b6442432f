// An in-memory series store: a label index (postings per label name and value) over series whose
// samples are held as Prometheus XOR chunks of up to 120 samples, the newest ("head") chunk open
// for appends. It is the data behind `paodin store` and a Queryable for the engine and
// `paodin promqltest`.
//
//   MemStore store;
//   PAODIN_ASSIGN_OR_RETURN(MemStore::SeriesRef ref, store.GetOrCreateSeries(labels));
//   PAODIN_RETURN_IF_ERROR(store.Append(ref, t_ms, value));
//   std::vector<MemStore::SeriesRef> refs = store.SelectSeries(matchers, mint, maxt);
//
// Thread-safety: every method may be called concurrently; appends take an exclusive lock, reads
// a shared one, so concurrent readers never block each other once loading is done.
#ifndef PAODIN_STOREAPI_MEMSTORE_MEMSTORE_H_
#define PAODIN_STOREAPI_MEMSTORE_MEMSTORE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/model/labels.h"
#include "engine/model/matcher.h"
#include "engine/storage/queryable.h"

namespace paodin::storeapi {

// A view of one chunk handed to MemStore::WithChunks: valid only during the callback.
struct ChunkView {
  // Timestamps of the first and last sample, in ms.
  int64_t min_time = 0;
  int64_t max_time = 0;
  // The XOR chunk bytes (Prometheus TSDB encoding, StoreAPI Chunk.data).
  std::string_view data;
  // XXH64 (seed 0) of `data`: the StoreAPI Chunk.hash.
  uint64_t hash = 0;
};

// Totals of a store, for logs and Info.
struct MemStoreStats {
  size_t num_series = 0;
  int64_t num_samples = 0;
  int64_t num_chunks = 0;
  // Smallest and largest sample timestamp; both 0 when the store is empty.
  int64_t min_time = 0;
  int64_t max_time = 0;
};

// How a MemStore treats appends.
struct MemStoreOptions {
  // A sample at the timestamp of a series' last sample with different value bits replaces it
  // (last write wins, as within one Prometheus append batch, which PromQL test scripts rely
  // on) instead of failing with "duplicate sample for timestamp".
  bool overwrite_duplicates = false;
};

// The store. Series are never removed.
class MemStore final : public engine::Queryable {
 public:
  // Dense id of a series, assigned in creation order.
  using SeriesRef = uint32_t;

  // Samples per chunk before a new one is cut (Prometheus' head cuts at 120 as well).
  static constexpr int kSamplesPerChunk = 120;

  MemStore();
  explicit MemStore(const MemStoreOptions& options);
  ~MemStore() override;
  MemStore(const MemStore&) = delete;
  MemStore& operator=(const MemStore&) = delete;

  // Returns the series with exactly these labels, creating it when new. Fails with
  // InvalidArgument for an empty label set.
  absl::StatusOr<SeriesRef> GetOrCreateSeries(const engine::Labels& labels);

  // Appends one sample. Timestamps must increase per series: an earlier timestamp fails with
  // InvalidArgument "out of order sample"; a repeated timestamp is ignored when the value bits
  // are identical and fails with "duplicate sample for timestamp" otherwise (unless
  // MemStoreOptions::overwrite_duplicates). Any value is
  // stored by its bits, staleness markers included. Fails with NotFound for an unknown ref.
  absl::Status Append(SeriesRef ref, int64_t t_ms, double value);

  // Appends ts[i], vs[i] in order under one lock, with Append's rules; stops at the first
  // error. Fails with InvalidArgument when the spans differ in size.
  absl::Status AppendSamples(SeriesRef ref, std::span<const int64_t> ts,
                             std::span<const double> vs);

  // GetOrCreateSeries then Append.
  absl::Status Append(const engine::Labels& labels, int64_t t_ms, double value);

  // Counts and time range.
  MemStoreStats Stats() const;

  // The series matching every matcher (all series when there are none) that have at least one
  // chunk overlapping [mint, maxt] (inclusive), in increasing label order (engine::Compare).
  std::vector<SeriesRef> SelectSeries(std::span<const engine::Matcher> matchers, int64_t mint,
                                      int64_t maxt) const;

  // The labels of a series; the reference stays valid as long as the store lives.
  // REQUIRES: `ref` came from this store.
  const engine::Labels& SeriesLabels(SeriesRef ref) const;

  // Calls `fn` once with every chunk of `ref` overlapping [mint, maxt], in time order, the open
  // head chunk included (collected in *scratch, which is cleared first), so a caller can size its
  // output before writing it. `fn` runs under the store's shared lock: it must not call into the
  // store. REQUIRES: `ref` came from this store.
  void WithChunks(SeriesRef ref, int64_t mint, int64_t maxt, std::vector<ChunkView>* scratch,
                  absl::FunctionRef<void(std::span<const ChunkView>)> fn) const;

  // An iterator over the samples of `ref` in [mint, maxt] (inclusive). It shares the sealed
  // chunks with the store (no copy; they are immutable) and copies the open head chunk, so it
  // sees the series as of this call, may be drained from any thread, and stays valid as long as
  // the store lives. REQUIRES: `ref` came from this store.
  std::unique_ptr<engine::SampleIterator> SeriesSamples(SeriesRef ref, int64_t mint,
                                                        int64_t maxt) const;

  // engine::Queryable: series in label order whose samples are clipped to
  // [hints.start_ms, hints.end_ms]. The store must outlive the returned set and its iterators.
  absl::StatusOr<std::unique_ptr<engine::SeriesSet>> Select(
      const engine::SelectHints& hints, std::span<const engine::Matcher> matchers,
      const engine::QueryContext& ctx) override;

  // Label names of the selected series (all series when no matchers), sorted.
  absl::StatusOr<std::vector<std::string>> LabelNames(int64_t start_ms, int64_t end_ms,
                                                      std::span<const engine::Matcher> matchers,
                                                      const engine::QueryContext& ctx) override;

  // Values of `name` over the selected series, sorted.
  absl::StatusOr<std::vector<std::string>> LabelValues(std::string_view name, int64_t start_ms,
                                                       int64_t end_ms,
                                                       std::span<const engine::Matcher> matchers,
                                                       const engine::QueryContext& ctx) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_MEMSTORE_MEMSTORE_H_
