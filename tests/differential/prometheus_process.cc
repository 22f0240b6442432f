#include "tests/differential/prometheus_process.h"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/differential/http_client.h"
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace paodin::differential {
namespace {

// Waits up to `timeout_ms` for `pid` to exit; true when it did (and was reaped).
bool WaitExit(pid_t pid, int timeout_ms) {
  for (int waited = 0; waited <= timeout_ms; waited += 20) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD))
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace

absl::StatusOr<int> PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return absl::UnavailableError(absl::StrCat("socket: ", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int err = errno;
    close(fd);
    return absl::UnavailableError(absl::StrCat("bind: ", std::strerror(err)));
  }
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

absl::StatusOr<std::unique_ptr<PrometheusProcess>> PrometheusProcess::Start(
    const std::string& binary) {
  if (access(binary.c_str(), X_OK) != 0) {
    return absl::NotFoundError(absl::StrCat("prometheus binary not found: ", binary));
  }
  std::unique_ptr<PrometheusProcess> proc(new PrometheusProcess());
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/paodin-diff-XXXXXX");
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    return absl::UnavailableError(absl::StrCat("mkdtemp: ", std::strerror(errno)));
  }
  proc->dir_ = buf.data();
  const std::string config = proc->dir_ + "/prometheus.yml";
  {
    std::ofstream out(config);
    // evaluation_interval is the step of subqueries without one: 1m, as our engine.
    out << "global:\n  scrape_interval: 15s\n  evaluation_interval: 1m\n";
    if (!out)
      return absl::UnavailableError("cannot write prometheus.yml");
  }
  absl::StatusOr<int> port = PickFreePort();
  if (!port.ok())
    return port.status();
  proc->port_ = *port;

  std::vector<std::string> args = {
      binary,
      "--config.file=" + config,
      "--storage.tsdb.path=" + proc->dir_ + "/data",
      absl::StrCat("--web.listen-address=127.0.0.1:", proc->port_),
      "--web.enable-remote-write-receiver",
      "--log.level=warn",
  };
  std::vector<char*> argv;
  for (std::string& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log = proc->dir_ + "/prometheus.log";

  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0)
    return absl::UnavailableError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    // If the test dies without running destructors (a crash), Prometheus goes with it.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(125);
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    if (chdir(proc->dir_.c_str()) != 0)
      _exit(126);
    execv(argv[0], argv.data());
    _exit(127);
  }
  proc->pid_ = pid;

  for (int attempt = 0; attempt < 600; ++attempt) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      proc->pid_ = -1;
      return absl::UnavailableError(
          absl::StrCat("prometheus exited during startup:\n", proc->LogTail()));
    }
    absl::StatusOr<HttpResponse> r = HttpRequest(proc->port_, "GET", "/-/ready");
    if (r.ok() && r->status == 200)
      return proc;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return absl::UnavailableError(
      absl::StrCat("prometheus did not become ready in 60 s:\n", proc->LogTail()));
}

PrometheusProcess::~PrometheusProcess() { Stop(); }

void PrometheusProcess::Stop() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    if (!WaitExit(pid_, 10000)) {
      kill(pid_, SIGKILL);
      WaitExit(pid_, 5000);
    }
    pid_ = -1;
  }
  if (!dir_.empty() && std::getenv("PAODIN_DIFF_KEEP_TMP") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string PrometheusProcess::LogTail(size_t max_bytes) const {
  std::ifstream in(dir_ + "/prometheus.log");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > max_bytes)
    s = s.substr(s.size() - max_bytes);
  return s;
}

}  // namespace paodin::differential
