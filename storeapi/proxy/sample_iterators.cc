#include "storeapi/proxy/sample_iterators.h"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "engine/util/strings.h"
#include "storeapi/chunkenc/xor.h"

namespace paodin::storeapi {
namespace {

constexpr int64_t kMinTime = std::numeric_limits<int64_t>::min();
// Samples decoded at once per lane in the dedup iterator.
constexpr size_t kLaneTile = 64;

// Decodes a list of chunks of one series into tiles: samples after the last one returned and
// within [mint, maxt] only.
class ChunkListDecoder {
 public:
  ChunkListDecoder(const StoreSeries* series, std::vector<uint32_t> indices, bool all, int64_t mint,
                   int64_t maxt, const IterationContext* ctx)
      : series_(series),
        indices_(std::move(indices)),
        all_(all),
        mint_(mint),
        maxt_(maxt),
        ctx_(ctx) {}

  // Fills up to `cap` samples; 0 when exhausted.
  absl::StatusOr<size_t> Fill(int64_t* ts, double* vs, size_t cap) {
    size_t n = 0;
    while (n < cap && !done_) {
      if (!in_chunk_) {
        const size_t count = all_ ? series_->chunks.size() : indices_.size();
        if (next_chunk_ >= count) {
          done_ = true;
          break;
        }
        const StoreChunk& c = series_->chunks[all_ ? next_chunk_ : indices_[next_chunk_]];
        ++next_chunk_;
        if (c.min_time > maxt_) {
          // Chunks are sorted by min time: nothing later is in range.
          done_ = true;
          break;
        }
        if (c.max_time < mint_ || c.max_time <= last_t_)
          continue;
        current_ = &c;
        if (absl::Status st = decoder_.Reset(c.data); !st.ok()) {
          if (absl::Status e = ctx_->OnCorruptChunk(c, series_->labels, st); !e.ok())
            return e;
          continue;
        }
        in_chunk_ = true;
      }
      absl::StatusOr<size_t> got =
          decoder_.Next(std::span<int64_t>(ts + n, cap - n), std::span<double>(vs + n, cap - n));
      if (!got.ok()) {
        in_chunk_ = false;
        if (absl::Status e = ctx_->OnCorruptChunk(*current_, series_->labels, got.status());
            !e.ok()) {
          return e;
        }
        continue;
      }
      const size_t k = *got;
      if (k == 0) {
        in_chunk_ = false;
        continue;
      }
      if (ts[n] > last_t_ && ts[n] >= mint_ && ts[n + k - 1] <= maxt_) {
        // The common case: the whole tile is new and in range.
        last_t_ = ts[n + k - 1];
        n += k;
        continue;
      }
      size_t w = n;
      for (size_t i = n; i < n + k; ++i) {
        const int64_t t = ts[i];
        if (t <= last_t_ || t < mint_)
          continue;
        if (t > maxt_) {
          done_ = true;
          break;
        }
        ts[w] = t;
        vs[w] = vs[i];
        ++w;
        last_t_ = t;
      }
      n = w;
    }
    return n;
  }

 private:
  const StoreSeries* series_;
  std::vector<uint32_t> indices_;
  bool all_;
  int64_t mint_;
  int64_t maxt_;
  const IterationContext* ctx_;
  size_t next_chunk_ = 0;
  const StoreChunk* current_ = nullptr;
  XorDecoder decoder_;
  bool in_chunk_ = false;
  bool done_ = false;
  int64_t last_t_ = kMinTime;
};

class ChunkSampleIterator final : public engine::SampleIterator {
 public:
  ChunkSampleIterator(std::shared_ptr<const StoreSeries> series, int64_t mint, int64_t maxt,
                      std::shared_ptr<const IterationContext> ctx)
      : series_(std::move(series)),
        ctx_(std::move(ctx)),
        decoder_(series_.get(), {}, true, mint, maxt, ctx_.get()) {}

  absl::StatusOr<size_t> Next(std::span<int64_t> ts, std::span<double> vs) override {
    return decoder_.Fill(ts.data(), vs.data(), std::min(ts.size(), vs.size()));
  }

