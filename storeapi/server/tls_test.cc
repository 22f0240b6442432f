// Server TLS of the StoreAPI server: option checks, and Info and Series calls over loopback TLS
// with certificates made at test time by openssl (testing/test_certs.h). The clients are the
// real StoreAPI client channels (storeapi/client), so both sides of the TLS wiring are checked.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "engine/util/status_matchers.h"
#include "storeapi/client/store_client.h"
#include "storeapi/server/memstore_backend.h"
#include "storeapi/server/server.h"
#include "storeapi/server/testing/test_certs.h"
#include "storeapi/server/testing/test_certs_fixture.h"

namespace paodin::storeapi {
namespace {

using engine::Labels;
using ::paodin::storeapi::testing::kTestServerName;
using ::paodin::storeapi::testing::TestCerts;
using ::paodin::testing::IsOk;
using ::paodin::testing::StatusHasSubstr;
using ::paodin::testing::StatusIs;
using ::testing::HasSubstr;

ServerTlsOptions ServerTls(std::string cert, std::string key, std::string client_ca = "") {
  ServerTlsOptions tls;
  tls.cert_file = std::move(cert);
  tls.key_file = std::move(key);
  tls.client_ca_file = std::move(client_ca);
  return tls;
}

TEST(MakeServerCredentialsTest, NoFilesMeansPlaintext) {
  EXPECT_FALSE(ServerTlsOptions{}.enabled());
  auto creds = MakeServerCredentials(ServerTlsOptions{});
  ASSERT_THAT(creds, IsOk());
  EXPECT_NE(*creds, nullptr);
}

TEST(MakeServerCredentialsTest, RejectsIncompleteOptionsAndUnreadableFiles) {
  char tmpl[] = "/tmp/paodin_tls_files_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  const std::string junk = dir + "/junk.pem";
  std::ofstream(junk) << "not a certificate\n";
  // Only the PEM markers are checked before gRPC sees the contents.
  const std::string only_key = dir + "/only_key.pem";
  std::ofstream(only_key) << "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
  const std::string only_cert = dir + "/only_cert.pem";
  std::ofstream(only_cert) << "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

  struct Case {
    const char* name;
    ServerTlsOptions tls;
    std::string message;
  };

  const std::vector<Case> cases = {
      {"cert without key", ServerTls("/x/cert.pem", ""), "or neither"},
      {"key without cert", ServerTls("", "/x/key.pem"), "or neither"},
      {"client CA alone", ServerTls("", "", "/x/ca.pem"), "--grpc-server-tls-client-ca needs"},
      {"missing cert", ServerTls("/nonexistent/cert.pem", only_key),
       "cannot read --grpc-server-tls-cert file /nonexistent/cert.pem"},
      {"missing key", ServerTls(only_cert, "/nonexistent/key.pem"),
       "cannot read --grpc-server-tls-key file /nonexistent/key.pem"},
      {"missing client CA", ServerTls(only_cert, only_key, "/nonexistent/ca.pem"),
       "cannot read --grpc-server-tls-client-ca file /nonexistent/ca.pem"},
      {"directory as cert", ServerTls(dir, only_key), dir},
      {"junk cert", ServerTls(junk, only_key), "--grpc-server-tls-cert file " + junk},
      {"junk key", ServerTls(only_cert, junk), "holds no PEM PRIVATE KEY block"},
      {"key as cert", ServerTls(only_key, only_key), "no PEM CERTIFICATE block"},
      {"key as client CA", ServerTls(only_cert, only_key, only_key),
       "--grpc-server-tls-client-ca file " + only_key + " holds no PEM CERTIFICATE block"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_TRUE(c.tls.enabled());
    auto creds = MakeServerCredentials(c.tls);
    EXPECT_THAT(creds, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(creds, StatusHasSubstr(c.message));
  }
  std::filesystem::remove_all(dir);
}

// Makes the test certificates once per test, and starts servers and clients with them.
class ServerTlsTest : public storeapi::testing::TestCertsTest {
 protected:
  // A server on a free loopback port over ten series `m{i="0".."9"}`, with `tls`.
  absl::StatusOr<std::unique_ptr<StoreServer>> Start(ServerTlsOptions tls) {
    auto store = std::make_shared<MemStore>();
    for (int i = 0; i < 10; ++i) {
      Labels l = *Labels::FromPairs({{"__name__", "m"}, {"i", std::to_string(i)}});
      for (int t = 0; t < 20; ++t) {
        EXPECT_THAT(store->Append(l, t * 1000, t), IsOk());
      }
    }
    StoreServerOptions options;
    options.address = "127.0.0.1:0";
    options.workers = 2;
    options.tls = std::move(tls);
    return StoreServer::Start(
        std::make_shared<MemStoreBackend>(store, *Labels::FromPairs({{"cluster", "tls"}})),
        options);
  }

  // A server with the test server certificate (and `client_ca` to demand client certificates).
  std::unique_ptr<StoreServer> StartTls(std::string client_ca = "") {
    auto server = Start(ServerTls(certs_->server_cert(), certs_->server_key(), client_ca));
    EXPECT_THAT(server, IsOk());
    return server.ok() ? *std::move(server) : nullptr;
  }

  // Client TLS trusting `ca` (empty: the system roots), expecting `server_name`.
  static ClientTlsOptions Client(std::string ca, std::string server_name = "",
                                 bool skip_verify = false) {
    ClientTlsOptions tls;
    tls.secure = true;
    tls.ca_file = std::move(ca);
    tls.server_name = std::move(server_name);
    tls.skip_verify = skip_verify;
    return tls;
  }

  // A client of `server` with `tls`.
  static std::unique_ptr<StoreClient> Connect(const StoreServer& server,
                                              const ClientTlsOptions& tls) {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds = MakeChannelCredentials(tls);
    EXPECT_THAT(creds, IsOk());
    ChannelOptions options;
    options.credentials = creds.ok() ? *creds : nullptr;
    options.tls_server_name = tls.server_name;
    return std::make_unique<StoreClient>(server.address(),
                                         MakeStoreChannel(server.address(), options));
  }

  // One Info call; OK with the component's labels, or the call's error.
  static absl::StatusOr<std::string> Info(StoreClient& client) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    thanos::info::InfoResponse resp;
    grpc::Status st = client.info().Info(&ctx, thanos::info::InfoRequest(), &resp);
    if (!st.ok()) {
      return absl::UnavailableError(st.error_message());
    }
    return resp.label_sets(0).labels(0).value();
  }

  // One Series call for m; the number of series received, or the call's error.
  static absl::StatusOr<int> SeriesCount(StoreClient& client) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    thanos::SeriesRequest req;
    req.set_min_time(0);
    req.set_max_time(100'000);
    thanos::LabelMatcher* m = req.add_matchers();
    m->set_type(thanos::LabelMatcher::EQ);
    m->set_name("__name__");
    m->set_value("m");
    auto reader = client.store().Series(&ctx, req);
    thanos::SeriesResponse frame;
    int series = 0;
    while (reader->Read(&frame)) {
      series += frame.has_series() ? 1 : 0;
    }
    grpc::Status st = reader->Finish();
    if (!st.ok()) {
      return absl::UnavailableError(st.error_message());
    }
    return series;
  }
};

TEST_F(ServerTlsTest, StartFailsNamingAnUnreadableFile) {
  auto server = Start(ServerTls("/nonexistent/server.pem", certs_->server_key()));
  EXPECT_THAT(server, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(server, StatusHasSubstr("/nonexistent/server.pem"));
  server =
      Start(ServerTls(certs_->server_cert(), certs_->server_key(), "/nonexistent/clients.pem"));
  EXPECT_THAT(server, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(server, StatusHasSubstr("--grpc-server-tls-client-ca file /nonexistent/clients.pem"));
}

TEST_F(ServerTlsTest, StartFailsWhenTheKeyDoesNotBelongToTheCertificate) {
  auto server = Start(ServerTls(certs_->server_cert(), certs_->client_key()));
  EXPECT_THAT(server, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(server, StatusHasSubstr("TLS certificate or key"));
}

TEST_F(ServerTlsTest, ServesInfoAndSeriesToAClientThatTrustsTheCa) {
  std::unique_ptr<StoreServer> server = StartTls();
  ASSERT_NE(server, nullptr);
  std::unique_ptr<StoreClient> client = Connect(*server, Client(certs_->ca_cert()));
  EXPECT_THAT(Info(*client), ::testing::Eq(absl::StatusOr<std::string>("tls")));
  absl::StatusOr<int> series = SeriesCount(*client);
  ASSERT_THAT(series, IsOk());
  EXPECT_EQ(*series, 10);
  EXPECT_EQ(server->stats().series_sent, 10);
}

TEST_F(ServerTlsTest, ClientChecksTheServerCertificate) {
  std::unique_ptr<StoreServer> server = StartTls();
  ASSERT_NE(server, nullptr);

  struct Case {
    const char* name;
    ClientTlsOptions tls;
    bool ok;
  };

  const std::vector<Case> cases = {
      {"right CA, address 127.0.0.1 is in the certificate", Client(certs_->ca_cert()), true},
      {"right CA, server name override to the DNS name", Client(certs_->ca_cert(), kTestServerName),
       true},
      {"right CA, server name override to a name not in the certificate",
       Client(certs_->ca_cert(), "other.paodin.test"), false},
      {"wrong CA", Client(certs_->other_ca_cert()), false},
      {"wrong CA with the right name", Client(certs_->other_ca_cert(), kTestServerName), false},
      {"system roots", Client(""), false},
      {"skip verify", Client("", "", true), true},
      {"skip verify with the wrong CA and name",
       Client(certs_->other_ca_cert(), "other.paodin.test", true), true},
      {"plaintext", ClientTlsOptions{}, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::unique_ptr<StoreClient> client = Connect(*server, c.tls);
    if (c.ok) {
      EXPECT_THAT(Info(*client), IsOk());
      EXPECT_THAT(SeriesCount(*client), ::testing::Eq(absl::StatusOr<int>(10)));
    } else {
      EXPECT_THAT(Info(*client), StatusIs(absl::StatusCode::kUnavailable));
      EXPECT_THAT(SeriesCount(*client), StatusIs(absl::StatusCode::kUnavailable));
    }
  }
  // Two calls per accepted client reached the backend, none of the refused ones did.
  EXPECT_EQ(server->stats().info_requests, 4);
  EXPECT_EQ(server->stats().series_requests, 4);
}

TEST_F(ServerTlsTest, TlsClientCannotTalkToAPlaintextServer) {
  auto server = Start(ServerTlsOptions{});
  ASSERT_THAT(server, IsOk());
  std::unique_ptr<StoreClient> client = Connect(**server, Client(certs_->ca_cert()));
  EXPECT_THAT(Info(*client), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ((*server)->stats().info_requests, 0);
}

TEST_F(ServerTlsTest, ClientCaRequiresAClientCertificateItSigned) {
  std::unique_ptr<StoreServer> server = StartTls(certs_->ca_cert());
  ASSERT_NE(server, nullptr);

  ClientTlsOptions no_cert = Client(certs_->ca_cert());
  ClientTlsOptions with_cert = no_cert;
  with_cert.cert_file = certs_->client_cert();
  with_cert.key_file = certs_->client_key();
  ClientTlsOptions foreign_cert = no_cert;
  foreign_cert.cert_file = certs_->other_client_cert();
  foreign_cert.key_file = certs_->other_client_key();
  ClientTlsOptions skip_verify_with_cert = with_cert;
  skip_verify_with_cert.ca_file = "";
  skip_verify_with_cert.skip_verify = true;

  struct Case {
    const char* name;
    ClientTlsOptions tls;
    bool ok;
  };

  const std::vector<Case> cases = {
      {"no client certificate", no_cert, false},
      {"client certificate signed by the client CA", with_cert, true},
      {"client certificate signed by another CA", foreign_cert, false},
      {"skip verify still presents the client certificate", skip_verify_with_cert, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::unique_ptr<StoreClient> client = Connect(*server, c.tls);
    if (c.ok) {
      EXPECT_THAT(Info(*client), IsOk());
      EXPECT_THAT(SeriesCount(*client), ::testing::Eq(absl::StatusOr<int>(10)));
    } else {
      absl::StatusOr<std::string> info = Info(*client);
      EXPECT_THAT(info, StatusIs(absl::StatusCode::kUnavailable));
    }
  }
  EXPECT_EQ(server->stats().info_requests, 2);
}

}  // namespace
}  // namespace paodin::storeapi
