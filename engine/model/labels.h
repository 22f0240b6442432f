// Label sets with Prometheus semantics: sorted by name, no empty values, compared bytewise
// (Prometheus labels.Compare), hashed with xxhash. A set lives in one heap buffer, so a copy is
// one allocation and a move is a pointer swap.
#ifndef PAODIN_ENGINE_MODEL_LABELS_H_
#define PAODIN_ENGINE_MODEL_LABELS_H_

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/model/matcher.h"

namespace paodin::engine {

// The name of the label that holds the metric name.
inline constexpr std::string_view kMetricName = "__name__";

// One label: views into the buffer of the Labels it came from (valid while that set lives;
// moving the set keeps them valid, destroying or assigning over it does not).
struct Label {
  std::string_view name;
  std::string_view value;

  friend bool operator==(const Label& a, const Label& b) {
    return a.name == b.name && a.value == b.value;
  }
};

// An immutable label set sorted by name. The buffer holds, per label, a varint name length, the
// name, a varint value length and the value. Equal sets have equal buffers.
class Labels {
 public:
  // Forward iterator over the labels in name order; dereferences to a Label by value.
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Label;
    using difference_type = std::ptrdiff_t;
    using pointer = const Label*;
    using reference = const Label&;

    Iterator() = default;

    const Label& operator*() const { return current_; }

    const Label* operator->() const { return &current_; }

    Iterator& operator++() {
      pos_ = next_;
      Load();
      return *this;
    }

    Iterator operator++(int) {
      Iterator old = *this;
      ++*this;
      return old;
    }

    friend bool operator==(const Iterator& a, const Iterator& b) { return a.pos_ == b.pos_; }

   private:
    friend class Labels;

    Iterator(const char* pos, const char* end) : pos_(pos), end_(end) { Load(); }

    void Load();

    const char* pos_ = nullptr;
    const char* next_ = nullptr;
    const char* end_ = nullptr;
    Label current_;
  };

  using const_iterator = Iterator;
  using iterator = Iterator;

  // The empty set (no allocation).
  Labels() = default;
  Labels(const Labels& other);
  Labels& operator=(const Labels& other);

  Labels(Labels&& other) noexcept
      : data_(std::move(other.data_)), size_(other.size_), count_(other.count_) {
    other.size_ = 0;
    other.count_ = 0;
  }

  Labels& operator=(Labels&& other) noexcept;
  ~Labels() = default;

  // Builds a set from pairs in any order. Fails with InvalidArgument when a name occurs twice
  // (even if one of the values is empty). Pairs with an empty value are dropped, as Prometheus
  // treats a label with an empty value as absent.
  static absl::StatusOr<Labels> FromPairs(std::vector<std::pair<std::string, std::string>> pairs);

  // Builds a set from labels already sorted by name.
  // REQUIRES: strictly ascending names, no empty values (checked only in debug builds).
  static Labels FromSortedUnchecked(std::span<const Label> labels);

  // Number of labels.
  size_t size() const { return count_; }

  bool empty() const { return count_ == 0; }

  // Iteration in name order: `for (Label l : labels) ...`.
  Iterator begin() const { return Iterator(data_.get(), data_.get() + size_); }

  Iterator end() const {
    Iterator it;
    it.pos_ = data_.get() + size_;
    return it;
  }

  // The value of `name`, or "" when absent.
  std::string_view Get(std::string_view name) const;
  // True when the set has a label called `name`.
  bool Has(std::string_view name) const;

  // XXH3 (64-bit xxhash) of bytes(): the length prefixes separate names and values, so equal
  // sets hash equally and the hash is stable across processes and builds.
  uint64_t Hash() const;
  // Hash of only the labels whose names are in `names`; equals the Hash() of the set restricted
  // to them. REQUIRES: `names` sorted ascending (grouping keys of `by (...)`).
  uint64_t HashForLabels(std::span<const std::string> names) const;
  // Hash of every label except those in `names` and except __name__; equals the Hash() of the
  // set without them. REQUIRES: `names` sorted ascending (grouping keys of `without (...)`).
  uint64_t HashWithoutLabels(std::span<const std::string> names) const;

  // The same set without __name__.
  Labels DropMetricName() const;

  // `{a="b", c="d"}` as Prometheus' labels.String(): values quoted as Go's strconv.Quote does,
  // __name__ printed as a plain label.
  std::string ToString() const;

  // The encoded buffer. Equal sets have equal bytes; the byte order is NOT the label order (use
  // Compare for that).
  std::string_view bytes() const { return std::string_view(data_.get(), size_); }

  // Bytewise equality of the encoded buffers (equivalent to label-wise equality).
  friend bool operator==(const Labels& a, const Labels& b) { return a.bytes() == b.bytes(); }

 private:
  Labels(std::unique_ptr<char[]> data, uint32_t size, uint32_t count)
      : data_(std::move(data)), size_(size), count_(count) {}

  std::unique_ptr<char[]> data_;
  uint32_t size_ = 0;
  uint32_t count_ = 0;
};

// Prometheus labels.Compare: label by label, name first then value, bytewise (memcmp order, so
// UTF-8 sorts by code point); when one set is a prefix of the other the shorter sorts first.
// Returns <0, 0 or >0.
int Compare(const Labels& a, const Labels& b);

// Label-set order of Compare.
inline bool operator<(const Labels& a, const Labels& b) { return Compare(a, b) < 0; }

// True when every matcher accepts the set (a missing label reads as "").
bool MatchesLabels(std::span<const Matcher> matchers, const Labels& labels);

// Builds a new set from a base set by edits. Operations apply to the current state in order:
// Set replaces or adds (an empty value deletes), Del removes, Keep removes every label whose
// name is not listed. Build() returns the sorted result; the builder can be reused.
class LabelsBuilder {
 public:
  LabelsBuilder() = default;

  explicit LabelsBuilder(const Labels& base) { Reset(base); }

  // Starts over from `base`.
  LabelsBuilder& Reset(const Labels& base);
  // Sets `name` to `value`; an empty value deletes the label.
  LabelsBuilder& Set(std::string_view name, std::string_view value);
  // Removes `name` when present.
  LabelsBuilder& Del(std::string_view name);
  // Keeps only the labels named in `names` (any order).
  LabelsBuilder& Keep(std::span<const std::string> names);
  // The resulting set.
  Labels Build() const;

 private:
  // Working copy of the base (entries_ may point into it) and of values set by Set().
  Labels base_;
  std::vector<std::unique_ptr<std::string>> owned_;
  std::vector<Label> entries_;  // sorted by name
};

}  // namespace paodin::engine

#endif  // PAODIN_ENGINE_MODEL_LABELS_H_
