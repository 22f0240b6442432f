#include "storeapi/client/discovery.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "engine/util/strings.h"
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <glob.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <sys/stat.h>
#include <sys/types.h>

namespace paodin::storeapi {
namespace {

// Splits "host:port" (host may be "[v6]"). Fails when there is no port.
absl::Status SplitHostPort(std::string_view hostport, std::string* host, std::string* port) {
  const size_t colon = hostport.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == hostport.size() || colon == 0) {
    return absl::InvalidArgumentError(fmt::format("address {}: missing port in address", hostport));
  }
  std::string_view h = hostport.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']')
    h = h.substr(1, h.size() - 2);
  *host = std::string(h);
  *port = std::string(hostport.substr(colon + 1));
  return absl::OkStatus();
}

std::string JoinHostPort(std::string_view host, std::string_view port) {
  if (host.find(':') != std::string_view::npos)
    return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

// Every A/AAAA address of `host`.
absl::StatusOr<std::vector<std::string>> LookupHost(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &result);
  if (rc != 0) {
    return absl::UnavailableError(fmt::format("lookup {}: {}", host, gai_strerror(rc)));
  }
  std::vector<std::string> out;
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (ai->ai_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr, buf, sizeof buf);
    } else if (ai->ai_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr, buf,
                sizeof buf);
    } else {
      continue;
    }
    out.emplace_back(buf);
  }
  freeaddrinfo(result);
  return out;
}

struct SrvRecord {
  std::string target;
  int port = 0;
};

// The SRV records of `name`.
absl::StatusOr<std::vector<SrvRecord>> LookupSrv(const std::string& name) {
  std::vector<unsigned char> answer(64 * 1024);

  struct __res_state state {};

  if (res_ninit(&state) != 0)
    return absl::UnavailableError("resolver initialisation failed");
  const int len = res_nquery(&state, name.c_str(), ns_c_in, ns_t_srv, answer.data(),
                             static_cast<int>(answer.size()));
  res_nclose(&state);
  if (len < 0)
    return absl::UnavailableError(fmt::format("lookup SRV {}: no such host", name));
  ns_msg msg;
  if (ns_initparse(answer.data(), len, &msg) != 0) {
    return absl::UnavailableError(fmt::format("lookup SRV {}: malformed answer", name));
  }
  std::vector<SrvRecord> out;
  const int count = ns_msg_count(msg, ns_s_an);
  for (int i = 0; i < count; ++i) {
    ns_rr rr;
    if (ns_parserr(&msg, ns_s_an, i, &rr) != 0 || ns_rr_type(rr) != ns_t_srv)
      continue;
    if (ns_rr_rdlen(rr) < 7)
      continue;
    const unsigned char* rdata = ns_rr_rdata(rr);
    SrvRecord rec;
    rec.port = (rdata[4] << 8) | rdata[5];
    char target[NS_MAXDNAME] = {};
    if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), rdata + 6, target, sizeof target) < 0) {
      continue;
    }
    rec.target = target;
    out.push_back(std::move(rec));
  }
  if (out.empty())
    return absl::UnavailableError(fmt::format("lookup SRV {}: no records", name));
  return out;
}

