// A tournament (loser) tree over k sorted streams of byte-string keys that remembers, at every
// game, the longest common prefix (LCP) of the loser with the winner. After the winner's stream
// advances, only the log2(k) games on its path are replayed, and most of them are decided by
// comparing two LCP lengths instead of the keys: keys of label sets share long prefixes
// (`__name__`, the metric name, `cluster`, ...), which a plain comparison reads again at every
// level. Keys are compared as unsigned bytes; a prefix sorts first; equal keys by leaf index.
//
//   StringLoserTree tree(k);
//   for (i...) { tree.key(i) = first key of stream i; tree.set_done(i, false); }
//   tree.Build();
//   while (!tree.done(tree.Winner())) {
//     size_t w = tree.Winner(); ...use tree.key(w)...
//     std::string& k = tree.BeginUpdate(w);  // the old key is kept aside
//     k = next key of stream w;  (or tree.set_done(w))
//     tree.Replay(w);
//     bool same = tree.WinnerEqualsReplaced();  // the new winner's key equals the old one
//   }
#ifndef PAODIN_STOREAPI_PROXY_LOSER_TREE_H_
#define PAODIN_STOREAPI_PROXY_LOSER_TREE_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace paodin::storeapi {

// The first position at or after `from` where `a` and `b` differ, or min(a.size(), b.size())
// when one is a prefix of the other. REQUIRES: `from` <= both sizes and the keys agree before it.
inline size_t KeyMismatch(std::string_view a, std::string_view b, size_t from) {
  const size_t n = a.size() < b.size() ? a.size() : b.size();
  size_t i = from;
  for (; i + 8 <= n; i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if (x != y) {
      if constexpr (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
        return i + static_cast<size_t>(__builtin_ctzll(x ^ y)) / 8;
      else
        return i + static_cast<size_t>(__builtin_clzll(x ^ y)) / 8;
    }
  }
  while (i < n && a[i] == b[i])
    ++i;
  return i;
}

// The loser tree. Not thread-safe.
class StringLoserTree {
 public:
  explicit StringLoserTree(size_t k)
      : k_(k), keys_(k), done_(k, 1), losers_(k == 0 ? 1 : k, 0), lcps_(k == 0 ? 1 : k, 0) {}

  size_t size() const { return k_; }

  // The current key of leaf `i` (writable before Build()).
  std::string& key(size_t i) { return keys_[i]; }

  const std::string& key(size_t i) const { return keys_[i]; }

  // Marks leaf `i` exhausted (it then loses every game) or live. Leaves start exhausted.
  void set_done(size_t i, bool done = true) { done_[i] = done ? 1 : 0; }

  bool done(size_t i) const { return done_[i] != 0; }

  // Plays every game. Call once every leaf has its first key (or is done).
  void Build() {
    if (k_ == 0)
      return;
    std::vector<size_t> winners(2 * k_);
    for (size_t i = 0; i < k_; ++i)
      winners[k_ + i] = i;
    for (size_t n = k_ - 1; n >= 1; --n) {
      const size_t l = winners[2 * n];
      const size_t r = winners[2 * n + 1];
      size_t lcp = 0;
      const bool r_wins = Less(r, l, 0, &lcp);
      winners[n] = r_wins ? r : l;
      losers_[n] = r_wins ? l : r;
      lcps_[n] = lcp;
    }
    losers_[0] = k_ == 1 ? 0 : winners[1];
  }

  // The leaf with the smallest key (a done leaf only when all are). REQUIRES: k > 0, Build().
  size_t Winner() const { return losers_[0]; }

  // Moves the key of `leaf` aside (see WinnerEqualsReplaced) and returns its buffer, cleared,
  // for the next key. REQUIRES: leaf == Winner().
  std::string& BeginUpdate(size_t leaf) {
    replaced_.swap(keys_[leaf]);
    keys_[leaf].clear();
    return keys_[leaf];
  }

  // Replays the games of `leaf` after BeginUpdate() and a new key (or set_done). A key smaller
  // than the one it replaced (an unsorted stream) rebuilds the whole tree.
  void Replay(size_t leaf) {
    size_t cur = leaf;
    size_t cur_lcp = 0;  // LCP of cur's key with the replaced key
    if (!done(leaf)) {
      const std::string& k = keys_[leaf];
      cur_lcp = KeyMismatch(k, replaced_, 0);
      const bool equal = cur_lcp == k.size() && cur_lcp == replaced_.size();
      const bool after = cur_lcp < k.size() && (cur_lcp == replaced_.size() ||
                                                static_cast<unsigned char>(k[cur_lcp]) >
                                                    static_cast<unsigned char>(replaced_[cur_lcp]));
      // At or after the replaced key (a sorted stream), every stored LCP on the path is
      // relative to the replaced key and stays meaningful.
      if (!equal && !after) {
        Build();  // went backwards: the stored LCPs say nothing about this key
        const size_t w = Winner();
        winner_lcp_ = done(w) ? 0 : KeyMismatch(keys_[w], replaced_, 0);
        return;
      }
    }
    for (size_t n = (leaf + k_) / 2; n >= 1; n /= 2) {
      const size_t other = losers_[n];
      const size_t other_lcp = lcps_[n];
      bool other_wins;
      size_t new_lcp = 0;  // LCP of the game's loser with its winner
      if (done(cur) || done(other)) {
        other_wins = done(cur) && (!done(other) || other < cur);
      } else if (other_lcp > cur_lcp) {
        // Both keys are >= the replaced one; `other` agrees with it longer, so it is smaller.
        other_wins = true;
        new_lcp = cur_lcp;
      } else if (other_lcp < cur_lcp) {
        other_wins = false;
        new_lcp = other_lcp;
      } else {
        other_wins = Less(other, cur, cur_lcp, &new_lcp);
      }
      if (other_wins) {
        losers_[n] = cur;
        lcps_[n] = new_lcp;
        cur = other;
        cur_lcp = other_lcp;
      } else {
        lcps_[n] = new_lcp;
      }
    }
    losers_[0] = cur;
    winner_lcp_ = cur_lcp;
  }

  // True when, after Replay(), the winner's key equals the key BeginUpdate() moved aside.
  bool WinnerEqualsReplaced() const {
    const size_t w = Winner();
    return !done(w) && winner_lcp_ == replaced_.size() && keys_[w].size() == replaced_.size();
  }

 private:
  // Whether leaf a's key sorts before leaf b's (ties by index), given that they agree on
  // their first `from` bytes; *lcp gets their common prefix length.
  bool Less(size_t a, size_t b, size_t from, size_t* lcp) const {
    if (done(a) || done(b)) {
      *lcp = 0;
      return !done(a) || (done(b) && a < b);
    }
    const std::string& ka = keys_[a];
    const std::string& kb = keys_[b];
    const size_t p = KeyMismatch(ka, kb, from);
    *lcp = p;
    if (p < ka.size() && p < kb.size())
      return static_cast<unsigned char>(ka[p]) < static_cast<unsigned char>(kb[p]);
    if (ka.size() != kb.size())
      return ka.size() < kb.size();
    return a < b;
  }

  size_t k_;
  std::vector<std::string> keys_;
  std::vector<char> done_;
  std::vector<size_t> losers_;  // losers_[0]: winner; losers_[1..k): loser of each game
  std::vector<size_t> lcps_;    // lcps_[n]: LCP of losers_[n]'s key with the game's winner
  std::string replaced_;        // the key BeginUpdate() moved aside
  size_t winner_lcp_ = 0;       // LCP of the winner's key with replaced_
};

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_PROXY_LOSER_TREE_H_
