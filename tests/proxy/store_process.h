// Starts a StoreAPI server process for integration tests and kills it on destruction.
#ifndef PAODIN_TESTS_PROXY_STORE_PROCESS_H_
#define PAODIN_TESTS_PROXY_STORE_PROCESS_H_

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace paodin::tests {

// A child process that prints "ADDRESS host:port" on stdout once it serves.
class StoreProcess {
 public:
  // Spawns `binary` with `args`; address() is empty if it failed to start.
  StoreProcess(const std::string& binary, std::vector<std::string> args) {
    static int counter = 0;
    log_path_ = "/tmp/paodin_proxy_store_" + std::to_string(getpid()) + "_" +
                std::to_string(counter++) + ".log";
    int out[2];
    if (pipe(out) != 0)
      return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    posix_spawn_file_actions_addopen(&actions, 2, log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(binary.c_str()));
    for (std::string& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    FILE* f = fdopen(out[0], "r");
    char line[256];
    if (f != nullptr && std::fgets(line, sizeof line, f) != nullptr) {
      std::string s(line);
      if (s.rfind("ADDRESS ", 0) == 0)
        address_ = s.substr(8, s.find('\n') - 8);
    }
    if (f != nullptr)
      std::fclose(f);
  }

  ~StoreProcess() {
    Kill();
    std::remove(log_path_.c_str());
  }

  const std::string& address() const { return address_; }

  // SIGKILL and reap. Idempotent.
  void Kill() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }

  // Lines the process wrote to stderr that contain `needle`.
  int CountLogLines(const std::string& needle) const {
    std::ifstream in(log_path_);
    std::string line;
    int n = 0;
    while (std::getline(in, line))
      n += line.find(needle) != std::string::npos ? 1 : 0;
    return n;
  }

  // Waits (without a time bound) until the log has `n` lines containing `needle`.
  void WaitForLogLines(const std::string& needle, int n) const {
    while (CountLogLines(needle) < n)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

 private:
  pid_t pid_ = -1;
  std::string address_;
  std::string log_path_;
};

}  // namespace paodin::tests

#endif  // PAODIN_TESTS_PROXY_STORE_PROCESS_H_
