#include "engine/model/labels.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>
#include <limits>

#include <xxhash.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/util/varint.h"

namespace paodin::engine {
namespace {

// REQUIRES: a well-formed buffer (we only decode buffers we encoded).
inline size_t GetVarint(const char*& p) {
  unsigned char b = static_cast<unsigned char>(*p++);
  if (b < 0x80)
    return b;
  size_t n = b & 0x7f;
  int shift = 7;
  do {
    b = static_cast<unsigned char>(*p++);
    n |= static_cast<size_t>(b & 0x7f) << shift;
    shift += 7;
  } while (b >= 0x80);
  return n;
}

inline std::string_view GetString(const char*& p) {
  size_t len = GetVarint(p);
  std::string_view s(p, len);
  p += len;
  return s;
}

inline void SkipLabel(const char*& p) {
  size_t len = GetVarint(p);
  p += len;
  len = GetVarint(p);
  p += len;
}

// Length of the longest common prefix of `a` and `b`, eight bytes at a time.
size_t CommonPrefix(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t wa, wb;
    std::memcpy(&wa, a.data() + i, 8);
    std::memcpy(&wb, b.data() + i, 8);
    if (wa != wb) {
      static_assert(std::endian::native == std::endian::little);
      return i + static_cast<size_t>(std::countr_zero(wa ^ wb)) / 8;
    }
  }
  while (i < n && a[i] == b[i])
    ++i;
  return i;
}

size_t EncodedSize(std::string_view name, std::string_view value) {
  return VarintSize(name.size()) + name.size() + VarintSize(value.size()) + value.size();
}

char* PutLabel(char* p, std::string_view name, std::string_view value) {
  p = PutVarint(p, name.size());
  std::memcpy(p, name.data(), name.size());
  p += name.size();
  p = PutVarint(p, value.size());
  std::memcpy(p, value.data(), value.size());
  return p + value.size();
}

// Scratch space for hashing subsets, reused per thread so hashing does not allocate.
std::string& HashScratch() {
  thread_local std::string scratch;
  scratch.clear();
  return scratch;
}

uint64_t HashBytes(std::string_view bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

bool Contains(std::span<const std::string> names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

void Labels::Iterator::Load() {
  if (pos_ == end_)
    return;
  const char* p = pos_;
  current_.name = GetString(p);
  current_.value = GetString(p);
  next_ = p;
}

Labels::Labels(const Labels& other) : size_(other.size_), count_(other.count_) {
  if (size_ > 0) {
    data_.reset(new char[size_]);
    std::memcpy(data_.get(), other.data_.get(), size_);
  }
}

Labels& Labels::operator=(const Labels& other) {
  if (this != &other) {
    Labels copy(other);
    *this = std::move(copy);
  }
  return *this;
}

Labels& Labels::operator=(Labels&& other) noexcept {
  if (this != &other) {
    data_ = std::move(other.data_);
    size_ = other.size_;
    count_ = other.count_;
    other.size_ = 0;
    other.count_ = 0;
  }
  return *this;
}

absl::StatusOr<Labels> Labels::FromPairs(std::vector<std::pair<std::string, std::string>> pairs) {
  std::sort(pairs.begin(), pairs.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  size_t total = 0;
  std::vector<Label> labels;
  labels.reserve(pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (i > 0 && pairs[i].first == pairs[i - 1].first) {
      return absl::InvalidArgumentError(
          absl::StrCat("label set has duplicate label name ", GoQuote(pairs[i].first)));
    }
    if (pairs[i].second.empty())
      continue;
    labels.push_back(Label{pairs[i].first, pairs[i].second});
    total += EncodedSize(pairs[i].first, pairs[i].second);
  }
  if (total > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError("label set is larger than 4 GiB");
  }
  return FromSortedUnchecked(labels);
}

Labels Labels::FromSortedUnchecked(std::span<const Label> labels) {
  if (labels.empty())
    return Labels();
  size_t total = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    assert(!labels[i].value.empty());
    assert(i == 0 || labels[i - 1].name < labels[i].name);
    total += EncodedSize(labels[i].name, labels[i].value);
  }
  std::unique_ptr<char[]> data(new char[total]);
  char* p = data.get();
  for (const Label& l : labels)
    p = PutLabel(p, l.name, l.value);
  return Labels(std::move(data), static_cast<uint32_t>(total),
                static_cast<uint32_t>(labels.size()));
}

std::string_view Labels::Get(std::string_view name) const {
  for (Label l : *this) {
    int c = l.name.compare(name);
    if (c == 0)
      return l.value;
    if (c > 0)
      break;
  }
  return {};
}

bool Labels::Has(std::string_view name) const {
  for (Label l : *this) {
    int c = l.name.compare(name);
    if (c == 0)
      return true;
    if (c > 0)
      break;
  }
  return false;
}

uint64_t Labels::Hash() const { return HashBytes(bytes()); }

uint64_t Labels::HashForLabels(std::span<const std::string> names) const {
  std::string& scratch = HashScratch();
  const char* end = data_.get() + size_;
  const char* p = data_.get();
  size_t name_idx = 0;
  while (p != end && name_idx < names.size()) {
    const char* entry = p;
    std::string_view name = GetString(p);
    GetString(p);
    while (name_idx < names.size() && names[name_idx] < name)
      ++name_idx;
    if (name_idx < names.size() && names[name_idx] == name) {
      scratch.append(entry, p - entry);
      ++name_idx;
    }
  }
  return HashBytes(scratch);
}

uint64_t Labels::HashWithoutLabels(std::span<const std::string> names) const {
  std::string& scratch = HashScratch();
  const char* end = data_.get() + size_;
  const char* p = data_.get();
  size_t name_idx = 0;
  while (p != end) {
    const char* entry = p;
    std::string_view name = GetString(p);
    GetString(p);
    if (name == kMetricName)
      continue;
    while (name_idx < names.size() && names[name_idx] < name)
      ++name_idx;
    if (name_idx < names.size() && names[name_idx] == name)
      continue;
    scratch.append(entry, p - entry);
  }
  return HashBytes(scratch);
}

Labels Labels::DropMetricName() const {
  const char* end = data_.get() + size_;
  const char* p = data_.get();
  while (p != end) {
    const char* entry = p;
    std::string_view name = GetString(p);
    GetString(p);
    int c = name.compare(kMetricName);
    if (c > 0)
      break;
    if (c == 0) {
      size_t before = entry - data_.get();
      size_t after = end - p;
      if (before + after == 0)
        return Labels();
      std::unique_ptr<char[]> data(new char[before + after]);
      std::memcpy(data.get(), data_.get(), before);
      std::memcpy(data.get() + before, p, after);
      return Labels(std::move(data), static_cast<uint32_t>(before + after), count_ - 1);
    }
  }
  return *this;
}

std::string Labels::ToString() const {
  std::string out = "{";
  bool first = true;
  for (Label l : *this) {
    if (!first)
      out.append(", ");
    first = false;
    out.append(l.name);
    out.push_back('=');
    out.append(GoQuote(l.value));
  }
  out.push_back('}');
  return out;
}

int Compare(const Labels& a, const Labels& b) {
  std::string_view ab = a.bytes();
  std::string_view bb = b.bytes();
  // Equal encodings up to byte `common` mean equal labels for every entry that ends there, so
  // skip those with a cheap walk and compare label by label from the first differing entry.
  const size_t common = CommonPrefix(ab, bb);
  if (common == ab.size() && common == bb.size())
    return 0;
  const char* pa = ab.data();
  const char* ea = pa + ab.size();
  while (pa != ea) {
    const char* next = pa;
    SkipLabel(next);
    if (static_cast<size_t>(next - ab.data()) > common)
      break;
    pa = next;
  }
  const char* pb = bb.data() + (pa - ab.data());
  const char* eb = bb.data() + bb.size();
  while (pa != ea && pb != eb) {
    // Name, then value: each a length and bytes; compare the bytes of the common length first.
    for (int field = 0; field < 2; ++field) {
      size_t la = GetVarint(pa);
      size_t lb = GetVarint(pb);
      int c = std::memcmp(pa, pb, std::min(la, lb));
      if (c != 0)
        return c;
      if (la != lb)
        return la < lb ? -1 : 1;
      pa += la;
      pb += lb;
    }
  }
  if (pa != ea)
    return 1;
  if (pb != eb)
    return -1;
  return 0;
}

bool MatchesLabels(std::span<const Matcher> matchers, const Labels& labels) {
  for (const Matcher& m : matchers) {
    if (!m.Matches(labels.Get(m.name())))
      return false;
  }
  return true;
}

LabelsBuilder& LabelsBuilder::Reset(const Labels& base) {
  base_ = base;
  owned_.clear();
  entries_.assign(base_.begin(), base_.end());
  return *this;
}

LabelsBuilder& LabelsBuilder::Set(std::string_view name, std::string_view value) {
  if (value.empty())
    return Del(name);
  auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                             [](const Label& l, std::string_view n) { return l.name < n; });
  // Own the bytes: the caller's views need not outlive the builder.
  auto storage = std::make_unique<std::string>();
  storage->reserve(name.size() + value.size());
  storage->append(name).append(value);
  Label label{std::string_view(*storage).substr(0, name.size()),
              std::string_view(*storage).substr(name.size())};
  owned_.push_back(std::move(storage));
  if (it != entries_.end() && it->name == name) {
    *it = label;
  } else {
    entries_.insert(it, label);
  }
  return *this;
}

LabelsBuilder& LabelsBuilder::Del(std::string_view name) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                             [](const Label& l, std::string_view n) { return l.name < n; });
  if (it != entries_.end() && it->name == name)
    entries_.erase(it);
  return *this;
}

LabelsBuilder& LabelsBuilder::Keep(std::span<const std::string> names) {
  std::erase_if(entries_, [&](const Label& l) { return !Contains(names, l.name); });
  return *this;
}

Labels LabelsBuilder::Build() const { return Labels::FromSortedUnchecked(entries_); }

}  // namespace paodin::engine
