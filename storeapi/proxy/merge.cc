#include "storeapi/proxy/merge.h"

#include <algorithm>

namespace paodin::storeapi {

void SortAndDedupChunks(std::vector<StoreChunk>* chunks) {
  if (chunks->size() < 2)
    return;
  auto less = [](const StoreChunk& a, const StoreChunk& b) {
    if (a.min_time != b.min_time)
      return a.min_time < b.min_time;
    if (a.max_time != b.max_time)
      return a.max_time < b.max_time;
    return a.data < b.data;
  };
  if (!std::is_sorted(chunks->begin(), chunks->end(), less)) {
    std::sort(chunks->begin(), chunks->end(), less);
  }
  chunks->erase(std::unique(chunks->begin(), chunks->end()), chunks->end());
}

bool SeriesMerger::Less::operator()(size_t a, size_t b) const {
  if (m->done_[a])
    return false;
  if (m->done_[b])
    return true;
  const int c = (m->slow_[a] | m->slow_[b]) ? engine::Compare(*m->labels_[a], *m->labels_[b])
                                            : m->keys_[a].compare(m->keys_[b]);
  return c < 0 || (c == 0 && a < b);
}

SeriesMerger::SeriesMerger(std::vector<std::unique_ptr<SeriesSource>> sources)
    : sources_(std::move(sources)),
      labels_(sources_.size()),
      keys_(sources_.size()),
      slow_(sources_.size(), 0),
      done_(sources_.size(), 1),
      tree_(sources_.size(), Less{this}) {
  for (size_t i = 0; i < sources_.size(); ++i)
    labels_[i] = &sources_[i]->current().labels;
}

absl::Status SeriesMerger::Advance(size_t leaf) {
  absl::StatusOr<bool> more = sources_[leaf]->Next();
  if (!more.ok())
    return more.status();
  done_[leaf] = *more ? 0 : 1;
  if (*more) {
    std::string& key = keys_[leaf];
    key.clear();
    bool slow = false;
    for (const engine::Label& l : *labels_[leaf]) {
      key.append(l.name).push_back('\0');
      key.append(l.value).push_back('\0');
      slow |= l.value.find('\0') != std::string_view::npos;
    }
    slow_[leaf] = slow ? 1 : 0;
  }
  return absl::OkStatus();
}

absl::Status SeriesMerger::Init() {
  for (size_t i = 0; i < sources_.size(); ++i) {
    if (absl::Status st = Advance(i); !st.ok())
      return st;
  }
  tree_.Build();
  initialized_ = true;
  return absl::OkStatus();
}

absl::StatusOr<bool> SeriesMerger::Next(StoreSeries* out) {
  if (!initialized_) {
    if (absl::Status st = Init(); !st.ok())
      return st;
  }
  if (sources_.empty())
    return false;
  size_t w = tree_.Winner();
  if (done_[w])
    return false;
  StoreSeries& head = sources_[w]->current();
  out->labels = std::move(head.labels);
  out->chunks = std::move(head.chunks);
  head.chunks.clear();
  for (;;) {
    if (absl::Status st = Advance(w); !st.ok())
      return st;
    tree_.Replay(w);
    w = tree_.Winner();
    if (done_[w] || !(*labels_[w] == out->labels))
      break;
    StoreSeries& same = sources_[w]->current();
    for (StoreChunk& c : same.chunks)
      out->chunks.push_back(std::move(c));
    same.chunks.clear();
  }
  SortAndDedupChunks(&out->chunks);
  return true;
}

}  // namespace paodin::storeapi
