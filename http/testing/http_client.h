// A blocking HTTP/1.1 test client on one loopback connection (Boost.Beast).
#ifndef PAODIN_HTTP_TESTING_HTTP_CLIENT_H_
#define PAODIN_HTTP_TESTING_HTTP_CLIENT_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace paodin::http::testing {

// One response as the client read it; a gzip body is already decompressed.
struct Reply {
  // False when no complete response could be read.
  bool ok = false;
  int status = 0;
  // Header names in lower case.
  std::map<std::string, std::string> headers;
  std::string body;

  // The header's value or "".
  std::string Header(const std::string& lower_name) const;
};

// A connection to 127.0.0.1:<port>.
class HttpClient {
 public:
  explicit HttpClient(int port);
  ~HttpClient();

  // Sends one request and reads the response. A non-empty body or a POST gets a form
  // Content-Type unless `headers` gives one.
  Reply Send(std::string_view method, const std::string& target, const std::string& body = "",
             const std::vector<std::pair<std::string, std::string>>& headers = {});

  // Writes raw bytes.
  void SendRaw(std::string_view bytes);

  // Reads one response.
  Reply Read();

  // True when the server closed the connection.
  bool PeerClosed();

  // Closes the connection.
  void Close();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// A TCP port that was free a moment ago on 127.0.0.1.
int FreePort();

}  // namespace paodin::http::testing

#endif  // PAODIN_HTTP_TESTING_HTTP_CLIENT_H_
