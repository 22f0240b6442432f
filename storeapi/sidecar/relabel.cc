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
  if (!identity_) {
    min_name_ = names_.front();
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

OrderedRelabelQueue::OrderedRelabelQueue(SeriesRelabeler relabeler)
    : relabeler_(std::move(relabeler)) {}

bool OrderedRelabelQueue::Safe(const Held& h, const Labels& final_labels,
                               const Labels& newest) const {
  // Rule 1: a clean series that the newest input does not extend.
  if (h.clean && !IsPrefix(h.input, newest)) {
    return true;
  }
  // Rule 2: key(P) = K(P) [+ infinity when f(P) has labels from m on] < K(N).
  const std::string& m = relabeler_.min_name();
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
    ready_.push_back(std::move(it->second.series));
    held_.erase(it);
  }
}

absl::Status OrderedRelabelQueue::Push(const Labels& labels, thanos::Series series) {
  if (has_input_ && engine::Compare(labels, last_input_) <= 0) {
    return absl::FailedPreconditionError("Prometheus returned series out of order: " +
                                         labels.ToString() + " after " + last_input_.ToString());
  }
  last_input_ = labels;
  has_input_ = true;
  series.clear_labels();
  if (relabeler_.identity()) {
    LabelsToProto(labels, series.mutable_labels());
    ready_.push_back(std::move(series));
    return absl::OkStatus();
  }
  Release(labels);
  Labels final_labels = relabeler_.Apply(labels);
  LabelsToProto(final_labels, series.mutable_labels());
  const bool clean = !relabeler_.Touches(labels);
  held_.emplace(std::move(final_labels), Held{labels, std::move(series), clean});
  max_held_ = std::max(max_held_, held_.size());
  return absl::OkStatus();
}

void OrderedRelabelQueue::Finish() {
  for (auto& [final_labels, h] : held_) {
    ready_.push_back(std::move(h.series));
  }
  held_.clear();
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
