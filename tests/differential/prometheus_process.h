// Runs a real Prometheus (Debian's 2.42, /usr/bin/prometheus) for a test: on 127.0.0.1 on a
// free port, with an empty temporary TSDB and the remote-write receiver on. The object owns the
// process: the destructor stops it (SIGTERM, then SIGKILL) and removes the temporary folder, so
// a failing test never leaves it behind.
//
//   PAODIN_ASSIGN_OR_RETURN(std::unique_ptr<PrometheusProcess> prom, PrometheusProcess::Start());
//   HttpRequest(prom->port(), "GET", "/api/v1/query?query=up&time=1");
#ifndef PAODIN_TESTS_DIFFERENTIAL_PROMETHEUS_PROCESS_H_
#define PAODIN_TESTS_DIFFERENTIAL_PROMETHEUS_PROCESS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include <sys/types.h>

namespace paodin::differential {

// The default binary.
inline constexpr char kPrometheusBinary[] = "/usr/bin/prometheus";

// A running Prometheus.
class PrometheusProcess {
 public:
  // Starts `binary` and waits (up to 60 s) until /-/ready answers 200. Fails with NotFound when
  // the binary is missing, Unavailable when it does not start or become ready (the log tail is
  // in the message).
  static absl::StatusOr<std::unique_ptr<PrometheusProcess>> Start(
      const std::string& binary = kPrometheusBinary);

  ~PrometheusProcess();
  PrometheusProcess(const PrometheusProcess&) = delete;
  PrometheusProcess& operator=(const PrometheusProcess&) = delete;

  // The HTTP port on 127.0.0.1.
  int port() const { return port_; }

  // The last `max_bytes` of the process' log (stdout and stderr).
  std::string LogTail(size_t max_bytes = 4000) const;

 private:
  PrometheusProcess() = default;

  void Stop();

  pid_t pid_ = -1;
  int port_ = 0;
  std::string dir_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close).
absl::StatusOr<int> PickFreePort();

}  // namespace paodin::differential

#endif  // PAODIN_TESTS_DIFFERENTIAL_PROMETHEUS_PROCESS_H_
