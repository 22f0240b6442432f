// Starts `paodin store` on free loopback ports and checks what it serves.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "proto/thanos/info.grpc.pb.h"
#include "proto/thanos/store.grpc.pb.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

using ::testing::HasSubstr;

// A child process whose stderr is captured.
class Process {
 public:
  explicit Process(std::vector<std::string> args) {
    int fds[2];
    if (pipe(fds) != 0) {
      return;
    }
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDERR_FILENO);
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> argv;
      for (std::string& a : args) {
        argv.push_back(a.data());
      }
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    fd_ = fds[0];
  }

  ~Process() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) {
      close(fd_);
    }
  }

  // Reads output until a line contains `needle` (true) or the process closes it (false). Gives
  // up after `seconds` so a broken binary cannot hang the test suite.
  bool WaitFor(const std::string& needle, int seconds = 120) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    for (;;) {
      size_t nl;
      while ((nl = pending_.find('\n')) != std::string::npos) {
        std::string line = pending_.substr(0, nl);
        pending_.erase(0, nl + 1);
        lines_.push_back(line);
        if (line.find(needle) != std::string::npos) {
          return true;
        }
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
      if (left <= 0) {
        return false;
      }
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left)) <= 0) {
        continue;
      }
      char buf[4096];
      ssize_t n = read(fd_, buf, sizeof buf);
      if (n <= 0) {
        return false;
      }
      pending_.append(buf, static_cast<size_t>(n));
    }
  }

  // Sends `sig`, reads the remaining output and returns the exit code (-1 if killed).
  int Stop(int sig) {
    kill(pid_, sig);
    return Wait();
  }

  int Wait() {
    WaitFor("\x01never\x01", 60);
    int status = 0;
    waitpid(pid_, &status, 0);
    exited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  const std::vector<std::string>& lines() const { return lines_; }

  // The value of `key=` in the last line containing `msg`.
  std::string Field(const std::string& msg, const std::string& key) const {
    for (auto it = lines_.rbegin(); it != lines_.rend(); ++it) {
      if (it->find(msg) == std::string::npos) {
        continue;
      }
      std::smatch m;
      if (std::regex_search(*it, m, std::regex(" " + key + "=([^ ]+)"))) {
        return m[1];
      }
    }
    return "";
  }

  std::string Output() const {
    std::string out;
    for (const std::string& l : lines_) {
      out += l + "\n";
    }
    return out;
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  bool exited_ = false;
  std::string pending_;
  std::vector<std::string> lines_;
};

// GET http://address/path, returning the whole response (headers and body).
std::string HttpGet(const std::string& address, const std::string& path) {
  const size_t colon = address.rfind(':');
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  inet_pton(AF_INET, address.substr(0, colon).c_str(), &sa.sin_addr);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    close(fd);
    return "";
  }
  const std::string req = "GET " + path + " HTTP/1.0\r\nHost: x\r\n\r\n";
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return "";
  }
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

thanos::SeriesRequest Request(std::vector<std::pair<std::string, std::string>> eq) {
  thanos::SeriesRequest r;
  r.set_min_time(0);
  r.set_max_time(std::numeric_limits<int64_t>::max());
  for (auto& [name, value] : eq) {
    thanos::LabelMatcher* m = r.add_matchers();
    m->set_name(name);
    m->set_value(value);
  }
  return r;
}

std::vector<thanos::Series> ReadSeries(thanos::Store::Stub& stub, const thanos::SeriesRequest& r,
                                       grpc::Status* status) {
  grpc::ClientContext ctx;
  auto reader = stub.Series(&ctx, r);
  std::vector<thanos::Series> out;
  thanos::SeriesResponse frame;
  while (reader->Read(&frame)) {
    if (frame.has_series()) {
      out.push_back(frame.series());
    }
    for (const auto& s : frame.batch().series()) {
      out.push_back(s);
    }
  }
  *status = reader->Finish();
  return out;
}

const char* const kSpec = "series=105,duration=1h,interval=15s,seed=1,start=1700000000";