 private:
  std::shared_ptr<const StoreSeries> series_;
  std::shared_ptr<const IterationContext> ctx_;
  ChunkListDecoder decoder_;
};

// One lane, sample by sample (Prometheus iterator style) over tiles.
class LaneCursor {
 public:
  LaneCursor(const StoreSeries* series, std::vector<uint32_t> indices, int64_t mint, int64_t maxt,
             const IterationContext* ctx, absl::Status* error)
      : decoder_(series, std::move(indices), false, mint, maxt, ctx), error_(error) {}

  // Moves to the next sample; false when exhausted (or failed: see *error).
  bool Next() {
    if (++pos_ < n_)
      return true;
    absl::StatusOr<size_t> got = decoder_.Fill(ts_, vs_, kLaneTile);
    pos_ = 0;
    if (!got.ok()) {
      if (error_->ok())
        *error_ = got.status();
      n_ = 0;
      return false;
    }
    n_ = *got;
    return n_ > 0;
  }

  // Moves to the first sample at or after t (staying if already there); false when none.
  bool Seek(int64_t t) {
    while (ts_[pos_] < t) {
      if (!Next())
        return false;
    }
    return true;
  }

  int64_t t() const { return ts_[pos_]; }

  double v() const { return vs_[pos_]; }

 private:
  ChunkListDecoder decoder_;
  absl::Status* error_;
  int64_t ts_[kLaneTile] = {};
  double vs_[kLaneTile] = {};
  size_t pos_ = 0;
  size_t n_ = 0;
};

// Thanos' penalty dedup over lanes: a left fold of pair iterators,
//   node 0 = lane 0, node k = pair(node k-1, lane k).
// Each pair sticks to one side and only switches when the other side has a sample after the
// last one returned plus a penalty of twice the last gap (initial_penalty before the first).
class PenaltyDedup {
 public:
  PenaltyDedup(std::vector<std::unique_ptr<LaneCursor>>* lanes, int64_t initial_penalty,
               bool counter)
      : lanes_(*lanes), initial_penalty_(initial_penalty), counter_(counter) {
    adjust_.assign(lanes_.size(), 0.0);
    pairs_.resize(lanes_.size());
    for (size_t k = 1; k < lanes_.size(); ++k) {
      pairs_[k].a_ok = k == 1 ? lanes_[0]->Next() : NodeNext(k - 1);
      pairs_[k].b_ok = lanes_[k]->Next();
    }
  }

  // Advances the top pair; false when every lane is exhausted.
  bool Next() { return NodeNext(lanes_.size() - 1); }

  int64_t t() const { return NodeT(lanes_.size() - 1); }

  double v() const { return NodeV(lanes_.size() - 1); }

 private:
  struct Pair {
    int64_t last_t = kMinTime;
    int64_t pen_a = 0;
    int64_t pen_b = 0;
    bool use_a = true;
    bool a_ok = false;
    bool b_ok = false;
  };

  int64_t NodeT(size_t k) const {
    if (k == 0)
      return lanes_[0]->t();
    return pairs_[k].use_a ? NodeT(k - 1) : lanes_[k]->t();
  }

  double NodeV(size_t k) const {
    if (k == 0)
      return LaneV(0);
    return pairs_[k].use_a ? NodeV(k - 1) : LaneV(k);
  }

  double LaneV(size_t i) const { return lanes_[i]->v() + adjust_[i]; }

  // Counter adjustment: a replica whose value is below the last one returned gets an offset
  // so the merged counter does not go backwards at a switch.
  void LaneAdjust(size_t i, double last) {
    if (!counter_)
      return;
    const double v = LaneV(i);
    if (last > v)
      adjust_[i] += last - v;
  }

  void NodeAdjust(size_t k, double last) {
    if (k == 0) {
      LaneAdjust(0, last);
      return;
    }
    if (pairs_[k].a_ok)
      NodeAdjust(k - 1, last);
    if (pairs_[k].b_ok)
      LaneAdjust(k, last);
  }

  bool NodeSeek(size_t k, int64_t t) {
    if (k == 0)
      return lanes_[0]->Seek(t);
    // Like Thanos: step with Next so gaps are seen, never skip ahead in the children.
    for (;;) {
      const int64_t cur = NodeT(k);
      if (cur >= t)
        return pairs_[k].use_a ? NodeSeek(k - 1, cur) : lanes_[k]->Seek(cur);
      if (!NodeNext(k))
        return false;
    }
  }

