// Puts a Prometheus sidecar's external labels on series and strips replica labels while keeping
// the stream sorted, holding back as few series as possible.
//
// Why ordering can change. Prometheus returns series sorted by their own labels L; the sidecar
// sends f(L) = L with the external labels set (they override) and `without_replica_labels`
// removed, and must send them sorted by f(L). f is not monotonic: with the external label c="x",
// {a="1"} < {a="1",b="2"} but {a="1",c="x"} > {a="1",b="2",c="x"} (a series that is a prefix of
// a later one moves behind it), and a series that carries an external or replica label itself
// can move anywhere, even in front of everything seen before ({a="1",r="1"} with r stripped
// sorts before {a="1",b="0"}). Thanos buffers the whole response and re-sorts it.
//
// Prometheus' remote read itself adds its external labels (the sidecar's, read from the same
// configuration) to the series it returns, unless a series has its own label of that name, but
// sorts the series by their own labels. So the order the input is in is that of the series' own
// labels, which on clean data are the returned labels minus the external label names.
//
// What is held back here. The caller says whether the data is "clean": no series carries a label
// named like an external or replica label (the sidecar asks Prometheus' label-names API with the
// same matchers; it is the usual case, as those labels belong to the sidecar, not to the
// series). On clean data f only inserts the external labels E', and a held series P (input
// labels) is released as soon as no later input can sort before it, N being the newest input
// (all later ones sort after N):
//
//  1. P is not a prefix of N. Then P and every later input L differ at a label both have, no
//     label of L is removed or overridden, and f keeps that difference.
//  2. E' is not empty; let m be its smallest name and K(L) the labels of L named below m (f never
//     touches them). f(L) sorts by K(L) followed by an "infinite" label, then by its labels from
//     m on. If K(P) + infinity sorts before K(N), no later input can sort before P.
//
// So on clean data a series is held only until the next one arrives, or while later series
// extend it; with no external labels nothing is held. On data that is not clean every series is
// held to the end and sorted, as Thanos does. If data announced clean turns out not to be (a new
// series appeared between the two requests), the queue holds everything from then on and
// Finish() fails if the order can no longer be kept.
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

  // The external labels.
  const engine::Labels& external() const { return external_; }

  // True when f is the identity (no external and no replica labels).
  bool identity() const { return identity_; }

  // f(labels).
  engine::Labels Apply(const engine::Labels& labels) const;

  // True when `labels` has a label named like an external or replica label.
  bool Touches(const engine::Labels& labels) const;

  // A series as Prometheus' remote read returns it, which adds its external labels (the same as
  // ours) unless the series has its own label of that name: the series' own labels, assuming it
  // had none named like an external label. Sets *own when the series visibly has its own
  // (a value other than the external one, or a replica label that is not external).
  engine::Labels StripAdded(const engine::Labels& labels, bool* own) const;

  // True when one of `names` is an external or replica label name.
  bool TouchesAnyName(const std::vector<std::string>& names) const;

  // The smallest name of an added label (m above); "" when !adds_labels().
  const std::string& add_min_name() const { return add_min_name_; }

  // True when f adds labels to every series (some external label is not a replica label).
  bool adds_labels() const { return adds_labels_; }

 private:
  engine::Labels external_;
  std::vector<std::string> replicas_;  // sorted, unique
  std::vector<std::string> names_;     // external and replica names, sorted, unique
  std::string add_min_name_;
  bool identity_;
  bool adds_labels_ = false;
};

// Series in, relabeled series out, in the order of their final labels (see the file comment).
class OrderedRelabelQueue {
 public:
  // `clean`: the caller knows that no input series carries an external or replica label.
  OrderedRelabelQueue(SeriesRelabeler relabeler, bool clean);

  // Adds the next series of the input, `labels` being its labels as Prometheus returned them;
  // `series` holds its chunks (its labels are overwritten with the final labels). Fails with
  // FailedPrecondition when, on clean data, the series' own labels do not sort strictly after
  // the previous series' (on other data everything is sorted at the end anyway).
  absl::Status Push(const engine::Labels& labels, thanos::Series series);

  // Marks the end of the input: every held series becomes ready. Fails with Aborted when data
  // announced clean was not and a series would have had to go before one already released.
  absl::Status Finish();

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
  };

  struct LabelsLess {
    bool operator()(const engine::Labels& a, const engine::Labels& b) const {
      return engine::Compare(a, b) < 0;
    }
  };

  void Release(const engine::Labels& newest);
  bool Safe(const Held& h, const engine::Labels& final_labels, const engine::Labels& newest) const;
  void Emit(engine::Labels final_labels, thanos::Series series);

  SeriesRelabeler relabeler_;
  std::multimap<engine::Labels, Held, LabelsLess> held_;
  std::deque<thanos::Series> ready_;
  engine::Labels last_input_;
  bool has_input_ = false;
  // False once an input broke the clean promise (or none was made): nothing is released early.
  bool streaming_;
  bool promised_clean_;
  engine::Labels last_emitted_;
  bool has_emitted_ = false;
  size_t max_held_ = 0;
};

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_SIDECAR_RELABEL_H_
