#include "llmops/kube/curl_transport.h"

#include <sys/socket.h>

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <exception>
#include <mutex>
#include <vector>

#include "llmops/kube/api_error.h"

namespace llmops::kube {

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return value;
    }
  }
  return "";
}

namespace {

// A request given up at its timeout closes its connection; what the kernel still holds in
// the send buffer must not go out later (after a partition heals, say) as a write nobody
// waits for: close with a reset (SO_LINGER 0), which discards it.
int reset_on_close(void*, curl_socket_t fd, curlsocktype) {
  linger option{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, sizeof option);
  return CURL_SOCKOPT_OK;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// One transfer's state, reached from curl's C callbacks through userdata.
struct Transfer {
  CURL* handle = nullptr;
  HttpResponse response;
  const std::function<void(std::string_view)>* on_data = nullptr;
  const std::function<bool()>* keep_going = nullptr;
  bool stopped = false;
  // An exception from on_data cannot cross curl's C frames: kept here, rethrown after.
  std::exception_ptr error;
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    transfer->response.headers.clear();  // a new status line (after 100 Continue)
    return size * count;
  }
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string key(line.substr(0, colon));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    while (!value.empty() &&
           (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    transfer->response.headers.emplace_back(std::move(key), std::string(value));
  }
  return size * count;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t bytes = size * count;
  if (transfer->keep_going != nullptr && !(*transfer->keep_going)()) {
    transfer->stopped = true;
    return 0;  // aborts the transfer
  }
  long code = 0;
  curl_easy_getinfo(transfer->handle, CURLINFO_RESPONSE_CODE, &code);
  if (transfer->on_data != nullptr && code >= 200 && code < 300) {
    try {
      (*transfer->on_data)(std::string_view(data, bytes));
    } catch (...) {
      transfer->error = std::current_exception();
      return 0;
    }
  } else {
    transfer->response.body.append(data, bytes);
  }
  return bytes;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* transfer = static_cast<Transfer*>(user);
  if (transfer->keep_going != nullptr && !(*transfer->keep_going)()) {
    transfer->stopped = true;
    return 1;
  }
  return 0;
}

bool is_tls_failure(CURLcode code) {
  switch (code) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      return true;
    default:
      return false;
  }
}

}  // namespace

struct CurlTransport::Impl {
  RestConfig config;
  CurlTransportOptions options;
  TokenSource tokens;
  CURLSH* share = nullptr;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> share_locks;
  std::mutex pool_mutex;
  std::vector<CURL*> idle;

  std::string base_url;    // config.server, or its tls_server_name twin
  std::string connect_to;  // "name:port:host:port" when tls_server_name is set

  Impl(RestConfig c, CurlTransportOptions o)
      : config(std::move(c)), options(std::move(o)), tokens(config), base_url(config.server) {
    if (config.tls_server_name.empty()) return;
    // Verify the certificate (and send SNI) for tls_server_name while connecting to the
    // server's address: address the URL to the name and tell curl where it really is.
    auto scheme_end = config.server.find("://");
    std::string scheme = config.server.substr(0, scheme_end);
    std::string authority = config.server.substr(scheme_end + 3);
    authority = authority.substr(0, authority.find('/'));
    auto colon = authority.rfind(':');
    bool has_port = colon != std::string::npos && authority.find(']', colon) == std::string::npos;
    std::string host = has_port ? authority.substr(0, colon) : authority;
    std::string port = has_port ? authority.substr(colon + 1) : (scheme == "http" ? "80" : "443");
    base_url = scheme + "://" + config.tls_server_name + ":" + port;
    connect_to = config.tls_server_name + ":" + port + ":" + host + ":" + port;
  }