TEST(StoreBinaryTest, ServesSyntheticDataWithExternalLabels) {
  Process p({PAODIN_BINARY, "store", "--synthetic", kSpec, "--grpc-address", "127.0.0.1:0",
             "--http-address", "127.0.0.1:0", "--label", "cluster=\"host\"", "--log.level",
             "debug"});
  ASSERT_TRUE(p.WaitFor("serving StoreAPI")) << p.Output();
  EXPECT_EQ(p.Field("serving StoreAPI", "series"), "105");
  // Each target scrapes at its own offset after the start.
  EXPECT_THAT(p.Field("serving StoreAPI", "min_time"), ::testing::StartsWith("2023-11-14T22:13:"));
  const std::string grpc_address = p.Field("serving StoreAPI", "grpc_address");
  const std::string http_address = p.Field("serving StoreAPI", "http_address");
  ASSERT_FALSE(grpc_address.empty());

  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  auto channel = grpc::CreateCustomChannel(grpc_address, grpc::InsecureChannelCredentials(), args);
  auto info_stub = thanos::info::Info::NewStub(channel);
  auto store_stub = thanos::Store::NewStub(channel);

  grpc::ClientContext info_ctx;
  thanos::info::InfoResponse info;
  ASSERT_TRUE(info_stub->Info(&info_ctx, thanos::info::InfoRequest(), &info).ok());
  EXPECT_EQ(info.componenttype(), "store");
  ASSERT_EQ(info.label_sets_size(), 1);
  EXPECT_EQ(info.label_sets(0).labels(0).name(), "cluster");
  EXPECT_EQ(info.label_sets(0).labels(0).value(), "host");
  EXPECT_GE(info.store().min_time(), 1700000000000);
  EXPECT_LT(info.store().max_time(), 1700003600000 + 15000);

  grpc::Status st;
  auto up = ReadSeries(*store_stub, Request({{"__name__", "up"}}), &st);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(up.size(), 5u);
  for (const thanos::Series& s : up) {
    bool has_cluster = false;
    for (const auto& l : s.labels()) {
      has_cluster |= l.name() == "cluster" && l.value() == "host";
    }
    EXPECT_TRUE(has_cluster);
    ASSERT_GE(s.chunks_size(), 2);
    EXPECT_EQ(s.chunks(0).raw().type(), thanos::Chunk::XOR);
  }
  auto member = ReadSeries(*store_stub, Request({{"__name__", "up"}, {"cluster", "member"}}), &st);
  EXPECT_TRUE(st.ok());
  EXPECT_TRUE(member.empty());
  ReadSeries(*store_stub, Request({{"cluster", "host"}}), &st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  const std::string metrics = HttpGet(http_address, "/metrics");
  EXPECT_THAT(metrics, HasSubstr("paodin_store_series_requests_total 3"));
  EXPECT_THAT(metrics, HasSubstr("paodin_store_info_requests_total 1"));
  EXPECT_THAT(HttpGet(http_address, "/-/ready"), HasSubstr("200 OK"));

  EXPECT_EQ(p.Stop(SIGTERM), 0) << p.Output();
  int series_calls = 0;
  for (const std::string& line : p.lines()) {
    series_calls += line.find("msg=\"series call\"") != std::string::npos;
  }
  EXPECT_EQ(series_calls, 3) << p.Output();
  EXPECT_THAT(p.Output(), HasSubstr("msg=\"shutting down\" signal=SIGTERM"));
}

TEST(StoreBinaryTest, LoadsOpenMetricsItWrote) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("paodin_store_bin_" + std::to_string(getpid()) + ".om"))
                               .string();
  Process writer(
      {PAODIN_BINARY, "store", "--synthetic", kSpec, "--synthetic.write-openmetrics", path});
  ASSERT_EQ(writer.Wait(), 0) << writer.Output();
  Process p({PAODIN_BINARY, "store", "--data", path, "--grpc-address", "127.0.0.1:0",
             "--http-address", "127.0.0.1:0"});
  ASSERT_TRUE(p.WaitFor("serving StoreAPI")) << p.Output();
  EXPECT_EQ(p.Field("serving StoreAPI", "series"), "105");
  EXPECT_EQ(p.Field("serving StoreAPI", "samples"), std::to_string(105 * 240));
  EXPECT_EQ(p.Stop(SIGINT), 0) << p.Output();
  std::filesystem::remove(path);
}

TEST(StoreBinaryTest, ExplainsStartupErrors) {
  Process first({PAODIN_BINARY, "store", "--synthetic", "series=1", "--grpc-address", "127.0.0.1:0",
                 "--http-address", "127.0.0.1:0"});
  ASSERT_TRUE(first.WaitFor("serving StoreAPI")) << first.Output();
  const std::string taken = first.Field("serving StoreAPI", "grpc_address");

  Process busy({PAODIN_BINARY, "store", "--synthetic", "series=1", "--grpc-address", taken,
                "--http-address", "127.0.0.1:0"});
  EXPECT_EQ(busy.Wait(), 1);
  EXPECT_THAT(busy.Output(), HasSubstr("cannot listen for gRPC on " + taken));

  Process bad_label({PAODIN_BINARY, "store", "--label", "cluster=host"});
  EXPECT_EQ(bad_label.Wait(), 1);
  EXPECT_THAT(bad_label.Output(), HasSubstr("unquote label value of cluster=host"));

  Process bad_spec({PAODIN_BINARY, "store", "--synthetic", "series=-3"});
  EXPECT_EQ(bad_spec.Wait(), 1);
  EXPECT_THAT(bad_spec.Output(), HasSubstr("bad series"));

  Process missing({PAODIN_BINARY, "store", "--data", "/nonexistent/file.om"});
  EXPECT_EQ(missing.Wait(), 1);
  EXPECT_THAT(missing.Output(), HasSubstr("cannot open /nonexistent/file.om"));

  EXPECT_EQ(first.Stop(SIGTERM), 0);
}

}  // namespace
