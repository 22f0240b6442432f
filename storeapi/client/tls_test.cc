// Client TLS of StoreAPI channels: option checks, and Info calls over loopback TLS against a
// fake store whose self-signed certificate the test makes with /usr/bin/openssl.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/util/status_matchers.h"
#include "storeapi/client/endpoint_set.h"
#include "storeapi/client/store_client.h"
#include "storeapi/client/testing/fake_store.h"
#include <unistd.h>

namespace paodin::storeapi {
namespace {

using ::paodin::storeapi::testing::FakeStore;
using ::paodin::storeapi::testing::FakeStoreConfig;
using ::paodin::testing::StatusHasSubstr;
using ::paodin::testing::StatusIs;
using ::testing::HasSubstr;

constexpr const char* kOpenssl = "/usr/bin/openssl";
// The only name in the test certificate: the store is reached at 127.0.0.1, so the name check
// passes only with server_name set to this.
constexpr const char* kCertName = "store.example";

// TLS options: secure, with the given CA file, server name and skip-verify.
ClientTlsOptions Tls(std::string ca_file, std::string server_name = "", bool skip_verify = false) {
  ClientTlsOptions tls;
  tls.secure = true;
  tls.ca_file = std::move(ca_file);
  tls.server_name = std::move(server_name);
  tls.skip_verify = skip_verify;
  return tls;
}

// TLS options: secure, with the given client certificate and key files.
ClientTlsOptions ClientCert(std::string cert_file, std::string key_file) {
  ClientTlsOptions tls;
  tls.secure = true;
  tls.cert_file = std::move(cert_file);
  tls.key_file = std::move(key_file);
  return tls;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(MakeChannelCredentialsTest, InsecureUnlessSecure) {
  ClientTlsOptions tls;
  tls.cert_file = "/nonexistent/cert.pem";  // ignored without `secure`
  auto creds = MakeChannelCredentials(tls);
  ASSERT_TRUE(creds.ok()) << creds.status();
  EXPECT_NE(*creds, nullptr);
}

TEST(MakeChannelCredentialsTest, RejectsUnusableOptions) {
  struct Case {
    const char* name;
    ClientTlsOptions tls;
    const char* message;
  };

  const std::vector<Case> cases = {
      {"cert without key", ClientCert("/tmp/c.pem", ""), "or neither"},
      {"key without cert", ClientCert("", "/tmp/k.pem"), "or neither"},
      {"missing CA", Tls("/nonexistent/ca.pem"), "/nonexistent/ca.pem"},
      {"missing cert", ClientCert("/nonexistent/c.pem", "/nonexistent/k.pem"),
       "certificate file /nonexistent/c.pem"},
  };
  for (const Case& c : cases) {
    auto creds = MakeChannelCredentials(c.tls);
    EXPECT_THAT(creds, StatusIs(absl::StatusCode::kInvalidArgument)) << c.name;
    EXPECT_THAT(creds, StatusHasSubstr(c.message)) << c.name;
  }
}

TEST(EndpointSetTlsTest, CreateFailsOnUnusableTlsAndTheConstructorKeepsEndpointsOut) {
  EndpointSetOptions options;
  options.endpoints = {"127.0.0.1:1"};
  options.tls.secure = true;
  options.tls.ca_file = "/nonexistent/ca.pem";
  EXPECT_THAT(EndpointSet::Create(options), StatusIs(absl::StatusCode::kInvalidArgument));

  options.strict_endpoints = {"127.0.0.1:2"};
  EndpointSet set(options);
  set.Refresh();
  EXPECT_TRUE(set.Stores().empty());  // not even the strict one goes out without its TLS
  for (const EndpointStatus& s : set.Status()) {
    ASSERT_TRUE(s.last_error.has_value()) << s.name;
    EXPECT_THAT(*s.last_error, HasSubstr("/nonexistent/ca.pem"));
  }
}

class TlsLoopbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kOpenssl, X_OK) != 0)
      GTEST_SKIP() << kOpenssl << " is not installed: cannot make a test certificate";
    char tmpl[] = "/tmp/paodin_tls_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    cert_ = (dir_ / "cert.pem").string();
    key_ = (dir_ / "key.pem").string();
    const std::string cmd = std::string(kOpenssl) +
                            " req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=" + kCertName +
                            " -addext subjectAltName=DNS:" + kCertName + " -keyout " + key_ +
                            " -out " + cert_ + " >" + (dir_ / "openssl.log").string() + " 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl failed: " << ReadFile(dir_ / "openssl.log");
  }

  void TearDown() override {
    if (!dir_.empty())
      std::filesystem::remove_all(dir_);
  }

  // Starts a fake store serving TLS with the test certificate; with `require_client_cert` it
  // also demands a client certificate signed by (here: equal to) the test certificate.
  std::unique_ptr<FakeStore> StartStore(bool require_client_cert) {
    grpc::SslServerCredentialsOptions ssl(
        require_client_cert ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                            : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    ssl.pem_key_cert_pairs.push_back({ReadFile(key_), ReadFile(cert_)});
    if (require_client_cert)
      ssl.pem_root_certs = ReadFile(cert_);
    FakeStoreConfig cfg;
    cfg.external_labels = {{"cluster", "tls"}};
    cfg.server_credentials = grpc::SslServerCredentials(ssl);
    auto store = std::make_unique<FakeStore>(std::move(cfg));
    EXPECT_TRUE(store->Start().ok());
    return store;
  }

  // Runs one Info round with `tls`; returns the endpoint's error, or "" when it is queryable.
  static std::string InfoError(const std::string& address, ClientTlsOptions tls) {
    EndpointSetOptions options;
    options.endpoints = {address};
    options.info_timeout = std::chrono::milliseconds(700);
    options.tls = std::move(tls);
    auto set = EndpointSet::Create(options);
    if (!set.ok())
      return "create: " + std::string(set.status().message());
    (*set)->Refresh();
    std::vector<EndpointStatus> status = (*set)->Status();
    if (status.size() != 1)
      return "no endpoint";
    if (status[0].queryable)
      return "";
    return status[0].last_error.value_or("not queryable without an error");
  }

  std::filesystem::path dir_;
  std::string cert_;
  std::string key_;
};

