// gRPC TLS between real processes on 127.0.0.1, with certificates made by openssl at test time:
//   - `paodin store --grpc-server-tls-cert/-key [--grpc-server-tls-client-ca]` read by
//     `paodin query --store=127.0.0.1:PORT --grpc-client-tls-secure --grpc-client-tls-ca ...
//     [--grpc-client-tls-cert/-key]`, answering /api/v1/query over HTTP with the store's data;
//     and the same query with TLS flags that must not work (wrong CA, no TLS, no client
//     certificate), which leaves the store out and logs why;
//   - `paodin sidecar --grpc-server-tls-cert/-key` serving its StoreAPI over TLS only.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storeapi/client/store_client.h"
#include "storeapi/server/testing/test_certs.h"
#include "storeapi/server/testing/test_certs_fixture.h"
#include "tests/proxy/store_process.h"

namespace paodin::tests {
namespace {

using storeapi::testing::TestCerts;
using ::testing::HasSubstr;
using ::testing::Not;

// tls_probe{job="a"} and tls_probe{job="b"}: value t/1000 (job a) and 2*t/1000 (job b), every
// 15 s over [1000 s, 1600 s].
void WriteData(const std::string& path) {
  std::ofstream out(path);
  out << "# TYPE tls_probe gauge\n";
  for (int64_t t = 1'000'000; t <= 1'600'000; t += 15'000) {
    out << fmt::format("tls_probe{{job=\"a\"}} {} {}\n", t / 1000, t);
    out << fmt::format("tls_probe{{job=\"b\"}} {} {}\n", 2 * t / 1000, t);
  }
}

// `paodin query` on 127.0.0.1 with free ports.
class PaodinQuery {
 public:
  explicit PaodinQuery(std::vector<std::string> args) {
    std::vector<std::string> all = {"query", "--http-address=127.0.0.1:0",
                                    "--grpc-address=127.0.0.1:0"};
    all.insert(all.end(), args.begin(), args.end());
    process_ = std::make_unique<ChildProcess>(PAODIN_BIN, std::move(all));
    std::optional<std::string> line = process_->WaitForLine(
        [](const std::string& l) { return l.find(" msg=started ") != std::string::npos; });
    if (line.has_value()) {
      http_address_ = "127.0.0.1:" + LogfmtValue(*line, "http_port");
    }
  }

  // "127.0.0.1:port" of the HTTP API; empty when the query did not start.
  const std::string& http_address() const { return http_address_; }

  ChildProcess& process() { return *process_; }

