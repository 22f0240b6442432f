// The query corpus of the differential test (queries.txt): one PromQL query per line; blank
// lines and lines starting with `#` are skipped; a line `[known:ID] query` marks a query whose
// difference from Prometheus is known and explained under ID in KNOWN_DIFFERENCES.md (it runs,
// but a mismatch does not fail the test).
#ifndef PAODIN_TESTS_DIFFERENTIAL_CORPUS_H_
#define PAODIN_TESTS_DIFFERENTIAL_CORPUS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace paodin::differential {

// One query of the corpus.
struct CorpusEntry {
  std::string query;
  // The KNOWN_DIFFERENCES.md id when the query is known to differ; empty otherwise.
  std::string known;
  // 1-based line number in the file.
  int line = 0;
};

// Parses corpus text. Fails with InvalidArgument (naming the line) for a malformed `[known:`
// prefix.
absl::StatusOr<std::vector<CorpusEntry>> ParseCorpus(std::string_view text);

// Reads and parses a corpus file. Fails with NotFound when it cannot be read.
absl::StatusOr<std::vector<CorpusEntry>> ReadCorpusFile(const std::string& path);

// True when the answer's order matters: the query's outermost operation is sort, sort_desc,
// topk or bottomk (Prometheus keeps their order in instant query results).
bool OrderMatters(std::string_view query);

}  // namespace paodin::differential

#endif  // PAODIN_TESTS_DIFFERENTIAL_CORPUS_H_
