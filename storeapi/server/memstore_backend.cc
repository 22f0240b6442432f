#include "storeapi/server/memstore_backend.h"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "engine/util/status_macros.h"
#include "storeapi/server/convert.h"
#include "storeapi/server/series_wire.h"

namespace paodin::storeapi {
namespace {

using engine::Labels;

// Series to send: final labels and where the chunks are.
struct Entry {
  Labels labels;
  MemStore::SeriesRef ref;
};

class EmptyStream final : public SeriesResponseStream {
 public:
  absl::StatusOr<bool> Next(thanos::SeriesResponse* /*out*/) override { return false; }
};

class MemSeriesStream final : public SeriesResponseStream {
 public:
  MemSeriesStream(std::shared_ptr<MemStore> store, std::vector<Entry> entries, int64_t mint,
                  int64_t maxt, bool skip_chunks, const CallContext& ctx)
      : store_(std::move(store)),
        entries_(std::move(entries)),
        mint_(mint),
        maxt_(maxt),
        skip_chunks_(skip_chunks),
        ctx_(ctx) {}

  // The message form, for callers other than the server: the encoded frame parsed back.
  absl::StatusOr<bool> Next(thanos::SeriesResponse* out) override {
    bytes_.clear();
    PAODIN_ASSIGN_OR_RETURN(bool more, NextEncoded(&bytes_));
    if (more && !out->ParseFromString(bytes_)) {
      return absl::InternalError("cannot parse an encoded Series frame");
    }
    return more;
  }

  bool EncodesSeries() const override { return true; }

  absl::StatusOr<bool> NextEncoded(std::string* out) override {
    PAODIN_ASSIGN_OR_RETURN(const Entry* next, NextEntry());
    if (next == nullptr) {
      return false;
    }
    const Entry& e = *next;
    if (skip_chunks_) {
      AppendSeriesField(e.labels, {}, out);
    } else {
      store_->WithChunks(e.ref, mint_, maxt_, &chunks_, [&](std::span<const ChunkView> chunks) {
        AppendSeriesField(e.labels, chunks, out);
      });
    }
    return true;
  }

 private:
  // The next series to send, null at the end; checks for cancellation every 64 series.
  absl::StatusOr<const Entry*> NextEntry() {
    if (pos_ == entries_.size()) {
      return nullptr;
    }
    if ((pos_ & 63) == 0) {
      PAODIN_RETURN_IF_ERROR(ctx_.query.Done());
    }
    return &entries_[pos_++];
  }

