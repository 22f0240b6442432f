// `paodin promqltest FILE...`: runs PromQL test scripts in Prometheus' test-script language.
// Scripts load into the XOR-chunk MemStore (the chunk path production queries read), or with
// --store=simple into the engine's plain in-memory test store.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cmd/commands.h"
#include "engine/promqltest/promqltest.h"
#include "engine/storage/loadable.h"
#include "storeapi/memstore/memstore.h"

namespace paodin::cmd {

namespace {

// A MemStore behind the loading interface of test scripts: samples are appended to XOR chunks
// (a repeated timestamp replaces the last sample), Clear starts a new store.
class MemStoreLoadable final : public engine::LoadableQueryable {
 public:
  MemStoreLoadable() { Clear(); }

  absl::Status Load(const engine::Labels& labels, int64_t t_ms, double value) override {
    return store_->Append(labels, t_ms, value);
  }

  void Clear() override {
    storeapi::MemStoreOptions options;
    options.overwrite_duplicates = true;
    store_ = std::make_unique<storeapi::MemStore>(options);
  }

  absl::StatusOr<std::unique_ptr<engine::SeriesSet>> Select(
      const engine::SelectHints& hints, std::span<const engine::Matcher> matchers,
      const engine::QueryContext& ctx) override {
    return store_->Select(hints, matchers, ctx);
  }

  absl::StatusOr<std::vector<std::string>> LabelNames(int64_t start_ms, int64_t end_ms,
                                                      std::span<const engine::Matcher> matchers,
                                                      const engine::QueryContext& ctx) override {
    return store_->LabelNames(start_ms, end_ms, matchers, ctx);
  }

  absl::StatusOr<std::vector<std::string>> LabelValues(std::string_view name, int64_t start_ms,
                                                       int64_t end_ms,
                                                       std::span<const engine::Matcher> matchers,
                                                       const engine::QueryContext& ctx) override {
    return store_->LabelValues(name, start_ms, end_ms, matchers, ctx);
  }

 private:
  std::unique_ptr<storeapi::MemStore> store_;
};

int RunPromqlTest(const std::vector<std::string>& files, int threads, const std::string& store) {
  engine::promqltest::RunOptions options;
  options.engine.threads = threads;
  if (store == "memstore") {
    options.make_storage = [] { return std::make_unique<MemStoreLoadable>(); };
  }
  if (threads > 1)
    options.engine.parallel_min_series = 1;  // exercise the parallel paths
  engine::promqltest::RunStats total;
  bool io_error = false;
  for (const std::string& f : files) {
    engine::promqltest::RunStats stats;
    absl::Status st = engine::promqltest::RunFile(f, options, stats);
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", std::string(st.message()).c_str());
      io_error = true;
      continue;
    }
    for (const auto& failure : stats.failures) {
      std::printf("FAIL %s\n", engine::promqltest::FormatFailure(failure).c_str());
    }
    std::printf("%s: %d passed, %d failed\n", f.c_str(), stats.passed, stats.failed);
    total.passed += stats.passed;
    total.failed += stats.failed;
  }
  std::printf("%d passed, %d failed\n", total.passed, total.failed);
  return (total.failed > 0 || io_error) ? 1 : 0;
}

}  // namespace

void AddPromqlTestCommand(CLI::App& app, RunFn& run) {
  auto files = std::make_shared<std::vector<std::string>>();
  CLI::App* sub = app.add_subcommand(
      "promqltest", "Run PromQL test scripts (load / eval / eval_fail / eval_ordered)");
  auto threads = std::make_shared<int>(1);
  sub->add_option("files", *files, "Test script files")->required();
  sub->add_option("--threads", *threads,
                  "Threads per query; above 1 every operator runs its parallel path")
      ->default_val(1);
  auto store = std::make_shared<std::string>("memstore");
  sub->add_option("--store", *store,
                  "Store the scripts load into: memstore (XOR chunks, as production) or simple")
      ->check(CLI::IsMember({"memstore", "simple"}))
      ->default_val("memstore");
  sub->callback([&run, files, threads, store] {
    run = [files, threads, store] { return RunPromqlTest(*files, *threads, *store); };
  });
}

}  // namespace paodin::cmd
