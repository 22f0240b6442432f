// TLS flags of the commands reach the servers and clients they configure: the shared gRPC
// server flags of `paodin store` and `paodin sidecar` (parsed by CLI11 into
// StoreServerOptions), and a whole QueryService with --grpc-server-tls-* and
// --grpc-client-tls-* in front of a TLS store on loopback, with certificates made by openssl.
#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "cmd/commands.h"
#include "cmd/grpc_server_flags.h"
#include "cmd/query_flags.h"
#include "cmd/query_service.h"
#include "engine/util/status_matchers.h"
#include "http/testing/http_client.h"
#include "storeapi/client/store_client.h"
#include "storeapi/memstore/memstore.h"
#include "storeapi/server/memstore_backend.h"
#include "storeapi/server/server.h"
#include "storeapi/server/testing/test_certs.h"
#include "storeapi/server/testing/test_certs_fixture.h"

namespace paodin::cmd {
namespace {

using ::paodin::storeapi::testing::kTestServerName;
using ::paodin::storeapi::testing::TestCerts;
using ::paodin::testing::IsOk;
using ::paodin::testing::StatusHasSubstr;
using ::paodin::testing::StatusIs;
using ::testing::HasSubstr;

// Parses `args` (after the program name) into `app`; the parse error's message, or "".
std::string Parse(CLI::App& app, std::vector<std::string> args) {
  std::reverse(args.begin(), args.end());  // CLI11 takes them last to first
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  return "";
}

TEST(GrpcServerFlagsTest, ParsedFlagsReachTheServerOptions) {
  CLI::App app;
  GrpcServerFlags flags;
  AddGrpcServerFlags(app, flags, "address");
  ASSERT_EQ(Parse(app, {"--grpc-address=127.0.0.1:0", "--grpc-server-tls-cert=/c/server.pem",
                        "--grpc-server-tls-key", "/c/server.key",
                        "--grpc-server-tls-client-ca=/c/ca.pem"}),
            "");
  storeapi::StoreServerOptions options;
  options.metric_prefix = "paodin_sidecar";
  ApplyGrpcServerFlags(flags, &options);
  EXPECT_EQ(options.address, "127.0.0.1:0");
  EXPECT_EQ(options.tls.cert_file, "/c/server.pem");
  EXPECT_EQ(options.tls.key_file, "/c/server.key");
  EXPECT_EQ(options.tls.client_ca_file, "/c/ca.pem");
  EXPECT_TRUE(options.tls.enabled());
  EXPECT_EQ(options.metric_prefix, "paodin_sidecar");  // left alone
}

TEST(GrpcServerFlagsTest, DefaultsArePlaintextOnTheThanosPort) {
  CLI::App app;
  GrpcServerFlags flags;
  AddGrpcServerFlags(app, flags, "address");
  ASSERT_EQ(Parse(app, {}), "");
  storeapi::StoreServerOptions options;
  ApplyGrpcServerFlags(flags, &options);
  EXPECT_EQ(options.address, "0.0.0.0:10901");
  EXPECT_FALSE(options.tls.enabled());
}

TEST(GrpcServerFlagsTest, StoreAndSidecarAcceptTheTlsFlags) {
  for (const char* command : {"store", "sidecar"}) {
    SCOPED_TRACE(command);
    CLI::App app;
    RunFn run;
    AddStoreCommand(app, run);
    AddSidecarCommand(app, run);
    EXPECT_EQ(
        Parse(app, {command, "--grpc-server-tls-cert=/c/s.pem", "--grpc-server-tls-key=/c/s.key",
                    "--grpc-server-tls-client-ca=/c/ca.pem"}),
        "");
    EXPECT_TRUE(run != nullptr);
    // Unknown flags are refused, so the acceptance above is not vacuous.
    CLI::App other;
    RunFn other_run;
    AddStoreCommand(other, other_run);
    AddSidecarCommand(other, other_run);
    EXPECT_THAT(Parse(other, {command, "--grpc-server-tls-certificate=/c/s.pem"}),
                HasSubstr("grpc-server-tls-certificate"));
  }
}

TEST(GrpcServerFlagsTest, CheckNamesTheBadFlagOrFile) {
  struct Case {
    const char* name;
    GrpcServerFlags flags;
    const char* message;
  };

  const std::vector<Case> cases = {
      {"cert without key", {"0.0.0.0:10901", "/c/s.pem", "", ""}, "--grpc-server-tls-key"},
      {"client CA alone", {"0.0.0.0:10901", "", "", "/c/ca.pem"}, "--grpc-server-tls-client-ca"},
      {"missing files",
       {"0.0.0.0:10901", "/nonexistent/s.pem", "/nonexistent/s.key", ""},
       "/nonexistent/s.pem"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::Status st = CheckGrpcServerFlags(c.flags);
    EXPECT_THAT(st, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(st, StatusHasSubstr(c.message));
  }
  EXPECT_THAT(CheckGrpcServerFlags(GrpcServerFlags{}), IsOk());
}

class CommandTlsTest : public storeapi::testing::TestCertsTest {
 protected:
  // A store over `up{job="tls"}` = 1 at 0..600 s every 15 s, with the server options the
  // store/sidecar flags `args` give.
  absl::StatusOr<std::unique_ptr<storeapi::StoreServer>> StartStore(std::vector<std::string> args) {
    CLI::App app;
    GrpcServerFlags flags;
    AddGrpcServerFlags(app, flags, "address");
    args.push_back("--grpc-address=127.0.0.1:0");
    if (std::string err = Parse(app, args); !err.empty()) {
      return absl::InvalidArgumentError(err);
    }
    storeapi::StoreServerOptions options;
    options.workers = 2;
    ApplyGrpcServerFlags(flags, &options);
    auto store = std::make_shared<storeapi::MemStore>();
    engine::Labels up = *engine::Labels::FromPairs({{"__name__", "up"}, {"job", "tls"}});
    for (int64_t t = 0; t <= 600'000; t += 15'000) {
      if (absl::Status st = store->Append(up, t, 1); !st.ok()) {
        return st;
      }
    }
    return storeapi::StoreServer::Start(
        std::make_shared<storeapi::MemStoreBackend>(
            store, *engine::Labels::FromPairs({{"cluster", "tls"}})),
        options);
  }

  // An Info call to `address` with client TLS `tls`: the component type or the error.
  static absl::StatusOr<std::string> Info(const std::string& address,
                                          const storeapi::ClientTlsOptions& tls) {
    auto creds = storeapi::MakeChannelCredentials(tls);
    if (!creds.ok()) {
      return creds.status();
    }
    storeapi::ChannelOptions options;
    options.credentials = *creds;
    options.tls_server_name = tls.server_name;
    storeapi::StoreClient client(address, storeapi::MakeStoreChannel(address, options));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    thanos::info::InfoResponse resp;
    grpc::Status st = client.info().Info(&ctx, thanos::info::InfoRequest(), &resp);
    if (!st.ok()) {
      return absl::UnavailableError(st.error_message());
    }
    return resp.componenttype();
  }

  storeapi::ClientTlsOptions TrustingClient() const {
    storeapi::ClientTlsOptions tls;
    tls.secure = true;
    tls.ca_file = certs_->ca_cert();
    return tls;
  }
};

TEST_F(CommandTlsTest, StoreFlagsServeTls) {
  auto server = StartStore({"--grpc-server-tls-cert=" + certs_->server_cert(),
                            "--grpc-server-tls-key=" + certs_->server_key()});
  ASSERT_THAT(server, IsOk());
  EXPECT_THAT(Info((*server)->address(), TrustingClient()),
              ::testing::Eq(absl::StatusOr<std::string>("store")));
  EXPECT_THAT(Info((*server)->address(), storeapi::ClientTlsOptions{}),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(CommandTlsTest, StoreFlagsWithAClientCaDemandAClientCertificate) {
  auto server = StartStore({"--grpc-server-tls-cert=" + certs_->server_cert(),
                            "--grpc-server-tls-key=" + certs_->server_key(),
                            "--grpc-server-tls-client-ca=" + certs_->ca_cert()});
  ASSERT_THAT(server, IsOk());
  storeapi::ClientTlsOptions tls = TrustingClient();
  EXPECT_THAT(Info((*server)->address(), tls), StatusIs(absl::StatusCode::kUnavailable));
  tls.cert_file = certs_->client_cert();
  tls.key_file = certs_->client_key();
  EXPECT_THAT(Info((*server)->address(), tls), IsOk());
}

TEST_F(CommandTlsTest, StoreFlagsWithAMissingFileFailAtStart) {
  auto server = StartStore(
      {"--grpc-server-tls-cert=" + certs_->server_cert(), "--grpc-server-tls-key=/nonexistent/k"});
  EXPECT_THAT(server, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(server, StatusHasSubstr("/nonexistent/k"));
}

// `paodin query` with TLS on both sides: it reaches a TLS store with --grpc-client-tls-*, and
// its own StoreAPI serves TLS with --grpc-server-tls-*.
TEST_F(CommandTlsTest, QueryWithClientAndServerTls) {
  auto store = StartStore({"--grpc-server-tls-cert=" + certs_->server_cert(),
                           "--grpc-server-tls-key=" + certs_->server_key()});
  ASSERT_THAT(store, IsOk());

  QueryFlags f;
  f.http_address = "127.0.0.1:0";
  f.grpc_address = "127.0.0.1:0";
  f.stores = {(*store)->address()};
  f.grpc_client_tls_secure = true;
  f.grpc_client_tls_ca = certs_->ca_cert();
  f.grpc_client_server_name = kTestServerName;
  f.grpc_server_tls_cert = certs_->server_cert();
  f.grpc_server_tls_key = certs_->server_key();
  absl::StatusOr<QueryConfig> config = ResolveQueryFlags(f);
  ASSERT_THAT(config, IsOk());
  absl::StatusOr<std::unique_ptr<QueryService>> query = QueryService::Start(*std::move(config));
  ASSERT_THAT(query, IsOk());
  // ready() turns true after the first endpoint refresh (bounded by the Info timeout).
  for (int i = 0; i < 3000 && !(*query)->ready(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE((*query)->ready());

  http::testing::HttpClient http((*query)->http_port());
  http::testing::Reply reply = http.Send("GET", "/api/v1/query?query=up&time=600");
  ASSERT_TRUE(reply.ok);
  EXPECT_EQ(reply.status, 200) << reply.body;
  EXPECT_THAT(reply.body, HasSubstr(R"({"__name__":"up","cluster":"tls","job":"tls"})"));
  EXPECT_THAT(reply.body, HasSubstr(R"([600,"1"])"));

  EXPECT_THAT(Info((*query)->grpc_address(), TrustingClient()),
              ::testing::Eq(absl::StatusOr<std::string>("query")));
  EXPECT_THAT(Info((*query)->grpc_address(), storeapi::ClientTlsOptions{}),
              StatusIs(absl::StatusCode::kUnavailable));
  (*query)->Shutdown();
}

// Without client TLS the query cannot read the TLS store: the endpoint is unhealthy and the
// query answers with no data (partial response), rather than failing to start.
TEST_F(CommandTlsTest, QueryWithoutClientTlsDoesNotReachATlsStore) {
  auto store = StartStore({"--grpc-server-tls-cert=" + certs_->server_cert(),
                           "--grpc-server-tls-key=" + certs_->server_key()});
  ASSERT_THAT(store, IsOk());
  QueryFlags f;
  f.http_address = "127.0.0.1:0";
  f.grpc_address = "";
  f.stores = {(*store)->address()};
  absl::StatusOr<QueryConfig> config = ResolveQueryFlags(f);
  ASSERT_THAT(config, IsOk());
  // A plaintext Info to a TLS server waits for its deadline: keep it short.
  config->endpoints.info_timeout = std::chrono::milliseconds(500);
  absl::StatusOr<std::unique_ptr<QueryService>> query = QueryService::Start(*std::move(config));
  ASSERT_THAT(query, IsOk());
  for (int i = 0; i < 3000 && !(*query)->ready(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE((*query)->ready());
  http::testing::HttpClient http((*query)->http_port());
  http::testing::Reply reply = http.Send("GET", "/api/v1/query?query=up&time=600");
  ASSERT_TRUE(reply.ok);
  EXPECT_EQ(reply.status, 200) << reply.body;
  EXPECT_THAT(reply.body, HasSubstr(R"("result":[])"));
  EXPECT_EQ((*store)->stats().info_requests, 0);
  (*query)->Shutdown();
}

}  // namespace
}  // namespace paodin::cmd