  std::shared_ptr<MemStore> store_;
  std::vector<Entry> entries_;
  int64_t mint_;
  int64_t maxt_;
  bool skip_chunks_;
  CallContext ctx_;
  size_t pos_ = 0;
  std::vector<ChunkView> chunks_;  // scratch for NextEncoded
  std::string bytes_;              // scratch for Next
};

// The request's replica label names, sorted and unique.
std::vector<std::string> ReplicaLabels(
    const google::protobuf::RepeatedPtrField<std::string>& names) {
  std::vector<std::string> out(names.begin(), names.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool Contains(const std::vector<std::string>& sorted, std::string_view name) {
  return std::binary_search(sorted.begin(), sorted.end(), name);
}

// A series' labels as sent: its own and the external labels (which win on a name clash), minus
// the replica labels; one merge of the two sorted sets into one buffer.
Labels FinalLabels(const Labels& series, const Labels& external,
                   const std::vector<std::string>& replicas, std::vector<engine::Label>* scratch) {
  scratch->clear();
  auto push = [&](const engine::Label& l) {
    if (replicas.empty() || !Contains(replicas, l.name))
      scratch->push_back(l);
  };
  auto it = series.begin();
  auto ext = external.begin();
  while (it != series.end() || ext != external.end()) {
    if (ext == external.end() || (it != series.end() && it->name < ext->name)) {
      push(*it);
      ++it;
    } else {
      if (it != series.end() && it->name == ext->name)
        ++it;  // the external label replaces the series' own
      push(*ext);
      ++ext;
    }
  }
  return Labels::FromSortedUnchecked(*scratch);
}

}  // namespace

MemStoreBackend::MemStoreBackend(std::shared_ptr<MemStore> store, Labels external_labels)
    : store_(std::move(store)), external_(std::move(external_labels)) {}

absl::StatusOr<thanos::info::InfoResponse> MemStoreBackend::Info() {
  const MemStoreStats stats = store_->Stats();
  // An empty store claims all time: it answers every query, with nothing.
  const int64_t min_time =
      stats.num_samples > 0 ? stats.min_time : std::numeric_limits<int64_t>::min();
  const int64_t max_time =
      stats.num_samples > 0 ? stats.max_time : std::numeric_limits<int64_t>::max();
  return DataStoreInfo("store", external_, min_time, max_time);
}

absl::StatusOr<std::unique_ptr<SeriesResponseStream>> MemStoreBackend::Series(
    const thanos::SeriesRequest& request, const CallContext& ctx) {
  PAODIN_ASSIGN_OR_RETURN(std::vector<engine::Matcher> matchers, SeriesRequestMatchers(request));
  if (!MatchExternalLabels(external_, &matchers)) {
    return std::make_unique<EmptyStream>();
  }
  if (matchers.empty()) {
    return absl::InvalidArgumentError(kNoMatchersExcludingExternal);
  }
  PAODIN_RETURN_IF_ERROR(ctx.query.Done());
  std::vector<MemStore::SeriesRef> refs =
      store_->SelectSeries(matchers, request.min_time(), request.max_time());
  const std::vector<std::string> replicas = ReplicaLabels(request.without_replica_labels());
  std::vector<Entry> entries;
  entries.reserve(refs.size());
  if (external_.empty() && replicas.empty()) {
    // Already in final label order.
    for (MemStore::SeriesRef ref : refs) {
      entries.push_back({store_->SeriesLabels(ref), ref});
    }
  } else {
    std::vector<engine::Label> scratch;
    for (MemStore::SeriesRef ref : refs) {
      entries.push_back(
          {FinalLabels(store_->SeriesLabels(ref), external_, replicas, &scratch), ref});
    }
    // Adding the same external labels to every series rarely changes their order (only between
    // series with different label names), so check before sorting.
    auto less = [](const Entry& a, const Entry& b) {
      return engine::Compare(a.labels, b.labels) < 0;
    };
    if (!std::is_sorted(entries.begin(), entries.end(), less))
      std::stable_sort(entries.begin(), entries.end(), less);
  }
  if (request.limit() > 0 && entries.size() > static_cast<size_t>(request.limit())) {
    entries.resize(static_cast<size_t>(request.limit()));
  }
  return std::make_unique<MemSeriesStream>(store_, std::move(entries), request.min_time(),
                                           request.max_time(), request.skip_chunks(), ctx);
}

absl::StatusOr<thanos::LabelNamesResponse> MemStoreBackend::LabelNames(
    const thanos::LabelNamesRequest& request, const CallContext& ctx) {
  PAODIN_ASSIGN_OR_RETURN(std::vector<engine::Matcher> matchers,
                          MatchersFromProto(request.matchers()));
  thanos::LabelNamesResponse response;
  if (!MatchExternalLabels(external_, &matchers)) {
    return response;
  }
  PAODIN_ASSIGN_OR_RETURN(std::vector<std::string> names,
                          store_->LabelNames(request.start(), request.end(), matchers, ctx.query));
  if (!names.empty()) {
    for (engine::Label l : external_) {
      names.emplace_back(l.name);
    }
  }
  const std::vector<std::string> replicas = ReplicaLabels(request.without_replica_labels());
  std::erase_if(names, [&](const std::string& n) { return Contains(replicas, n); });
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  if (request.limit() > 0 && names.size() > static_cast<size_t>(request.limit())) {
    names.resize(static_cast<size_t>(request.limit()));
  }
  for (std::string& n : names) {
    response.add_names(std::move(n));
  }
  return response;
}

absl::StatusOr<thanos::LabelValuesResponse> MemStoreBackend::LabelValues(
    const thanos::LabelValuesRequest& request, const CallContext& ctx) {
  if (request.label().empty()) {
    return absl::InvalidArgumentError("label name parameter cannot be empty");
  }
  PAODIN_ASSIGN_OR_RETURN(std::vector<engine::Matcher> matchers,
                          MatchersFromProto(request.matchers()));
  thanos::LabelValuesResponse response;
  const std::vector<std::string> replicas = ReplicaLabels(request.without_replica_labels());
  if (Contains(replicas, request.label()) || !MatchExternalLabels(external_, &matchers)) {
    return response;
  }
  std::vector<std::string> values;
  if (external_.Has(request.label())) {
    if (!store_->SelectSeries(matchers, request.start(), request.end()).empty()) {
      values.emplace_back(external_.Get(request.label()));
    }
  } else {
    PAODIN_ASSIGN_OR_RETURN(values, store_->LabelValues(request.label(), request.start(),
                                                        request.end(), matchers, ctx.query));
  }
  if (request.limit() > 0 && values.size() > static_cast<size_t>(request.limit())) {
    values.resize(static_cast<size_t>(request.limit()));
  }
  for (std::string& v : values) {
    response.add_values(std::move(v));
  }
  return response;
}

}  // namespace paodin::storeapi
