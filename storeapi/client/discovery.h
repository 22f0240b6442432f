// Where endpoint addresses come from: static specs with optional DNS prefixes, and Prometheus
// file_sd files.
//
// Spec forms (as Thanos' --endpoint / --store):
//   host:port                 used as is
//   dns+host:port             every A/AAAA address of host, with port
//   dnssrv+_svc._tcp.domain   every SRV record's target resolved to A/AAAA, with its port
//   dnssrvnoa+_svc._tcp.dom   every SRV record's target name (not resolved), with its port
#ifndef PAODIN_STOREAPI_CLIENT_DISCOVERY_H_
#define PAODIN_STOREAPI_CLIENT_DISCOVERY_H_

#include <ctime>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace paodin::storeapi {

// Resolves one spec to addresses ("ip:port", IPv6 as "[ip]:port"), sorted and unique. Fails
// with InvalidArgument for a malformed spec and Unavailable when DNS fails or finds nothing.
absl::StatusOr<std::vector<std::string>> ResolveEndpointSpec(std::string_view spec);

// Parses one Prometheus file_sd file (YAML, or JSON, which YAML reads too): a list of groups
// `{targets: [...], labels: {...}}`. Returns every target in file order (labels are ignored:
// endpoints carry their labels in Info). Fails with InvalidArgument on a malformed file.
absl::StatusOr<std::vector<std::string>> ParseFileSd(std::string_view content);

// Re-reads file_sd files when they change. Paths may be globs (glob(3)). Not thread-safe.
class FileSdWatcher {
 public:
  explicit FileSdWatcher(std::vector<std::string> patterns) : patterns_(std::move(patterns)) {}

  // Expands the globs, re-reads files whose modification time or size changed, and returns
  // the targets of all files (sorted, unique). A file that fails to read or parse keeps its
  // previous targets; its error is appended to *errors.
  std::vector<std::string> Targets(std::vector<std::string>* errors);

 private:
  struct FileState {
    timespec mtime{};
    off_t size = -1;
    std::vector<std::string> targets;
  };

  std::vector<std::string> patterns_;
  std::map<std::string, FileState> files_;
};

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_CLIENT_DISCOVERY_H_
