#include "storeapi/server/testing/test_certs.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <unistd.h>

namespace paodin::storeapi::testing {
namespace {

constexpr const char* kOpenssl = "/usr/bin/openssl";
// P-256 keys: much faster to make than RSA, and every TLS stack accepts them.
constexpr const char* kNewKey = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Runs `openssl <args>` in `dir` with its output to dir/openssl.log.
absl::Status Openssl(const std::string& dir, const std::string& args) {
  const std::string log = dir + "/openssl.log";
  const std::string cmd = fmt::format("cd '{}' && {} {} >'{}' 2>&1", dir, kOpenssl, args, log);
  if (std::system(cmd.c_str()) != 0) {
    return absl::InternalError(fmt::format("openssl {} failed: {}", args, ReadAll(log)));
  }
  return absl::OkStatus();
}

// A self-signed CA certificate `name`.pem with its key `name`.key.
absl::Status MakeCa(const std::string& dir, const std::string& name) {
  return Openssl(dir, fmt::format("req -x509 {} -days 2 -subj /CN=paodin-test-{} -keyout {}.key "
                                  "-out {}.pem -addext basicConstraints=critical,CA:TRUE "
                                  "-addext keyUsage=critical,keyCertSign,cRLSign",
                                  kNewKey, name, name, name));
}

// A leaf certificate `name`.pem (key `name`.key) signed by the CA `ca`, with extensions `ext`.
absl::Status MakeLeaf(const std::string& dir, const std::string& name, const std::string& ca,
                      const std::string& ext) {
  absl::Status st = Openssl(dir, fmt::format("req -new {} -subj /CN=paodin-test-{} -keyout {}.key "
                                             "-out {}.csr {}",
                                             kNewKey, name, name, name, ext));
  if (!st.ok()) {
    return st;
  }
  return Openssl(dir, fmt::format("x509 -req -in {}.csr -CA {}.pem -CAkey {}.key -CAcreateserial "
                                  "-days 2 -copy_extensions copy -out {}.pem",
                                  name, ca, ca, name));
}

}  // namespace

absl::StatusOr<std::unique_ptr<TestCerts>> TestCerts::Make() {
  if (access(kOpenssl, X_OK) != 0) {
    return absl::UnavailableError(
        fmt::format("{} is not installed: cannot make test certificates", kOpenssl));
  }
  char tmpl[] = "/tmp/paodin_certs_XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    return absl::InternalError("cannot make a temporary directory for test certificates");
  }
  std::unique_ptr<TestCerts> certs(new TestCerts(tmpl));
  const std::string& dir = certs->dir_;
  const std::string server_ext =
      fmt::format("-addext subjectAltName=IP:127.0.0.1,DNS:{} -addext extendedKeyUsage=serverAuth",
                  kTestServerName);
  const std::string client_ext = "-addext extendedKeyUsage=clientAuth";
  for (absl::Status st : {MakeCa(dir, "ca"), MakeLeaf(dir, "server", "ca", server_ext),
                          MakeLeaf(dir, "client", "ca", client_ext), MakeCa(dir, "other_ca"),
                          MakeLeaf(dir, "other_client", "other_ca", client_ext)}) {
    if (!st.ok()) {
      return st;
    }
  }
  return certs;
}

TestCerts::~TestCerts() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

}  // namespace paodin::storeapi::testing
