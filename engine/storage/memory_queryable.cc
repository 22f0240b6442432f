#include "engine/storage/memory_queryable.h"

#include <algorithm>
#include <chrono>
#include <set>

namespace paodin::engine {

absl::Status QueryContext::Done() const {
  if (cancelled != nullptr && cancelled->load(std::memory_order_relaxed)) {
    return absl::CancelledError("query was canceled");
  }
  if (deadline_steady_ms != 0 && NowSteadyMs() > deadline_steady_ms) {
    return absl::DeadlineExceededError("query timed out");
  }
  return absl::OkStatus();
}

int64_t NowSteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void MemoryQueryable::Add(const Labels& labels, int64_t t_ms, double value) {
  auto& slot = series_[std::string(labels.bytes())];
  if (slot == nullptr) {
    slot = std::make_unique<Series>();
    slot->labels = labels;
  }
  Series& s = *slot;
  if (s.ts.empty() || s.ts.back() < t_ms) {
    s.ts.push_back(t_ms);
    s.vs.push_back(value);
    return;
  }
  auto it = std::lower_bound(s.ts.begin(), s.ts.end(), t_ms);
  size_t i = it - s.ts.begin();
  if (*it == t_ms) {
    s.vs[i] = value;
    return;
  }
  s.ts.insert(it, t_ms);
  s.vs.insert(s.vs.begin() + i, value);
}

void MemoryQueryable::Clear() { series_.clear(); }

std::vector<const MemoryQueryable::Series*> MemoryQueryable::Matching(
    int64_t start_ms, int64_t end_ms, std::span<const Matcher> matchers) const {
  std::vector<const Series*> out;
  for (const auto& [key, s] : series_) {
    if (!MatchesLabels(matchers, s->labels))
      continue;
    auto it = std::lower_bound(s->ts.begin(), s->ts.end(), start_ms);
    if (it == s->ts.end() || *it > end_ms)
      continue;
    out.push_back(s.get());
  }
  std::sort(out.begin(), out.end(),
            [](const Series* a, const Series* b) { return Compare(a->labels, b->labels) < 0; });
  return out;
}

namespace {

class MemoryIterator : public SampleIterator {
 public:
  MemoryIterator(const MemoryQueryable::Series* s, int64_t start, int64_t end) : s_(s) {
    pos_ = std::lower_bound(s->ts.begin(), s->ts.end(), start) - s->ts.begin();
    end_ = std::upper_bound(s->ts.begin(), s->ts.end(), end) - s->ts.begin();
  }

  absl::StatusOr<size_t> Next(std::span<int64_t> ts, std::span<double> vs) override {
    size_t n = std::min({ts.size(), vs.size(), end_ > pos_ ? end_ - pos_ : size_t{0}});
    std::copy_n(s_->ts.begin() + pos_, n, ts.begin());
    std::copy_n(s_->vs.begin() + pos_, n, vs.begin());
    pos_ += n;
    return n;
  }

 private:
  const MemoryQueryable::Series* s_;
  size_t pos_;
  size_t end_;
};

class MemorySeriesSet : public SeriesSet {
 public:
  MemorySeriesSet(std::vector<const MemoryQueryable::Series*> series, int64_t start, int64_t end)
      : series_(std::move(series)), start_(start), end_(end) {}

  bool Next() override {
    if (pos_ + 1 >= static_cast<int64_t>(series_.size())) {
      pos_ = series_.size();
      return false;
    }
    ++pos_;
    return true;
  }

  const Labels& labels() const override { return series_[pos_]->labels; }

  std::unique_ptr<SampleIterator> Samples() override {
    return std::make_unique<MemoryIterator>(series_[pos_], start_, end_);
  }

  absl::Status status() const override { return absl::OkStatus(); }

 private:
  std::vector<const MemoryQueryable::Series*> series_;
  int64_t start_;
  int64_t end_;
  int64_t pos_ = -1;
};

}  // namespace

absl::StatusOr<std::unique_ptr<SeriesSet>> MemoryQueryable::Select(
    const SelectHints& hints, std::span<const Matcher> matchers, const QueryContext& ctx) {
  if (absl::Status st = ctx.Done(); !st.ok())
    return st;
  return std::make_unique<MemorySeriesSet>(Matching(hints.start_ms, hints.end_ms, matchers),
                                           hints.start_ms, hints.end_ms);
}

absl::StatusOr<std::vector<std::string>> MemoryQueryable::LabelNames(
    int64_t start_ms, int64_t end_ms, std::span<const Matcher> matchers, const QueryContext& ctx) {
  std::set<std::string> names;
  for (const Series* s : Matching(start_ms, end_ms, matchers)) {
    for (Label l : s->labels)
      names.emplace(l.name);
  }
  return std::vector<std::string>(names.begin(), names.end());
}

absl::StatusOr<std::vector<std::string>> MemoryQueryable::LabelValues(
    std::string_view name, int64_t start_ms, int64_t end_ms, std::span<const Matcher> matchers,
    const QueryContext& ctx) {
  std::set<std::string> values;
  for (const Series* s : Matching(start_ms, end_ms, matchers)) {
    std::string_view v = s->labels.Get(name);
    if (!v.empty())
      values.emplace(v);
  }
  return std::vector<std::string>(values.begin(), values.end());
}

}  // namespace paodin::engine