  // GETs `path` until the body contains `needle` or the process wait runs out; the last body.
  std::string GetUntil(const std::string& path, const std::string& needle) {
    const auto deadline = std::chrono::steady_clock::now() + kProcessWait;
    std::string body;
    for (;;) {
      body = HttpGet(http_address_, path);
      if (body.find(needle) != std::string::npos || !process_->Running() ||
          std::chrono::steady_clock::now() >= deadline) {
        return body;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

 private:
  std::unique_ptr<ChildProcess> process_;
  std::string http_address_;
};

class TlsIntegrationTest : public storeapi::testing::TestCertsTest {
 protected:
  void SetUp() override {
    TestCertsTest::SetUp();
    if (IsSkipped() || HasFatalFailure())
      return;
    data_ = certs_->dir() + "/data.prom";
    WriteData(data_);
  }

  // `paodin store` over the test data with cluster="tls" and the server certificate, plus
  // `extra` flags.
  std::unique_ptr<PaodinStore> StartStore(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--data=" + data_, "--label=cluster=\"tls\"",
                                     "--grpc-server-tls-cert=" + certs_->server_cert(),
                                     "--grpc-server-tls-key=" + certs_->server_key()};
    args.insert(args.end(), extra.begin(), extra.end());
    auto store = std::make_unique<PaodinStore>(PAODIN_BIN, std::move(args));
    EXPECT_FALSE(store->grpc_address().empty()) << "paodin store did not come up; its log:\n"
                                                << store->process().Log();
    return store;
  }

  std::string data_;
};

constexpr const char* kQueryPath = "/api/v1/query?query=sort(tls_probe)&time=1600";
constexpr const char* kWantResult =
    R"({"status":"success","data":{"resultType":"vector","result":[)"
    R"({"metric":{"__name__":"tls_probe","cluster":"tls","job":"a"},"value":[1600,"1600"]},)"
    R"({"metric":{"__name__":"tls_probe","cluster":"tls","job":"b"},"value":[1600,"3200"]}]}})";

TEST_F(TlsIntegrationTest, QueryReadsATlsStore) {
  std::unique_ptr<PaodinStore> store = StartStore();
  ASSERT_FALSE(store->grpc_address().empty());
  EXPECT_THAT(store->process().Log(), HasSubstr("tls=true"));
  PaodinQuery query({"--store=" + store->grpc_address(), "--grpc-client-tls-secure",
                     "--grpc-client-tls-ca=" + certs_->ca_cert()});
  ASSERT_FALSE(query.http_address().empty()) << query.process().Log();
  const std::string body = query.GetUntil(kQueryPath, "tls_probe");
  EXPECT_EQ(body, kWantResult) << query.process().Log();
  EXPECT_THAT(query.process().Log(), HasSubstr("grpc_client_tls=true"));
}

TEST_F(TlsIntegrationTest, QueryWithAClientCertificateReadsAStoreThatDemandsOne) {
  std::unique_ptr<PaodinStore> store =
      StartStore({"--grpc-server-tls-client-ca=" + certs_->ca_cert()});
  ASSERT_FALSE(store->grpc_address().empty());
  PaodinQuery query({"--store=" + store->grpc_address(), "--grpc-client-tls-secure",
                     "--grpc-client-tls-ca=" + certs_->ca_cert(),
                     "--grpc-client-server-name=" + std::string(storeapi::testing::kTestServerName),
                     "--grpc-client-tls-cert=" + certs_->client_cert(),
                     "--grpc-client-tls-key=" + certs_->client_key()});
  ASSERT_FALSE(query.http_address().empty()) << query.process().Log();
  EXPECT_EQ(query.GetUntil(kQueryPath, "tls_probe"), kWantResult) << query.process().Log();
}

// Each query below cannot complete the handshake; the store stays out (the query logs why), and
// a query answers without its data.
TEST_F(TlsIntegrationTest, QueryWithUnfitTlsLeavesTheStoreOut) {
  std::unique_ptr<PaodinStore> store =
      StartStore({"--grpc-server-tls-client-ca=" + certs_->ca_cert()});
  ASSERT_FALSE(store->grpc_address().empty());

  struct Case {
    const char* name;
    std::vector<std::string> flags;
  };

  const std::vector<Case> cases = {
      {"plaintext", {}},
      {"wrong CA",
       {"--grpc-client-tls-secure", "--grpc-client-tls-ca=" + certs_->other_ca_cert(),
        "--grpc-client-tls-cert=" + certs_->client_cert(),
        "--grpc-client-tls-key=" + certs_->client_key()}},
      {"no client certificate",
       {"--grpc-client-tls-secure", "--grpc-client-tls-ca=" + certs_->ca_cert()}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::string> flags = c.flags;
    flags.push_back("--store=" + store->grpc_address());
    PaodinQuery query(flags);
    ASSERT_FALSE(query.http_address().empty()) << query.process().Log();
    ASSERT_TRUE(query.process().WaitForLogLines("msg=\"update of endpoint failed\"", 1))
        << query.process().Log();
    const std::string body = HttpGet(query.http_address(), kQueryPath);
    EXPECT_THAT(body, HasSubstr(R"("result":[])")) << body;
    EXPECT_THAT(body, Not(HasSubstr("tls_probe")));
  }
}

TEST_F(TlsIntegrationTest, QueryRefusesUnusableTlsFlagsAtStart) {
  struct Case {
    const char* name;
    std::vector<std::string> flags;
    std::string message;
  };

  const std::vector<Case> cases = {
      {"client cert without key",
       {"--grpc-client-tls-secure", "--grpc-client-tls-cert=" + certs_->client_cert()},
       "--grpc-client-tls-key"},
      {"missing client CA",
       {"--grpc-client-tls-secure", "--grpc-client-tls-ca=/nonexistent/ca.pem"},
       "/nonexistent/ca.pem"},
      {"missing server key",
       {"--grpc-server-tls-cert=" + certs_->server_cert(),
        "--grpc-server-tls-key=/nonexistent/server.key"},
       "/nonexistent/server.key"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::string> args = {"query", "--http-address=127.0.0.1:0",
                                     "--grpc-address=127.0.0.1:0", "--store=127.0.0.1:1"};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    ChildProcess query(PAODIN_BIN, args);
    ASSERT_TRUE(query.WaitForLogLines(c.message, 1)) << query.Log();
    // It exits instead of serving.
    EXPECT_FALSE(query
                     .WaitForLine([](const std::string& l) {
                       return l.find(" msg=started ") != std::string::npos;
                     })
                     .has_value());
  }
}

TEST_F(TlsIntegrationTest, StoreAndSidecarRefuseUnusableTlsFlagsAtStart) {
  for (const std::string command : {"store", "sidecar"}) {
    SCOPED_TRACE(command);
    std::vector<std::string> args = {command, "--grpc-address=127.0.0.1:0",
                                     "--http-address=127.0.0.1:0",
                                     "--grpc-server-tls-cert=" + certs_->server_cert(),
                                     "--grpc-server-tls-key=/nonexistent/server.key"};
    if (command == "sidecar") {
      args.push_back("--prometheus.url=http://127.0.0.1:1");
    }
    ChildProcess p(PAODIN_BIN, args);
    ASSERT_TRUE(p.WaitForLogLines("/nonexistent/server.key", 1)) << p.Log();
    EXPECT_THAT(p.Log(), HasSubstr("bad gRPC server TLS flags"));
    EXPECT_FALSE(p.WaitForLine([](const std::string& l) {
                    return l.find("serving StoreAPI") != std::string::npos;
                  }).has_value());
  }
}

// The sidecar's StoreAPI speaks TLS only. Prometheus is not running: a call that got through
// the handshake ends with the sidecar's own "not ready" error, one that did not never reaches
// it.
TEST_F(TlsIntegrationTest, SidecarServesTls) {
  std::unique_ptr<ChildProcess> sidecar = std::make_unique<ChildProcess>(
      PAODIN_BIN,
      std::vector<std::string>{"sidecar", "--prometheus.url=http://127.0.0.1:1",
                               "--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
                               "--grpc-server-tls-cert=" + certs_->server_cert(),
                               "--grpc-server-tls-key=" + certs_->server_key()});
  std::optional<std::string> line = sidecar->WaitForLine(
      [](const std::string& l) { return l.find("msg=\"serving StoreAPI\"") != std::string::npos; });
  ASSERT_TRUE(line.has_value()) << sidecar->Log();
  EXPECT_THAT(*line, HasSubstr("tls=true"));
  const std::string address = LogfmtValue(*line, "grpc_address");

  auto info_error = [&](const storeapi::ClientTlsOptions& tls) {
    auto creds = storeapi::MakeChannelCredentials(tls);
    EXPECT_TRUE(creds.ok()) << creds.status();
    storeapi::ChannelOptions options;
    options.credentials = *creds;
    storeapi::StoreClient client(address, storeapi::MakeStoreChannel(address, options));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    thanos::info::InfoResponse resp;
    return client.info().Info(&ctx, thanos::info::InfoRequest(), &resp).error_message();
  };
  storeapi::ClientTlsOptions tls;
  tls.secure = true;
  tls.ca_file = certs_->ca_cert();
  EXPECT_THAT(info_error(tls), HasSubstr("sidecar not ready"));
  EXPECT_THAT(info_error(storeapi::ClientTlsOptions{}), Not(HasSubstr("sidecar not ready")));
  tls.ca_file = certs_->other_ca_cert();
  EXPECT_THAT(info_error(tls), Not(HasSubstr("sidecar not ready")));
}

}  // namespace
}  // namespace paodin::tests
