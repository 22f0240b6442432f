#include "tests/differential/corpus.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace paodin::differential {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// The index of the parenthesis closing the one at `open`, skipping quoted strings; npos when
// unbalanced.
size_t MatchingParen(std::string_view s, size_t open) {
  int depth = 0;
  for (size_t i = open; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"' || c == '\'' || c == '`') {
      for (++i; i < s.size() && s[i] != c; ++i) {
        if (s[i] == '\\' && c != '`')
          ++i;
      }
      continue;
    }
    if (c == '(')
      ++depth;
    if (c == ')' && --depth == 0)
      return i;
  }
  return std::string_view::npos;
}

}  // namespace

absl::StatusOr<std::vector<CorpusEntry>> ParseCorpus(std::string_view text) {
  std::vector<CorpusEntry> out;
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    line = Trim(line);
    if (line.empty() || line.front() == '#')
      continue;
    CorpusEntry e;
    e.line = line_no;
    if (line.starts_with("[known:")) {
      size_t close = line.find(']');
      if (close == std::string_view::npos || close == 7) {
        return absl::InvalidArgumentError(
            absl::StrCat("corpus line ", line_no, ": malformed [known:ID] prefix"));
      }
      e.known = std::string(line.substr(7, close - 7));
      line = Trim(line.substr(close + 1));
      if (line.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("corpus line ", line_no, ": [known:] without a query"));
      }
    }
    e.query = std::string(line);
    out.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<std::vector<CorpusEntry>> ReadCorpusFile(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return absl::NotFoundError(absl::StrCat("cannot read corpus ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseCorpus(ss.str());
}

bool OrderMatters(std::string_view query) {
  std::string_view q = Trim(query);
  // Outer parentheses around the whole query do not change the order.
  while (!q.empty() && q.front() == '(' && MatchingParen(q, 0) == q.size() - 1) {
    q = Trim(q.substr(1, q.size() - 2));
  }
  for (std::string_view f : {"sort_desc", "sort", "topk", "bottomk"}) {
    if (!q.starts_with(f))
      continue;
    std::string_view rest = Trim(q.substr(f.size()));
    size_t skipped = q.size() - rest.size();
    // `topk by (x) (...)`: skip the grouping.
    if (rest.starts_with("by") || rest.starts_with("without")) {
      size_t open = rest.find('(');
      if (open == std::string_view::npos)
        return false;
      size_t close = MatchingParen(rest, open);
      if (close == std::string_view::npos)
        return false;
      std::string_view after = Trim(rest.substr(close + 1));
      skipped = q.size() - after.size();
      rest = after;
    }
    if (rest.empty() || rest.front() != '(')
      return false;
    // The call must span the rest of the query (`sort(x) + 1` is a binary operation).
    return MatchingParen(q, skipped) == q.size() - 1;
  }
  return false;
}

}  // namespace paodin::differential
