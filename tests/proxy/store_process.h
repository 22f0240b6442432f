// Store processes for the proxy's integration tests, all on 127.0.0.1 and always stopped:
//   - PaodinStore: the real `paodin store` (data files, external labels, debug log);
//   - FakeStoreProcess: tests/proxy/fake_store_main, a server that misbehaves on request
//     (stalls, unsorted series, corrupt chunks, oversized frames, an Info that never answers).
// Both write stdout and stderr to a log file that the test reads; every wait is bounded.
#ifndef PAODIN_TESTS_PROXY_STORE_PROCESS_H_
#define PAODIN_TESTS_PROXY_STORE_PROCESS_H_

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace paodin::tests {

// How long a process may take to start serving, and a waited-for log line to appear.
inline constexpr std::chrono::seconds kProcessWait{30};

// A child process with stdout and stderr appended to a log file. Killed (SIGKILL) and reaped on
// destruction.
class ChildProcess {
 public:
  ChildProcess(const std::string& binary, std::vector<std::string> args) {
    static int counter = 0;
    log_path_ = "/tmp/paodin_proxy_test_" + std::to_string(getpid()) + "_" +
                std::to_string(counter++) + ".log";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(binary.c_str()));
    for (std::string& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ) != 0)
      pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }

  ~ChildProcess() {
    Kill();
    std::remove(log_path_.c_str());
  }

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // SIGKILL and reap. Idempotent.
  void Kill() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }

  // True while the process runs.
  bool Running() {
    if (pid_ <= 0)
      return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }

  // The whole log so far.
  std::string Log() const {
    std::ifstream in(log_path_);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }

  // Lines of the log containing `needle`.
  int CountLogLines(const std::string& needle) const {
    std::ifstream in(log_path_);
    std::string line;
    int n = 0;
    while (std::getline(in, line))
      n += line.find(needle) != std::string::npos ? 1 : 0;
    return n;
  }

  // Waits until a log line satisfies `pred` and returns it; nullopt when the process exits or
  // kProcessWait passes first.
  std::optional<std::string> WaitForLine(const std::function<bool(const std::string&)>& pred) {
    const auto deadline = std::chrono::steady_clock::now() + kProcessWait;
    for (;;) {
      // Only whole lines: the process may be in the middle of writing the last one.
      const std::string log = Log();
      for (size_t pos = 0, end; (end = log.find('\n', pos)) != std::string::npos; pos = end + 1) {
        std::string line = log.substr(pos, end - pos);
        if (pred(line))
          return line;
      }
      if (!Running() || std::chrono::steady_clock::now() >= deadline)
        return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  // Waits until `n` log lines contain `needle`; false when the process exits or kProcessWait
  // passes first.
  bool WaitForLogLines(const std::string& needle, int n) {
    const auto deadline = std::chrono::steady_clock::now() + kProcessWait;
    while (CountLogLines(needle) < n) {
      if (!Running() || std::chrono::steady_clock::now() >= deadline)
        return CountLogLines(needle) >= n;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

// The value of `key=` in a logfmt line (unquoted values only), or "".
inline std::string LogfmtValue(const std::string& line, const std::string& key) {
  const std::string needle = " " + key + "=";
  const size_t at = line.find(needle);
  if (at == std::string::npos)
    return "";
  const size_t start = at + needle.size();
  const size_t end = line.find(' ', start);
  return line.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// `paodin store` on 127.0.0.1 with free ports (it binds port 0 and logs the ports it got).
class PaodinStore {
 public:
  // Starts `binary store --grpc-address=127.0.0.1:0 --http-address=127.0.0.1:0
  // --log.level=debug` plus `args`; grpc_address() is empty when it did not come up.
  PaodinStore(const std::string& binary, std::vector<std::string> args) {
    std::vector<std::string> all = {"store", "--grpc-address=127.0.0.1:0",
                                    "--http-address=127.0.0.1:0", "--log.level=debug"};
    all.insert(all.end(), args.begin(), args.end());
    process_ = std::make_unique<ChildProcess>(binary, std::move(all));
    std::optional<std::string> line = process_->WaitForLine([](const std::string& l) {
      return l.find("msg=\"serving StoreAPI\"") != std::string::npos;
    });
    if (line.has_value()) {
      grpc_address_ = LogfmtValue(*line, "grpc_address");
      http_address_ = LogfmtValue(*line, "http_address");
      series_ = std::atoll(LogfmtValue(*line, "series").c_str());
    }
  }

  // "127.0.0.1:port" of the StoreAPI.
  const std::string& grpc_address() const { return grpc_address_; }

  // "127.0.0.1:port" of /metrics.
  const std::string& http_address() const { return http_address_; }

  // Series loaded, as the store logged it.
  int64_t series() const { return series_; }

  ChildProcess& process() { return *process_; }

 private:
  std::unique_ptr<ChildProcess> process_;
  std::string grpc_address_;
  std::string http_address_;
  int64_t series_ = 0;
};

// tests/proxy/fake_store_main, which prints "ADDRESS host:port" once it serves and logs
// "series call N" for every Series call.
class FakeStoreProcess {
 public:
  FakeStoreProcess(const std::string& binary, std::vector<std::string> args) {
    process_ = std::make_unique<ChildProcess>(binary, std::move(args));
    std::optional<std::string> line =
        process_->WaitForLine([](const std::string& l) { return l.rfind("ADDRESS ", 0) == 0; });
    if (line.has_value())
      address_ = line->substr(8);
  }

  const std::string& address() const { return address_; }

  ChildProcess& process() { return *process_; }

 private:
  std::unique_ptr<ChildProcess> process_;
  std::string address_;
};

// GET http://<host_port><path> (HTTP/1.0, 10 s socket timeouts): the body, or "" on any
// failure.
inline std::string HttpGet(const std::string& host_port, const std::string& path) {
  const size_t colon = host_port.rfind(':');
  if (colon == std::string::npos)
    return "";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(host_port.c_str() + colon + 1)));
  if (inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr) != 1)
    return "";
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return "";
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string req = "GET " + path + " HTTP/1.0\r\nHost: " + host_port + "\r\n\r\n";
    if (write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char buf[4096];
      for (;;) {
        const ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0)
          break;
        response.append(buf, static_cast<size_t>(n));
      }
    }
  }
  close(fd);
  const size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

// The value of an unlabelled metric in a /metrics text, or -1 when absent.
inline double MetricValue(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + " ", 0) == 0)
      return std::atof(line.c_str() + name.size() + 1);
  }
  return -1;
}

}  // namespace paodin::tests

#endif  // PAODIN_TESTS_PROXY_STORE_PROCESS_H_