TEST_F(TlsLoopbackTest, VerifiesTheServerCertificateAndItsName) {
  auto store = StartStore(false);
  const std::string addr = store->address();

  struct Case {
    const char* name;
    ClientTlsOptions tls;
    bool ok;
  };

  const std::vector<Case> cases = {
      {"trusted CA and the certificate's name", Tls(cert_, kCertName), true},
      // 127.0.0.1 is not a name in the certificate.
      {"trusted CA, address as name", Tls(cert_), false},
      // The system roots do not trust a self-signed certificate.
      {"system roots", Tls("", kCertName), false},
      {"skip verify", Tls("", "", true), true},
      {"skip verify with CA", Tls(cert_, "", true), true},
      {"plaintext to a TLS server", ClientTlsOptions{}, false},
  };
  for (const Case& c : cases) {
    const std::string err = InfoError(addr, c.tls);
    if (c.ok) {
      EXPECT_EQ(err, "") << c.name;
    } else {
      EXPECT_NE(err, "") << c.name;
    }
  }
}

TEST_F(TlsLoopbackTest, PresentsTheClientCertificateWhenTheServerRequiresOne) {
  auto store = StartStore(true);
  ClientTlsOptions tls = Tls(cert_, kCertName);
  EXPECT_NE(InfoError(store->address(), tls), "") << "no client certificate";
  tls.cert_file = cert_;
  tls.key_file = key_;
  EXPECT_EQ(InfoError(store->address(), tls), "");
  tls.skip_verify = true;  // the experimental credentials present the certificate too
  EXPECT_EQ(InfoError(store->address(), tls), "");
}

TEST_F(TlsLoopbackTest, StoreCallsCrossTheTlsChannel) {
  auto store = StartStore(false);
  EndpointSetOptions options;
  options.endpoints = {store->address()};
  options.tls = Tls(cert_, kCertName);
  auto set = EndpointSet::Create(options);
  ASSERT_TRUE(set.ok()) << set.status();
  (*set)->Refresh();
  std::vector<StoreRef> stores = (*set)->Stores();
  ASSERT_EQ(stores.size(), 1u);
  EXPECT_EQ(stores[0].info->label_sets[0].ToString(), R"({cluster="tls"})");
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  thanos::LabelNamesRequest req;
  thanos::LabelNamesResponse resp;
  grpc::Status st = stores[0].client->store().LabelNames(&ctx, req, &resp);
  EXPECT_TRUE(st.ok()) << st.error_message();
}

}  // namespace
}  // namespace paodin::storeapi