  bool NodeNext(size_t k) {
    if (k == 0)
      return lanes_[0]->Next();
    Pair& p = pairs_[k];
    const bool had_last = p.use_a ? p.a_ok : p.b_ok;
    const double last_v = had_last ? (p.use_a ? NodeV(k - 1) : LaneV(k)) : 0.0;
    const bool last_use_a = p.use_a;

    if (p.a_ok)
      p.a_ok = NodeSeek(k - 1, p.last_t + 1 + p.pen_a);
    if (p.b_ok)
      p.b_ok = lanes_[k]->Seek(p.last_t + 1 + p.pen_b);

    bool result = true;
    if (!p.a_ok) {
      p.use_a = false;
      if (p.b_ok) {
        p.last_t = lanes_[k]->t();
        p.pen_b = 0;
      }
      result = p.b_ok;
    } else if (!p.b_ok) {
      p.use_a = true;
      p.last_t = NodeT(k - 1);
      p.pen_a = 0;
    } else {
      const int64_t ta = NodeT(k - 1);
      const int64_t tb = lanes_[k]->t();
      p.use_a = ta <= tb;
      if (p.use_a) {
        p.pen_b = p.last_t != kMinTime ? 2 * (ta - p.last_t) : initial_penalty_;
        p.pen_a = 0;
        p.last_t = ta;
      } else {
        p.pen_a = p.last_t != kMinTime ? 2 * (tb - p.last_t) : initial_penalty_;
        p.pen_b = 0;
        p.last_t = tb;
      }
    }
    if (p.use_a != last_use_a && had_last)
      NodeAdjust(k, last_v);
    return result;
  }

  std::vector<std::unique_ptr<LaneCursor>>& lanes_;
  int64_t initial_penalty_;
  bool counter_;
  std::vector<double> adjust_;
  std::vector<Pair> pairs_;  // pairs_[k] for k >= 1
};

// Prometheus' chained merge of lanes: every timestamp once, the earliest lane wins ties.
class ChainDedup {
 public:
  explicit ChainDedup(std::vector<std::unique_ptr<LaneCursor>>* lanes) : lanes_(*lanes) {
    live_.resize(lanes_.size());
    for (size_t i = 0; i < lanes_.size(); ++i)
      live_[i] = lanes_[i]->Next();
  }

  bool Next() {
    if (started_) {
      for (size_t i = 0; i < lanes_.size(); ++i) {
        if (live_[i] && lanes_[i]->t() == t_)
          live_[i] = lanes_[i]->Next();
      }
    }
    started_ = true;
    size_t best = lanes_.size();
    for (size_t i = 0; i < lanes_.size(); ++i) {
      if (live_[i] && (best == lanes_.size() || lanes_[i]->t() < lanes_[best]->t()))
        best = i;
    }
    if (best == lanes_.size())
      return false;
    t_ = lanes_[best]->t();
    v_ = lanes_[best]->v();
    return true;
  }

  int64_t t() const { return t_; }

  double v() const { return v_; }

 private:
  std::vector<std::unique_ptr<LaneCursor>>& lanes_;
  std::vector<char> live_;
  bool started_ = false;
  int64_t t_ = 0;
  double v_ = 0;
};

class DedupSampleIterator final : public engine::SampleIterator {
 public:
  DedupSampleIterator(std::shared_ptr<const StoreSeries> series, int64_t mint, int64_t maxt,
                      DedupParams params, std::shared_ptr<const IterationContext> ctx)
      : series_(std::move(series)),
        mint_(mint),
        maxt_(maxt),
        params_(params),
        ctx_(std::move(ctx)) {}

  absl::StatusOr<size_t> Next(std::span<int64_t> ts, std::span<double> vs) override {
    if (!initialized_)
      Init();
    const size_t cap = std::min(ts.size(), vs.size());
    if (single_ != nullptr)
      return single_->Fill(ts.data(), vs.data(), cap);
    size_t n = 0;
    while (n < cap && !exhausted_) {
      const bool ok = penalty_ != nullptr ? penalty_->Next() : chain_->Next();
      if (!error_.ok())
        return error_;
      if (!ok) {
        exhausted_ = true;
        break;
      }
      ts[n] = penalty_ != nullptr ? penalty_->t() : chain_->t();
      vs[n] = penalty_ != nullptr ? penalty_->v() : chain_->v();
      ++n;
    }
    return n;
  }