void SortUnique(std::vector<std::string>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ResolveEndpointSpec(std::string_view spec) {
  if (spec.empty())
    return absl::InvalidArgumentError("empty endpoint address");
  std::vector<std::string> out;
  if (spec.starts_with("dns+")) {
    std::string host, port;
    if (absl::Status st = SplitHostPort(spec.substr(4), &host, &port); !st.ok())
      return st;
    auto addrs = LookupHost(host);
    if (!addrs.ok())
      return addrs.status();
    for (const std::string& a : *addrs)
      out.push_back(JoinHostPort(a, port));
  } else if (spec.starts_with("dnssrv+") || spec.starts_with("dnssrvnoa+")) {
    const bool resolve_targets = spec.starts_with("dnssrv+");
    const std::string name(spec.substr(resolve_targets ? 7 : 10));
    if (name.empty())
      return absl::InvalidArgumentError(fmt::format("{}: empty name", spec));
    auto records = LookupSrv(name);
    if (!records.ok())
      return records.status();
    for (const SrvRecord& r : *records) {
      const std::string port = std::to_string(r.port);
      if (!resolve_targets) {
        out.push_back(JoinHostPort(r.target, port));
        continue;
      }
      auto addrs = LookupHost(r.target);
      if (!addrs.ok())
        return addrs.status();
      for (const std::string& a : *addrs)
        out.push_back(JoinHostPort(a, port));
    }
  } else if (spec.find('+') != std::string_view::npos && spec.find('+') < spec.find(':')) {
    return absl::InvalidArgumentError(
        fmt::format("{}: unknown address prefix (want dns+, dnssrv+ or dnssrvnoa+)", spec));
  } else {
    std::string host, port;
    if (absl::Status st = SplitHostPort(spec, &host, &port); !st.ok())
      return st;
    out.emplace_back(spec);
  }
  if (out.empty())
    return absl::UnavailableError(fmt::format("{}: no addresses", spec));
  SortUnique(&out);
  return out;
}

absl::StatusOr<std::vector<std::string>> ParseFileSd(std::string_view content) {
  std::vector<std::string> out;
  try {
    const YAML::Node root = YAML::Load(std::string(content));
    if (root.IsNull())
      return out;
    if (!root.IsSequence()) {
      return absl::InvalidArgumentError("file_sd: expected a list of target groups");
    }
    for (const YAML::Node& group : root) {
      if (!group.IsMap())
        return absl::InvalidArgumentError("file_sd: a target group is no map");
      const YAML::Node targets = group["targets"];
      if (!targets)
        continue;
      if (!targets.IsSequence()) {
        return absl::InvalidArgumentError("file_sd: targets is not a list");
      }
      for (const YAML::Node& t : targets) {
        if (!t.IsScalar())
          return absl::InvalidArgumentError("file_sd: a target is no string");
        out.push_back(t.as<std::string>());
      }
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(fmt::format("file_sd: {}", e.what()));
  }
  return out;
}

std::vector<std::string> FileSdWatcher::Targets(std::vector<std::string>* errors) {
  std::set<std::string> seen;
  for (const std::string& pattern : patterns_) {
    glob_t g{};
    const int rc = glob(pattern.c_str(), 0, nullptr, &g);
    if (rc == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i)
        seen.insert(g.gl_pathv[i]);
    } else if (rc != GLOB_NOMATCH) {
      errors->push_back(fmt::format("file_sd: glob {} failed", pattern));
    }
    globfree(&g);
  }
  // Forget files that are gone.
  for (auto it = files_.begin(); it != files_.end();) {
    it = seen.count(it->first) ? std::next(it) : files_.erase(it);
  }
  std::vector<std::string> out;
  for (const std::string& path : seen) {
    FileState& state = files_[path];

    struct stat st {};

    if (stat(path.c_str(), &st) != 0) {
      errors->push_back(fmt::format("file_sd: stat {} failed", path));
    } else if (st.st_mtim.tv_sec != state.mtime.tv_sec ||
               st.st_mtim.tv_nsec != state.mtime.tv_nsec || st.st_size != state.size) {
      std::ifstream in(path, std::ios::binary);
      std::stringstream buf;
      buf << in.rdbuf();
      auto targets = ParseFileSd(buf.str());
      if (!in || !targets.ok()) {
        errors->push_back(fmt::format(
            "file_sd: {}: {}", path,
            targets.ok() ? std::string_view("read failed") : ToStd(targets.status().message())));
      } else {
        state.targets = *std::move(targets);
        state.mtime = st.st_mtim;
        state.size = st.st_size;
      }
    }
    out.insert(out.end(), state.targets.begin(), state.targets.end());
  }
  SortUnique(&out);
  return out;
}

}  // namespace paodin::storeapi
