// Round trip over the differential corpus (tests/parser/corpus.txt): every expression that
// parses prints to a form that parses back to the same tree, and printing is idempotent.
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/promql/parser.h"
#include "engine/promql/printer.h"

namespace paodin::engine::promql {
namespace {

// Decodes the corpus escapes (\n \t \r \\ \xHH) of "@esc" lines.
std::string DecodeEscapes(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out.push_back(s[i]);
      continue;
    }
    char n = s[i + 1];
    if (n == 'n') {
      out.push_back('\n');
    } else if (n == 't') {
      out.push_back('\t');
    } else if (n == 'r') {
      out.push_back('\r');
    } else if (n == '\\') {
      out.push_back('\\');
    } else if (n == 'x' && i + 3 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 2, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
      out.push_back(n);
    }
    ++i;
  }
  return out;
}

std::vector<std::string> ReadCorpus() {
  std::ifstream in("tests/parser/corpus.txt");
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t") == std::string::npos || line == "##" ||
        line.rfind("## ", 0) == 0) {
      continue;
    }
    bool esc = false;
    for (;;) {
      if (line.rfind("@esc ", 0) == 0) {
        esc = true;
        line = line.substr(5);
      } else if (line.rfind("@msgdiff ", 0) == 0) {
        line = line.substr(9);
      } else if (line.rfind("@fmtdiff ", 0) == 0) {
        line = line.substr(9);
      } else {
        break;
      }
    }
    out.push_back(esc ? DecodeEscapes(line) : line);
  }
  return out;
}

TEST(RoundTripTest, PrintParsesBackToTheSameTree) {
  std::vector<std::string> corpus = ReadCorpus();
  ASSERT_GE(corpus.size(), 400u);
  int valid = 0;
  for (const std::string& query : corpus) {
    absl::StatusOr<ParsedQuery> first = Parse(query);
    if (!first.ok())
      continue;
    ++valid;
    std::string printed = Print(*first->root());
    absl::StatusOr<ParsedQuery> second = Parse(printed);
    ASSERT_TRUE(second.ok()) << query << " printed as " << printed << ": " << second.status();
    EXPECT_TRUE(EqualTrees(*first->root(), *second->root())) << query << " -> " << printed;
    EXPECT_EQ(Print(*second->root()), printed) << query;
  }
  EXPECT_GE(valid, 300);
}

}  // namespace
}  // namespace paodin::engine::promql