 private:
  void Init() {
    initialized_ = true;
    std::vector<std::vector<uint32_t>> lanes = SplitOverlappingChunks(series_->chunks);
    if (lanes.size() <= 1) {
      single_ = std::make_unique<ChunkListDecoder>(
          series_.get(), lanes.empty() ? std::vector<uint32_t>{} : std::move(lanes[0]), false,
          mint_, maxt_, ctx_.get());
      return;
    }
    for (std::vector<uint32_t>& lane : lanes) {
      lanes_.push_back(std::make_unique<LaneCursor>(series_.get(), std::move(lane), mint_, maxt_,
                                                    ctx_.get(), &error_));
    }
    if (params_.func == DedupFunc::kChain) {
      chain_ = std::make_unique<ChainDedup>(&lanes_);
    } else {
      penalty_ =
          std::make_unique<PenaltyDedup>(&lanes_, params_.initial_penalty_ms, params_.counter);
    }
  }

  std::shared_ptr<const StoreSeries> series_;
  int64_t mint_;
  int64_t maxt_;
  DedupParams params_;
  std::shared_ptr<const IterationContext> ctx_;
  bool initialized_ = false;
  bool exhausted_ = false;
  absl::Status error_;
  std::unique_ptr<ChunkListDecoder> single_;
  std::vector<std::unique_ptr<LaneCursor>> lanes_;
  std::unique_ptr<PenaltyDedup> penalty_;
  std::unique_ptr<ChainDedup> chain_;
};

}  // namespace

void WarningSink::Add(std::string warning) {
  std::lock_guard<std::mutex> lock(mu_);
  if (std::find(warnings_.begin(), warnings_.end(), warning) != warnings_.end())
    return;
  warnings_.push_back(std::move(warning));
}

std::vector<std::string> WarningSink::Get() const {
  std::lock_guard<std::mutex> lock(mu_);
  return warnings_;
}

absl::Status IterationContext::OnCorruptChunk(const StoreChunk& chunk, const engine::Labels& labels,
                                              const absl::Status& error) const {
  const std::string_view store = chunk.store_index < store_names.size()
                                     ? std::string_view(store_names[chunk.store_index])
                                     : std::string_view("unknown store");
  std::string msg =
      fmt::format("corrupt chunk from {} in series {} [{}, {}]: {}", store, labels.ToString(),
                  chunk.min_time, chunk.max_time, ToStd(error.message()));
  if (strategy == PartialResponseStrategy::kAbort)
    return absl::DataLossError(ToAbsl(msg));
  warnings->Add(std::move(msg));
  return absl::OkStatus();
}

bool IsCounterFunc(std::string_view func) {
  return func == "rate" || func == "increase" || func == "irate" || func == "resets";
}

std::vector<std::vector<uint32_t>> SplitOverlappingChunks(std::span<const StoreChunk> chunks) {
  std::vector<std::vector<uint32_t>> lanes;
  std::vector<int64_t> lane_end;
  for (uint32_t i = 0; i < chunks.size(); ++i) {
    size_t lane = 0;
    while (lane < lanes.size() && !(lane_end[lane] < chunks[i].min_time))
      ++lane;
    if (lane == lanes.size()) {
      lanes.emplace_back();
      lane_end.push_back(0);
    }
    lanes[lane].push_back(i);
    lane_end[lane] = chunks[i].max_time;
  }
  return lanes;
}

std::unique_ptr<engine::SampleIterator> NewChunkSampleIterator(
    std::shared_ptr<const StoreSeries> series, int64_t mint, int64_t maxt,
    std::shared_ptr<const IterationContext> ctx) {
  return std::make_unique<ChunkSampleIterator>(std::move(series), mint, maxt, std::move(ctx));
}

std::unique_ptr<engine::SampleIterator> NewDedupSampleIterator(
    std::shared_ptr<const StoreSeries> series, int64_t mint, int64_t maxt, DedupParams params,
    std::shared_ptr<const IterationContext> ctx) {
  return std::make_unique<DedupSampleIterator>(std::move(series), mint, maxt, params,
                                               std::move(ctx));
}

}  // namespace paodin::storeapi
