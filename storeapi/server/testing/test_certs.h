// Throwaway TLS material for loopback tests, made at test time with the openssl command line
// tool in a fresh temporary directory that is removed again: a CA, a server certificate signed
// by it (names 127.0.0.1 and kTestServerName), a client certificate signed by it, and an
// unrelated second CA with its own client certificate. No key material is kept in the tree.
//
//   absl::StatusOr<std::unique_ptr<TestCerts>> certs = TestCerts::Make();
//   if (absl::IsUnavailable(certs.status())) GTEST_SKIP() << certs.status();
//   ASSERT_TRUE(certs.ok()) << certs.status();
//   options.tls.cert_file = (*certs)->server_cert();
#ifndef PAODIN_STOREAPI_SERVER_TESTING_TEST_CERTS_H_
#define PAODIN_STOREAPI_SERVER_TESTING_TEST_CERTS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace paodin::storeapi::testing {

// The DNS name in the server certificate besides the IP address 127.0.0.1.
inline constexpr char kTestServerName[] = "store.paodin.test";

// A directory of PEM files; removed with everything in it on destruction.
class TestCerts {
 public:
  // Makes the files with `openssl` (looked up at /usr/bin/openssl). Fails with Unavailable when
  // the tool is missing, with Internal (and the tool's output) when a step fails.
  static absl::StatusOr<std::unique_ptr<TestCerts>> Make();

  ~TestCerts();
  TestCerts(const TestCerts&) = delete;
  TestCerts& operator=(const TestCerts&) = delete;

  // The directory holding the files.
  const std::string& dir() const { return dir_; }

  // The CA that signs the server and client certificates.
  std::string ca_cert() const { return dir_ + "/ca.pem"; }

  // Server certificate (SANs IP:127.0.0.1 and DNS:kTestServerName) and its key.
  std::string server_cert() const { return dir_ + "/server.pem"; }

  std::string server_key() const { return dir_ + "/server.key"; }

  // Client certificate signed by ca_cert() and its key.
  std::string client_cert() const { return dir_ + "/client.pem"; }

  std::string client_key() const { return dir_ + "/client.key"; }

  // A CA that signed nothing above, and a client certificate (and key) it signed.
  std::string other_ca_cert() const { return dir_ + "/other_ca.pem"; }

  std::string other_client_cert() const { return dir_ + "/other_client.pem"; }

  std::string other_client_key() const { return dir_ + "/other_client.key"; }

 private:
  explicit TestCerts(std::string dir) : dir_(std::move(dir)) {}

  std::string dir_;
};

}  // namespace paodin::storeapi::testing

#endif  // PAODIN_STOREAPI_SERVER_TESTING_TEST_CERTS_H_
