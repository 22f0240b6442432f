#include "storeapi/memstore/memstore.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "engine/util/strings.h"
#include "storeapi/chunkenc/xor.h"

namespace paodin::storeapi {
namespace {

using engine::Labels;
using engine::Matcher;
using engine::MatchType;
using SeriesRef = MemStore::SeriesRef;
using Postings = std::vector<SeriesRef>;

// Below this many candidates, remaining matchers are checked against each series' labels
// instead of merging postings lists.
constexpr size_t kDirectFilterMax = 256;

// A full chunk: immutable once cut, shared with the iterators that read it (they hold a
// reference instead of a copy, so a query never duplicates the compressed data).
struct SealedChunk {
  int64_t min_time;
  int64_t max_time;
  uint64_t hash;
  std::shared_ptr<const char[]> bytes;
  uint32_t size;

  std::string_view data() const { return std::string_view(bytes.get(), size); }
};

struct Series {
  explicit Series(Labels l) : labels(std::move(l)) {}

  Labels labels;
  int64_t min_time = std::numeric_limits<int64_t>::max();
  int64_t max_time = std::numeric_limits<int64_t>::min();
  uint64_t last_bits = 0;
  std::vector<SealedChunk> chunks;
  XorEncoder head;
  int64_t head_min = 0;
};

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

Postings Intersect(const Postings& a, const Postings& b) {
  Postings out;
  out.reserve(std::min(a.size(), b.size()));
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

Postings Subtract(const Postings& a, const Postings& b) {
  Postings out;
  out.reserve(a.size());
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

// Merges sorted lists into one sorted list without duplicates.
Postings Union(std::vector<const Postings*>& lists) {
  if (lists.empty()) {
    return {};
  }
  if (lists.size() == 1) {
    return *lists[0];
  }
  size_t total = 0;
  for (const Postings* p : lists) {
    total += p->size();
  }
  Postings out;
  out.reserve(total);
  for (const Postings* p : lists) {
    out.insert(out.end(), p->begin(), p->end());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// True when some sample of `s` may lie in [mint, maxt]: a chunk overlaps the range.
bool HasChunkInRange(const Series& s, int64_t mint, int64_t maxt) {
  if (s.min_time > maxt || s.max_time < mint) {
    return false;
  }
  auto it = std::partition_point(s.chunks.begin(), s.chunks.end(),
                                 [mint](const SealedChunk& c) { return c.max_time < mint; });
  if (it != s.chunks.end()) {
    return it->min_time <= maxt;
  }
  return s.head.num_samples() > 0 && s.head_min <= maxt && s.max_time >= mint;
}

}  // namespace

struct MemStore::Impl {
  MemStoreOptions options;
  mutable std::shared_mutex mu;
  std::vector<std::unique_ptr<Series>> series;
  absl::flat_hash_map<std::string, SeriesRef> by_labels;
  std::map<std::string, std::map<std::string, Postings, std::less<>>, std::less<>> postings;
  // rank[ref] = position of the series in label order; valid for refs below rank.size().
  std::vector<uint32_t> rank;
  int64_t num_samples = 0;
  int64_t num_chunks = 0;
  int64_t min_time = std::numeric_limits<int64_t>::max();
  int64_t max_time = std::numeric_limits<int64_t>::min();

  // Appends one sample to `s`. REQUIRES: exclusive lock held.
  absl::Status AppendLocked(Series& s, int64_t t_ms, double value) {
    const uint64_t bits = Bits(value);
    const bool empty = s.head.num_samples() == 0 && s.chunks.empty();
    if (!empty) {
      if (t_ms < s.max_time) {
        return absl::InvalidArgumentError(absl::StrCat("out of order sample: timestamp ", t_ms,
                                                       " before ", s.max_time, " in ",
                                                       ToAbsl(s.labels.ToString())));
      }
      if (t_ms == s.max_time) {
        if (bits == s.last_bits) {
          return absl::OkStatus();
        }
        if (options.overwrite_duplicates) {
          return ReplaceLast(s, value);
        }
        return absl::InvalidArgumentError(absl::StrCat("duplicate sample for timestamp ", t_ms,
                                                       " in ", ToAbsl(s.labels.ToString())));
      }
    }
    if (s.head.num_samples() == kSamplesPerChunk) {
      const std::string_view head = s.head.bytes();
      std::shared_ptr<char[]> bytes = std::make_shared_for_overwrite<char[]>(head.size());
      std::memcpy(bytes.get(), head.data(), head.size());
      s.chunks.push_back(SealedChunk{s.head_min, s.max_time, ChunkHash(head), std::move(bytes),
                                     static_cast<uint32_t>(head.size())});
      s.head.Reset();
      ++num_chunks;
    }
    if (s.head.num_samples() == 0) {
      s.head_min = t_ms;
    }
    if (absl::Status st = s.head.Append(t_ms, value); !st.ok()) {
      return st;
    }
    if (empty) {
      s.min_time = t_ms;
    }
    s.max_time = t_ms;
    s.last_bits = bits;
    ++num_samples;
    min_time = std::min(min_time, t_ms);
    max_time = std::max(max_time, t_ms);
    return absl::OkStatus();
  }

  // Re-encodes the head chunk of `s` with its last value replaced. REQUIRES: exclusive lock,
  // the head holds the series' last sample.
  absl::Status ReplaceLast(Series& s, double value) {
    const int n = s.head.num_samples();
    std::vector<int64_t> ts(n);
    std::vector<double> vs(n);
    const std::string data(s.head.bytes());
    if (absl::StatusOr<size_t> got = DecodeXorChunk(data, ts, vs); !got.ok()) {
      return got.status();
    }
    vs[n - 1] = value;
    s.head.Reset();
    for (int i = 0; i < n; ++i) {
      if (absl::Status st = s.head.Append(ts[i], vs[i]); !st.ok()) {
        return st;
      }
    }
    s.last_bits = Bits(value);
    return absl::OkStatus();
  }

  // Recomputes ranks when series were added since the last time. Takes the lock itself.
  void EnsureRanked() {
    {
      std::shared_lock lock(mu);
      if (rank.size() == series.size()) {
        return;
      }
    }
    std::unique_lock lock(mu);
    if (rank.size() == series.size()) {
      return;
    }
    std::vector<SeriesRef> order(series.size());
    for (size_t i = 0; i < order.size(); ++i) {
      order[i] = static_cast<SeriesRef>(i);
    }
    std::sort(order.begin(), order.end(), [this](SeriesRef a, SeriesRef b) {
      return engine::Compare(series[a]->labels, series[b]->labels) < 0;
    });
    rank.assign(series.size(), 0);
    for (size_t pos = 0; pos < order.size(); ++pos) {
      rank[order[pos]] = static_cast<uint32_t>(pos);
    }
  }

  // Sorts refs into label order. REQUIRES: shared lock held.
  void SortByLabels(std::vector<SeriesRef>& refs) const {
    const size_t ranked = rank.size();
    std::sort(refs.begin(), refs.end(), [this, ranked](SeriesRef a, SeriesRef b) {
      if (a < ranked && b < ranked) {
        return rank[a] < rank[b];
      }
      return engine::Compare(series[a]->labels, series[b]->labels) < 0;
    });
  }

  // The postings of every value of m.name() that m accepts (or, with `invert`, rejects).
  // REQUIRES: shared lock held.
  Postings ValuesPostings(const Matcher& m, bool invert) const {
    auto name_it = postings.find(m.name());
    if (name_it == postings.end()) {
      return {};
    }
    const auto& values = name_it->second;
    if (m.type() == MatchType::kEqual && !invert) {
      auto v = values.find(m.value());
      return v == values.end() ? Postings{} : v->second;
    }
    std::vector<const Postings*> lists;
    for (const auto& [value, refs] : values) {
      if (m.Matches(value) != invert) {
        lists.push_back(&refs);
      }
    }
    return Union(lists);
  }

  // Series matching all matchers, unordered by labels (ascending ref). REQUIRES: shared lock.
  Postings Match(std::span<const Matcher> matchers) const {
    // Matchers that reject the empty string select from postings; the others remove series.
    std::vector<const Matcher*> positive;
    std::vector<const Matcher*> negative;
    for (const Matcher& m : matchers) {
      (m.MatchesEmpty() ? negative : positive).push_back(&m);
    }
    // Equality matchers first: they are the cheapest and usually the most selective.
    std::stable_partition(positive.begin(), positive.end(),
                          [](const Matcher* m) { return m->type() == MatchType::kEqual; });
    Postings result;
    bool have_result = false;
    std::vector<const Matcher*> direct;
    for (const Matcher* m : positive) {
      if (have_result && result.size() <= kDirectFilterMax) {
        direct.push_back(m);
        continue;
      }
      Postings p = ValuesPostings(*m, /*invert=*/false);
      result = have_result ? Intersect(result, p) : std::move(p);
      have_result = true;
      if (result.empty()) {
        return result;
      }
    }
    if (!have_result) {
      result.resize(series.size());
      for (size_t i = 0; i < result.size(); ++i) {
        result[i] = static_cast<SeriesRef>(i);
      }
    }
    for (const Matcher* m : negative) {
      if (result.size() <= kDirectFilterMax) {
        direct.push_back(m);
        continue;
      }
      result = Subtract(result, ValuesPostings(*m, /*invert=*/true));
    }
    if (!direct.empty()) {
      std::erase_if(result, [&](SeriesRef ref) {
        const Labels& labels = series[ref]->labels;
        for (const Matcher* m : direct) {
          if (!m->Matches(labels.Get(m->name()))) {
            return true;
          }
        }
        return false;
      });
    }
    return result;
  }

  // Match() narrowed to series with data in [mint, maxt]. REQUIRES: shared lock.
  Postings MatchInRange(std::span<const Matcher> matchers, int64_t mint, int64_t maxt) const {
    Postings refs = Match(matchers);
    if (!(mint <= min_time && maxt >= max_time)) {
      std::erase_if(refs,
                    [&](SeriesRef ref) { return !HasChunkInRange(*series[ref], mint, maxt); });
    }
    return refs;
  }

  // True when [mint, maxt] covers all data, so the index alone answers label queries.
  bool CoversAll(int64_t mint, int64_t maxt) const { return mint <= min_time && maxt >= max_time; }
};

namespace {

// Iterates the samples of one series in [mint, maxt]: the sealed chunks are shared with the
// store (immutable), the open head chunk is copied when the iterator is made. So iterators are
// independent of each other and of the store's later appends, may be drained from any thread,
// and outlive their SeriesSet.
class MemSampleIterator final : public engine::SampleIterator {
 public:
  MemSampleIterator(std::vector<std::shared_ptr<const char[]>> chunks, std::vector<uint32_t> sizes,
                    std::string head, int64_t mint, int64_t maxt)
      : chunks_(std::move(chunks)),
        sizes_(std::move(sizes)),
        head_(std::move(head)),
        mint_(mint),
        maxt_(maxt) {}

  absl::StatusOr<size_t> Next(std::span<int64_t> ts, std::span<double> vs) override {
    const size_t cap = std::min(ts.size(), vs.size());
    while (!done_ && cap > 0) {
      if (decoder_.remaining() == 0) {
        std::string_view chunk;
        if (next_chunk_ < chunks_.size()) {
          // The previous chunk is fully decoded: let go of it.
          if (next_chunk_ > 0)
            chunks_[next_chunk_ - 1].reset();
          chunk = std::string_view(chunks_[next_chunk_].get(), sizes_[next_chunk_]);
          ++next_chunk_;
        } else if (!head_done_ && !head_.empty()) {
          head_done_ = true;
          chunk = head_;
        } else {
          done_ = true;
          break;
        }
        if (absl::Status st = decoder_.Reset(chunk); !st.ok()) {
          done_ = true;
          return st;
        }
        continue;
      }
      absl::StatusOr<size_t> n = decoder_.Next(ts.first(cap), vs.first(cap));
      if (!n.ok()) {
        done_ = true;
        return n.status();
      }
      size_t begin = 0;
      size_t end = *n;
      while (begin < end && ts[begin] < mint_) {
        ++begin;
      }
      if (end > begin && ts[end - 1] > maxt_) {
        done_ = true;
        while (end > begin && ts[end - 1] > maxt_) {
          --end;
        }
      }
      if (begin == end) {
        continue;
      }
      if (begin > 0) {
        std::memmove(ts.data(), ts.data() + begin, (end - begin) * sizeof(int64_t));
        std::memmove(vs.data(), vs.data() + begin, (end - begin) * sizeof(double));
      }
      return end - begin;
    }
    return 0;
  }

 private:
  std::vector<std::shared_ptr<const char[]>> chunks_;
  std::vector<uint32_t> sizes_;
  std::string head_;
  int64_t mint_;
  int64_t maxt_;
  size_t next_chunk_ = 0;
  bool head_done_ = false;
  XorDecoder decoder_;
  bool done_ = false;
};

class MemSeriesSet final : public engine::SeriesSet {
 public:
  MemSeriesSet(const MemStore* store, std::vector<SeriesRef> refs, int64_t mint, int64_t maxt,
               const engine::QueryContext& ctx)
      : store_(store), refs_(std::move(refs)), mint_(mint), maxt_(maxt), ctx_(ctx) {}

  bool Next() override {
    if (!status_.ok() || pos_ >= refs_.size()) {
      return false;
    }
    if ((pos_ & 127) == 0) {
      status_ = ctx_.Done();
      if (!status_.ok()) {
        return false;
      }
    }
    ++pos_;
    return true;
  }

  const Labels& labels() const override { return store_->SeriesLabels(refs_[pos_ - 1]); }

  std::unique_ptr<engine::SampleIterator> Samples() override {
    return store_->SeriesSamples(refs_[pos_ - 1], mint_, maxt_);
  }

  absl::Status status() const override { return status_; }

 private:
  const MemStore* store_;
  std::vector<SeriesRef> refs_;
  int64_t mint_;
  int64_t maxt_;
  engine::QueryContext ctx_;
  size_t pos_ = 0;  // 1-based index of the current series; 0 before the first Next()
  absl::Status status_;
};

}  // namespace

MemStore::MemStore() : impl_(std::make_unique<Impl>()) {}

MemStore::MemStore(const MemStoreOptions& options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
}

MemStore::~MemStore() = default;

absl::StatusOr<SeriesRef> MemStore::GetOrCreateSeries(const Labels& labels) {
  if (labels.empty()) {
    return absl::InvalidArgumentError("empty label set");
  }
  std::string key(labels.bytes());
  {
    std::shared_lock lock(impl_->mu);
    if (auto it = impl_->by_labels.find(key); it != impl_->by_labels.end()) {
      return it->second;
    }
  }
  std::unique_lock lock(impl_->mu);
  if (auto it = impl_->by_labels.find(key); it != impl_->by_labels.end()) {
    return it->second;
  }
  if (impl_->series.size() >= std::numeric_limits<SeriesRef>::max()) {
    return absl::ResourceExhaustedError("too many series");
  }
  const auto ref = static_cast<SeriesRef>(impl_->series.size());
  impl_->series.push_back(std::make_unique<Series>(labels));
  for (engine::Label l : impl_->series.back()->labels) {
    auto name_it = impl_->postings.find(l.name);
    if (name_it == impl_->postings.end()) {
      name_it = impl_->postings
                    .emplace(std::string(l.name), std::map<std::string, Postings, std::less<>>())
                    .first;
    }
    auto& values = name_it->second;
    auto value_it = values.find(l.value);
    if (value_it == values.end()) {
      value_it = values.emplace(std::string(l.value), Postings()).first;
    }
    value_it->second.push_back(ref);
  }
  impl_->by_labels.emplace(std::move(key), ref);
  return ref;
}

absl::Status MemStore::Append(SeriesRef ref, int64_t t_ms, double value) {
  return AppendSamples(ref, std::span<const int64_t>(&t_ms, 1), std::span<const double>(&value, 1));
}

absl::Status MemStore::AppendSamples(SeriesRef ref, std::span<const int64_t> ts,
                                     std::span<const double> vs) {
  if (ts.size() != vs.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("AppendSamples: ", ts.size(), " timestamps but ", vs.size(), " values"));
  }
  std::unique_lock lock(impl_->mu);
  if (ref >= impl_->series.size()) {
    return absl::NotFoundError(absl::StrCat("unknown series ref ", ref));
  }
  Series& s = *impl_->series[ref];
  for (size_t i = 0; i < ts.size(); ++i) {
    if (absl::Status st = impl_->AppendLocked(s, ts[i], vs[i]); !st.ok()) {
      return st;
    }
  }
  return absl::OkStatus();
}

absl::Status MemStore::Append(const Labels& labels, int64_t t_ms, double value) {
  absl::StatusOr<SeriesRef> ref = GetOrCreateSeries(labels);
  if (!ref.ok()) {
    return ref.status();
  }
  return Append(*ref, t_ms, value);
}

MemStoreStats MemStore::Stats() const {
  std::shared_lock lock(impl_->mu);
  MemStoreStats stats;
  stats.num_series = impl_->series.size();
  stats.num_samples = impl_->num_samples;
  stats.num_chunks = impl_->num_chunks;
  for (const auto& s : impl_->series) {
    stats.num_chunks += s->head.num_samples() > 0 ? 1 : 0;
  }
  if (impl_->num_samples > 0) {
    stats.min_time = impl_->min_time;
    stats.max_time = impl_->max_time;
  }
  return stats;
}

std::vector<SeriesRef> MemStore::SelectSeries(std::span<const Matcher> matchers, int64_t mint,
                                              int64_t maxt) const {
  impl_->EnsureRanked();
  std::shared_lock lock(impl_->mu);
  if (mint > maxt) {
    return {};
  }
  Postings refs = impl_->MatchInRange(matchers, mint, maxt);
  impl_->SortByLabels(refs);
  return refs;
}

const Labels& MemStore::SeriesLabels(SeriesRef ref) const {
  std::shared_lock lock(impl_->mu);
  return impl_->series[ref]->labels;
}

void MemStore::WithChunks(SeriesRef ref, int64_t mint, int64_t maxt,
                          std::vector<ChunkView>* scratch,
                          absl::FunctionRef<void(std::span<const ChunkView>)> fn) const {
  std::shared_lock lock(impl_->mu);
  const Series& s = *impl_->series[ref];
  scratch->clear();
  auto it = std::partition_point(s.chunks.begin(), s.chunks.end(),
                                 [mint](const SealedChunk& c) { return c.max_time < mint; });
  for (; it != s.chunks.end() && it->min_time <= maxt; ++it) {
    scratch->push_back(ChunkView{it->min_time, it->max_time, it->data(), it->hash});
  }
  if (s.head.num_samples() > 0 && s.head_min <= maxt && s.max_time >= mint) {
    std::string_view data = s.head.bytes();
    scratch->push_back(ChunkView{s.head_min, s.max_time, data, ChunkHash(data)});
  }
  fn(*scratch);
}

std::unique_ptr<engine::SampleIterator> MemStore::SeriesSamples(SeriesRef ref, int64_t mint,
                                                                int64_t maxt) const {
  std::vector<std::shared_ptr<const char[]>> chunks;
  std::vector<uint32_t> sizes;
  std::string head;
  {
    std::shared_lock lock(impl_->mu);
    const Series& s = *impl_->series[ref];
    auto it = std::partition_point(s.chunks.begin(), s.chunks.end(),
                                   [mint](const SealedChunk& c) { return c.max_time < mint; });
    auto last = it;
    while (last != s.chunks.end() && last->min_time <= maxt)
      ++last;
    chunks.reserve(static_cast<size_t>(last - it));
    sizes.reserve(static_cast<size_t>(last - it));
    for (; it != last; ++it) {
      chunks.push_back(it->bytes);
      sizes.push_back(it->size);
    }
    if (s.head.num_samples() > 0 && s.head_min <= maxt && s.max_time >= mint)
      head.assign(s.head.bytes());
  }
  return std::make_unique<MemSampleIterator>(std::move(chunks), std::move(sizes), std::move(head),
                                             mint, maxt);
}

absl::StatusOr<std::unique_ptr<engine::SeriesSet>> MemStore::Select(
    const engine::SelectHints& hints, std::span<const Matcher> matchers,
    const engine::QueryContext& ctx) {
  if (absl::Status st = ctx.Done(); !st.ok()) {
    return st;
  }
  std::vector<SeriesRef> refs = SelectSeries(matchers, hints.start_ms, hints.end_ms);
  return std::make_unique<MemSeriesSet>(this, std::move(refs), hints.start_ms, hints.end_ms, ctx);
}

absl::StatusOr<std::vector<std::string>> MemStore::LabelNames(int64_t start_ms, int64_t end_ms,
                                                              std::span<const Matcher> matchers,
                                                              const engine::QueryContext& ctx) {
  if (absl::Status st = ctx.Done(); !st.ok()) {
    return st;
  }
  std::shared_lock lock(impl_->mu);
  std::vector<std::string> names;
  if (start_ms > end_ms || impl_->series.empty()) {
    return names;
  }
  if (matchers.empty() && impl_->CoversAll(start_ms, end_ms)) {
    for (const auto& [name, values] : impl_->postings) {
      names.push_back(name);
    }
    return names;
  }
  absl::flat_hash_set<std::string_view> seen;
  for (SeriesRef ref : impl_->MatchInRange(matchers, start_ms, end_ms)) {
    for (engine::Label l : impl_->series[ref]->labels) {
      seen.insert(l.name);
    }
  }
  names.assign(seen.begin(), seen.end());
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<std::vector<std::string>> MemStore::LabelValues(std::string_view name,
                                                               int64_t start_ms, int64_t end_ms,
                                                               std::span<const Matcher> matchers,
                                                               const engine::QueryContext& ctx) {
  if (absl::Status st = ctx.Done(); !st.ok()) {
    return st;
  }
  std::shared_lock lock(impl_->mu);
  std::vector<std::string> values;
  auto name_it = impl_->postings.find(name);
  if (start_ms > end_ms || name_it == impl_->postings.end()) {
    return values;
  }
  if (matchers.empty() && impl_->CoversAll(start_ms, end_ms)) {
    for (const auto& [value, refs] : name_it->second) {
      values.push_back(value);
    }
    return values;
  }
  absl::flat_hash_set<std::string_view> seen;
  for (SeriesRef ref : impl_->MatchInRange(matchers, start_ms, end_ms)) {
    std::string_view v = impl_->series[ref]->labels.Get(name);
    if (!v.empty()) {
      seen.insert(v);
    }
  }
  values.assign(seen.begin(), seen.end());
  std::sort(values.begin(), values.end());
  return values;
}

}  // namespace paodin::storeapi
