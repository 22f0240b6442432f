#include "storeapi/sidecar/relabel.h"

#include <algorithm>
#include <utility>

#include "storeapi/server/convert.h"

namespace paodin::storeapi {
namespace {

using engine::Label;
using engine::Labels;

// -1, 0, 1 as labels.Compare orders two single labels.
int CompareLabel(const Label& a, const Label& b) {
  if (int c = a.name.compare(b.name); c != 0) {
    return c < 0 ? -1 : 1;
  }
  if (int c = a.value.compare(b.value); c != 0) {
    return c < 0 ? -1 : 1;
  }
  return 0;
}

// True when `a` is a (not necessarily proper) prefix of `b`.
bool IsPrefix(const Labels& a, const Labels& b) {
  if (a.size() > b.size()) {
    return false;
  }
  auto bi = b.begin();
  for (Label l : a) {
    if (!(l == *bi)) {
      return false;
    }
    ++bi;
  }
  return true;
}

}  // namespace

SeriesRelabeler::SeriesRelabeler(Labels external, std::vector<std::string> replica_labels)
    : external_(std::move(external)), replicas_(std::move(replica_labels)) {
  std::sort(replicas_.begin(), replicas_.end());
  replicas_.erase(std::unique(replicas_.begin(), replicas_.end()), replicas_.end());
  names_ = replicas_;
  for (Label l : external_) {
    names_.emplace_back(l.name);
  }
  std::sort(names_.begin(), names_.end());
  names_.erase(std::unique(names_.begin(), names_.end()), names_.end());
  identity_ = names_.empty();
  for (Label l : external_) {
    if (!adds_labels_ && !std::binary_search(replicas_.begin(), replicas_.end(), l.name)) {
      adds_labels_ = true;
      add_min_name_ = std::string(l.name);  // external_ is sorted: the first one is smallest
    }
  }
}

Labels SeriesRelabeler::Apply(const Labels& labels) const {
  if (identity_) {
    return labels;
  }
  engine::LabelsBuilder builder(labels);
  for (Label l : external_) {
    builder.Set(l.name, l.value);
  }
  for (const std::string& r : replicas_) {
    builder.Del(r);
  }
  return builder.Build();
}

bool SeriesRelabeler::Touches(const Labels& labels) const {
  for (Label l : labels) {
    if (std::binary_search(names_.begin(), names_.end(), l.name)) {
      return true;
    }
  }
  return false;
}

Labels SeriesRelabeler::StripAdded(const Labels& labels, bool* own) const {
  engine::LabelsBuilder builder(labels);
  for (Label e : external_) {
    const std::string_view v = labels.Get(e.name);
    if (!v.empty() && v != e.value) {
      *own = true;
    }
    builder.Del(e.name);
  }
  for (const std::string& r : replicas_) {
    if (!external_.Has(r) && labels.Has(r)) {
      *own = true;
    }
  }
  return builder.Build();
}

bool SeriesRelabeler::TouchesAnyName(const std::vector<std::string>& names) const {
  for (const std::string& n : names) {
    if (std::binary_search(names_.begin(), names_.end(), n)) {
      return true;
    }
  }
  return false;
}

OrderedRelabelQueue::OrderedRelabelQueue(SeriesRelabeler relabeler, bool clean)
    : relabeler_(std::move(relabeler)), streaming_(clean), promised_clean_(clean) {}

void OrderedRelabelQueue::Emit(Labels final_labels, thanos::Series series) {
  if (promised_clean_) {
    last_emitted_ = std::move(final_labels);
    has_emitted_ = true;
  }
  ready_.push_back(std::move(series));
}

bool OrderedRelabelQueue::Safe(const Held& h, const Labels& final_labels,
                               const Labels& newest) const {
  if (!streaming_) {
    return false;
  }
  // Rule 1: a series that the newest input does not extend.
  if (!IsPrefix(h.input, newest)) {
    return true;
  }
  // Rule 2: K(P) + infinity < K(N), when f adds labels (named m and above).
  if (!relabeler_.adds_labels()) {
    return false;
  }
  const std::string& m = relabeler_.add_min_name();
  auto a = final_labels.begin();
  const auto a_end = final_labels.end();
  auto b = newest.begin();
  const auto b_end = newest.end();
  for (;;) {
    const bool a_in_k = a != a_end && a->name < m;
    const bool b_in_k = b != b_end && b->name < m;
    if (!a_in_k) {
      const bool a_infinite = a != a_end;
      // K(P) ended: less only when K(N) goes on and P has no infinite label to follow.
      return b_in_k && !a_infinite;
    }
    if (!b_in_k) {
      return false;
    }
    if (int c = CompareLabel(*a, *b); c != 0) {
      return c < 0;
    }
    ++a;
    ++b;
  }
}

void OrderedRelabelQueue::Release(const Labels& newest) {
  while (!held_.empty()) {
    auto it = held_.begin();
    if (!Safe(it->second, it->first, newest)) {
      return;
    }
    auto node = held_.extract(it);
    Emit(std::move(node.key()), std::move(node.mapped().series));
  }
}

absl::Status OrderedRelabelQueue::Push(const Labels& labels, thanos::Series series) {
  series.clear_labels();
  if (relabeler_.identity()) {
    if (has_input_ && engine::Compare(labels, last_input_) <= 0) {
      return absl::FailedPreconditionError("Prometheus returned series out of order: " +
                                           labels.ToString() + " after " + last_input_.ToString());
    }
    last_input_ = labels;
    has_input_ = true;
    LabelsToProto(labels, series.mutable_labels());
    ready_.push_back(std::move(series));
    return absl::OkStatus();
  }
  bool own = false;
  Labels key = relabeler_.StripAdded(labels, &own);
  if (streaming_ && own) {
    streaming_ = false;
  }
  if (streaming_) {
    // Prometheus sorts by the series' own labels: the key, on clean data.
    if (has_input_ && engine::Compare(key, last_input_) <= 0) {
      return absl::FailedPreconditionError("Prometheus returned series out of order: " +
                                           labels.ToString() + " after " + last_input_.ToString());
    }
    last_input_ = key;
    has_input_ = true;
  }
  Labels final_labels = relabeler_.Apply(labels);
  if (streaming_ && !relabeler_.adds_labels()) {
    // Clean data and nothing to add: f(L) = L.
    LabelsToProto(final_labels, series.mutable_labels());
    Emit(std::move(final_labels), std::move(series));
    return absl::OkStatus();
  }
  if (streaming_) {
    Release(key);
  }
  LabelsToProto(final_labels, series.mutable_labels());
  held_.emplace(std::move(final_labels), Held{std::move(key), std::move(series)});
  max_held_ = std::max(max_held_, held_.size());
  return absl::OkStatus();
}

absl::Status OrderedRelabelQueue::Finish() {
  if (has_emitted_ && !held_.empty() && engine::Compare(held_.begin()->first, last_emitted_) < 0) {
    return absl::AbortedError(
        "series with external or replica labels appeared while reading from Prometheus, so the "
        "output order cannot be kept; retry the query: " +
        held_.begin()->first.ToString());
  }
  while (!held_.empty()) {
    auto node = held_.extract(held_.begin());
    Emit(std::move(node.key()), std::move(node.mapped().series));
  }
  return absl::OkStatus();
}

bool OrderedRelabelQueue::Pop(thanos::Series* out) {
  if (ready_.empty()) {
    return false;
  }
  *out = std::move(ready_.front());
  ready_.pop_front();
  return true;
}

}  // namespace paodin::storeapi