  static void lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
    static_cast<Impl*>(user)->share_locks[static_cast<size_t>(data)].lock();
  }
  static void unlock(CURL*, curl_lock_data data, void* user) {
    static_cast<Impl*>(user)->share_locks[static_cast<size_t>(data)].unlock();
  }

  CURL* acquire() {
    {
      std::lock_guard guard(pool_mutex);
      if (!idle.empty()) {
        CURL* handle = idle.back();
        idle.pop_back();
        curl_easy_reset(handle);  // keeps the live connections and TLS sessions
        return handle;
      }
    }
    CURL* handle = curl_easy_init();
    if (handle == nullptr) throw TransportError("curl_easy_init failed", true);
    return handle;
  }

  void release(CURL* handle) {
    std::lock_guard guard(pool_mutex);
    if (idle.size() < options.max_idle_handles) {
      idle.push_back(handle);
    } else {
      curl_easy_cleanup(handle);
    }
  }

  HttpResponse perform(const HttpRequest& request, Transfer& transfer, bool streaming) {
    CURL* handle = acquire();
    transfer.handle = handle;
    char error_buffer[CURL_ERROR_SIZE] = {0};
    curl_slist* headers = nullptr;
    std::string url = base_url + request.target;
    curl_slist* connect_to_list = nullptr;
    if (!connect_to.empty()) {
      connect_to_list = curl_slist_append(connect_to_list, connect_to.c_str());
      curl_easy_setopt(handle, CURLOPT_CONNECT_TO, connect_to_list);
    }
    curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
    curl_easy_setopt(handle, CURLOPT_SHARE, share);
    curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(handle, CURLOPT_SOCKOPTFUNCTION, reset_on_close);
    curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options.connect_timeout.count()));
    curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(handle, CURLOPT_USERAGENT, options.user_agent.c_str());
    curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(handle, CURLOPT_HEADERDATA, &transfer);
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, &transfer);
    if (streaming) {
      curl_easy_setopt(handle, CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, on_progress);
      curl_easy_setopt(handle, CURLOPT_XFERINFODATA, &transfer);
    }
    // TLS: verified unless the config explicitly says otherwise (main logs that loudly).
    if (config.insecure_skip_tls_verify) {
      curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 0L);
    } else if (!config.ca_pem.empty()) {
      curl_blob ca{config.ca_pem.data(), config.ca_pem.size(), CURL_BLOB_NOCOPY};
      curl_easy_setopt(handle, CURLOPT_CAINFO_BLOB, &ca);
      curl_easy_setopt(handle, CURLOPT_CAPATH, nullptr);
    }
    if (!config.client_cert_pem.empty()) {
      curl_blob cert{config.client_cert_pem.data(), config.client_cert_pem.size(),
                     CURL_BLOB_NOCOPY};
      curl_blob key{config.client_key_pem.data(), config.client_key_pem.size(), CURL_BLOB_NOCOPY};
      curl_easy_setopt(handle, CURLOPT_SSLCERTTYPE, "PEM");
      curl_easy_setopt(handle, CURLOPT_SSLCERT_BLOB, &cert);
      curl_easy_setopt(handle, CURLOPT_SSLKEYTYPE, "PEM");
      curl_easy_setopt(handle, CURLOPT_SSLKEY_BLOB, &key);
    }
    bool has_accept = false;
    for (const auto& [key, value] : request.headers) {
      if (key == "Accept") has_accept = true;
      headers = curl_slist_append(headers, (key + ": " + value).c_str());
    }
    if (!has_accept) headers = curl_slist_append(headers, "Accept: application/json");
    headers = curl_slist_append(headers, "Expect:");
    std::string token = tokens.token();
    if (!token.empty()) {
      headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
    }
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
    if (request.method != "GET") {
      curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
        request.method == "PATCH") {
      curl_easy_setopt(handle, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
    }
    CURLcode code = curl_easy_perform(handle);
    long status = 0;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_slist_free_all(connect_to_list);
    // A handle whose transfer failed may hold a broken connection: do not pool it.
    if (code == CURLE_OK || transfer.stopped) {
      release(handle);
    } else {
      curl_easy_cleanup(handle);
    }
    if (transfer.error) std::rethrow_exception(transfer.error);
    if (code != CURLE_OK && !transfer.stopped) {
      std::string detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
      if (is_tls_failure(code)) {
        throw TransportError("TLS handshake with " + config.server + " failed: " + detail +
                                 " (check the certificate-authority and the server name)",
                             true);
      }
      bool connect_failed = code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST;
      throw TransportError(request.method + " " + config.server + ": " + detail, connect_failed);
    }
    transfer.response.status = static_cast<int>(status);
    return std::move(transfer.response);
  }
};

CurlTransport::CurlTransport(RestConfig config, CurlTransportOptions options)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(options))) {
  global_init();
  impl_->share = curl_share_init();
  curl_share_setopt(impl_->share, CURLSHOPT_LOCKFUNC, &Impl::lock);
  curl_share_setopt(impl_->share, CURLSHOPT_UNLOCKFUNC, &Impl::unlock);
  curl_share_setopt(impl_->share, CURLSHOPT_USERDATA, impl_.get());
  curl_share_setopt(impl_->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(impl_->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_share_setopt(impl_->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
}

CurlTransport::~CurlTransport() {
  for (CURL* handle : impl_->idle) curl_easy_cleanup(handle);
  curl_share_cleanup(impl_->share);
}

HttpResponse CurlTransport::send(const HttpRequest& request) {
  Transfer transfer;
  return impl_->perform(request, transfer, false);
}

HttpResponse CurlTransport::stream(const HttpRequest& request,
                                   const std::function<void(std::string_view)>& on_data,
                                   const std::function<bool()>& keep_going) {
  Transfer transfer;
  transfer.on_data = &on_data;
  transfer.keep_going = &keep_going;
  return impl_->perform(request, transfer, true);
}

}  // namespace llmops::kube
