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

namespace {

// Appends `labels` to *key so that a bytewise comparison of two keys orders their label sets
// as labels.Compare does: per label the name and "\0" (names hold no NUL and are never empty),
// then the value with NUL escaped as "\0\x01" and ended by "\0\0". The end of a value then
// sorts before any continuation of it (a prefix first), and a set that is a prefix of another
// sorts first.
void EncodeLabelsKey(const engine::Labels& labels, std::string* key) {
  for (const engine::Label& l : labels) {
    key->append(l.name.data(), l.name.size());
    key->push_back('\0');
    size_t from = 0;
    for (size_t nul = l.value.find('\0'); nul != std::string_view::npos;
         nul = l.value.find('\0', from)) {
      key->append(l.value.data() + from, nul - from);
      key->append("\0\x01", 2);
      from = nul + 1;
    }
    key->append(l.value.data() + from, l.value.size() - from);
    key->append("\0\0", 2);
  }
}

}  // namespace

SeriesMerger::SeriesMerger(std::vector<std::unique_ptr<SeriesSource>> sources)
    : sources_(std::move(sources)), tree_(sources_.size()) {}

absl::Status SeriesMerger::Advance(size_t leaf) {
  absl::StatusOr<bool> more = sources_[leaf]->Next();
  if (!more.ok())
    return more.status();
  tree_.set_done(leaf, !*more);
  if (*more)
    EncodeLabelsKey(sources_[leaf]->current().labels, &tree_.key(leaf));
  return absl::OkStatus();
}

absl::Status SeriesMerger::Init() {
  for (size_t i = 0; i < sources_.size(); ++i) {
    tree_.key(i).clear();
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
  if (tree_.done(w))
    return false;
  StoreSeries& head = sources_[w]->current();
  out->labels = std::move(head.labels);
  out->chunks = std::move(head.chunks);
  head.chunks.clear();
  for (;;) {
    tree_.BeginUpdate(w);
    if (absl::Status st = Advance(w); !st.ok())
      return st;
    tree_.Replay(w);
    if (!tree_.WinnerEqualsReplaced())
      break;
    w = tree_.Winner();
    StoreSeries& same = sources_[w]->current();
    for (StoreChunk& c : same.chunks)
      out->chunks.push_back(std::move(c));
    same.chunks.clear();
  }
  SortAndDedupChunks(&out->chunks);
  return true;
}

}  // namespace paodin::storeapi
