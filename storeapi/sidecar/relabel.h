// Puts a Prometheus sidecar's external labels on series and strips replica labels while keeping
// the stream sorted, holding back as few series as possible.
//
// Why ordering can change, and what is held back. Prometheus returns series sorted by their own
// labels L; the sidecar sends f(L) = L with the external labels set (they override) and the
// `without_replica_labels` removed, and must send them sorted by f(L). f is not monotonic:
// with the external label c="x", {a="1"} < {a="1",b="2"} but {a="1",c="x"} > {a="1",b="2",c="x"}
// (a series that is a prefix of the next one can move behind it), and a series that carries an
// external or replica label of its own can move anywhere among those sharing the labels before
// it. Thanos buffers the whole response and re-sorts it. Here a series is released as soon as no
// later input can sort before it, which two rules decide (input labels P of a held series, N the
// newest input; all later inputs sort after N):
//
//  1. P is "clean" (no label named like an external or replica label) and P is not a prefix of
//     N. Then P and every later input differ at a label both have, and f keeps that difference.
//  2. Let m be the smallest external or replica label name and K(L) the labels of L named below
//     m (f never touches them). f(L) sorts by K(L) followed by an "infinite" label when f(L) has
//     labels from m on, then by those labels. If that key of P sorts before K(N), no later input
//     can sort before P.
//
// So with clean data (the usual case: Prometheus series do not carry the sidecar's external
// labels) a series is held only until the next one arrives, or while later series extend it;
// only series carrying external or replica labels themselves wait for their group to end. With
// no external labels and no replica labels nothing is held.
#ifndef PAODIN_STOREAPI_SIDECAR_RELABEL_H_
#define PAODIN_STOREAPI_SIDECAR_RELABEL_H_

#include <cstddef>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "proto/thanos/types.pb.h"

#include "absl/status/status.h"
#include "engine/model/labels.h"

namespace paodin::storeapi {

// f(L): external labels set (overriding), replica labels removed.
class SeriesRelabeler {
 public:
  // `replica_labels` may hold duplicates and any order.
  SeriesRelabeler(engine::Labels external, std::vector<std::string> replica_labels);

  // True when f is the identity (no external and no replica labels).
  bool identity() const { return identity_; }

  // f(labels).
  engine::Labels Apply(const engine::Labels& labels) const;

  // True when `labels` has a label named like an external or replica label.
  bool Touches(const engine::Labels& labels) const;

  // The smallest external or replica label name (m above); "" when identity().
  const std::string& min_name() const { return min_name_; }

 private:
  engine::Labels external_;
  std::vector<std::string> replicas_;  // sorted, unique
  std::vector<std::string> names_;     // external and replica names, sorted, unique
  std::string min_name_;
  bool identity_;
};

// Series in, relabeled series out, in the order of their final labels (see the file comment).
class OrderedRelabelQueue {
 public:
  explicit OrderedRelabelQueue(SeriesRelabeler relabeler);

  // Adds the next series of the input, `labels` being its input labels; `series` holds its
  // chunks (its labels are overwritten with the final labels). Fails with FailedPrecondition
  // when `labels` does not sort strictly after the previous input's.
  absl::Status Push(const engine::Labels& labels, thanos::Series series);

  // Marks the end of the input: every held series becomes ready.
  void Finish();

  // Moves the next ready series into *out and returns true, or returns false when none is
  // ready (push more or finish).
  bool Pop(thanos::Series* out);

  // Series held back (not yet ready).
  size_t held() const { return held_.size(); }

  // The largest number of series held back at once so far.
  size_t max_held() const { return max_held_; }

 private:
  struct Held {
    engine::Labels input;
    thanos::Series series;
    bool clean;
  };

  struct LabelsLess {
    bool operator()(const engine::Labels& a, const engine::Labels& b) const {
      return engine::Compare(a, b) < 0;
    }
  };

  void Release(const engine::Labels& newest);
  bool Safe(const Held& h, const engine::Labels& final_labels, const engine::Labels& newest) const;

  SeriesRelabeler relabeler_;
  std::multimap<engine::Labels, Held, LabelsLess> held_;
  std::deque<thanos::Series> ready_;
  engine::Labels last_input_;
  bool has_input_ = false;
  size_t max_held_ = 0;
};

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_SIDECAR_RELABEL_H_
