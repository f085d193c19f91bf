#include "upload/s3_client.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <cstdio>
#include <cstring>
#include <utility>

#include "common/dyn_lib.h"

namespace vigil::upload {
namespace {

// libcurl, opened by the first client (common/dyn_lib.h).
#define VIGIL_CURL_FUNCTIONS(X)                                                                              \
  X(global_init) X(easy_init) X(easy_cleanup) X(easy_reset) X(easy_setopt) X(easy_perform) X(easy_strerror) \
  X(easy_getinfo) X(slist_append) X(slist_free_all)

struct Curl {
#define VIGIL_CURL_MEMBER(f) decltype(&::curl_##f) f = nullptr;
  VIGIL_CURL_FUNCTIONS(VIGIL_CURL_MEMBER)
#undef VIGIL_CURL_MEMBER
} curl;

Status LoadCurl() {
  static const Status loaded = []() -> Status {
    static const DynLib lib("libcurl.so.4", "libcurl4");
#define VIGIL_CURL_RESOLVE(f) VIGIL_RETURN_IF_ERROR(lib.Resolve("curl_" #f, &curl.f));
    VIGIL_CURL_FUNCTIONS(VIGIL_CURL_RESOLVE)
#undef VIGIL_CURL_RESOLVE
    curl.global_init(CURL_GLOBAL_DEFAULT);
    return Status::Ok();
  }();
  return loaded;
}

struct ReadState {
  std::string_view data;
  size_t at = 0;
};

size_t ReadBody(char* out, size_t size, size_t n, void* user) {
  auto* st = static_cast<ReadState*>(user);
  const size_t len = std::min(size * n, st->data.size() - st->at);
  std::memcpy(out, st->data.data() + st->at, len);
  st->at += len;
  return len;
}

size_t WriteBody(char* in, size_t size, size_t n, void* user) {
  auto* body = static_cast<std::string*>(user);
  if (body->size() < 64 * 1024) body->append(in, size * n);  // an error document; never large
  return size * n;
}

size_t Header(char* in, size_t size, size_t n, void* user) {
  std::string_view line(in, size * n);
  constexpr std::string_view kEtag = "etag:";
  if (line.size() > kEtag.size() && strncasecmp(line.data(), kEtag.data(), kEtag.size()) == 0) {
    std::string_view v = line.substr(kEtag.size());
    while (!v.empty() && (v.front() == ' ' || v.front() == '"')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ' || v.back() == '"')) v.remove_suffix(1);
    *static_cast<std::string*>(user) = std::string(v);
  }
  return size * n;
}

int Progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(user)->load() ? 1 : 0;  // non-zero aborts
}

// <Code>X</Code> of an S3 error document.
std::string XmlField(const std::string& body, const std::string& name) {
  const std::string open = "<" + name + ">", close = "</" + name + ">";
  const size_t a = body.find(open);
  if (a == std::string::npos) return "";
  const size_t b = body.find(close, a);
  if (b == std::string::npos) return "";
  return body.substr(a + open.size(), b - a - open.size());
}

struct Sink {
  std::string* body;
  size_t max;
  bool too_large = false;
};

size_t WriteAll(char* in, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  if (sink->body->size() + size * n > sink->max) {
    sink->too_large = true;
    return 0;  // aborts the transfer
  }
  sink->body->append(in, size * n);
  return size * n;
}

std::string XmlDecode(std::string_view v) {
  static const std::pair<std::string_view, char> kEntities[] = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
  std::string out;
  for (size_t i = 0; i < v.size();) {
    bool done = false;
    if (v[i] == '&') {
      for (const auto& [e, ch] : kEntities) {
        if (v.substr(i, e.size()) == e) {
          out.push_back(ch);
          i += e.size();
          done = true;
          break;
        }
      }
    }
    if (!done) out.push_back(v[i++]);
  }
  return out;
}

// SHA-256 of the empty payload of a GET: S3 wants x-amz-content-sha256 on every request.
constexpr const char* kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

}  // namespace

std::vector<std::string> XmlValues(std::string_view xml, std::string_view name) {
  const std::string open = "<" + std::string(name) + ">", close = "</" + std::string(name) + ">";
  std::vector<std::string> out;
  for (size_t at = 0;;) {
    const size_t a = xml.find(open, at);
    if (a == std::string_view::npos) break;
    const size_t b = xml.find(close, a + open.size());
    if (b == std::string_view::npos) break;
    out.push_back(XmlDecode(xml.substr(a + open.size(), b - a - open.size())));
    at = b + close.size();
  }
  return out;
}

std::string UriEncodeQueryValue(std::string_view value) {
  std::string out = UriEncodeKey(value), encoded;
  for (char ch : out) {
    if (ch == '/') encoded += "%2F";
    else encoded.push_back(ch);
  }
  return encoded;
}

std::string UriEncodeKey(std::string_view key) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(key.size() + 16);
  for (unsigned char ch : key) {
    if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
        ch == '.' || ch == '_' || ch == '~' || ch == '/') {
      out.push_back(static_cast<char>(ch));
    } else {
      out.push_back('%');
      out.push_back(kHex[ch >> 4]);
      out.push_back(kHex[ch & 15]);
    }
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

S3Client::S3Client(const UploadConfig& c) : config_(c) {
  while (!config_.endpoint.empty() && config_.endpoint.back() == '/') config_.endpoint.pop_back();
  if (LoadCurl().ok()) curl_ = curl.easy_init();
}

S3Client::~S3Client() {
  if (curl_) curl.easy_cleanup(static_cast<CURL*>(curl_));
}

std::string S3Client::Url(const std::string& key) const {
  return config_.endpoint + "/" + UriEncodeKey(config_.bucket) + "/" + UriEncodeKey(key);
}

Result<long> S3Client::Perform(const std::string& method, const std::string& url, const std::string& what,
                               const std::string& payload_sha256, const std::string& extra_header,
                               const std::function<void(void*)>& setup, const std::string& response) {
  CURL* h = static_cast<CURL*>(curl_);
  if (!h) {
    VIGIL_RETURN_IF_ERROR(LoadCurl());  // the library's own error first
    return Status::Internal("curl_easy_init failed");
  }
  curl.easy_reset(h);
  setup(h);
  const std::string sigv4 = "aws:amz:" + config_.region + ":s3";
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = curl.slist_append(nullptr, ("x-amz-content-sha256: " + payload_sha256).c_str());
  if (!extra_header.empty()) headers = curl.slist_append(headers, extra_header.c_str());
  // No "Expect:" to suppress 100-continue on a PUT: curl 7.88 would sign the header it
  // then drops, and no server could verify the signature. S3 answers 100-continue at once.
  curl.easy_setopt(h, CURLOPT_URL, url.c_str());
  curl.easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl.easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl.easy_setopt(h, CURLOPT_USERNAME, config_.access_key_id.c_str());
  curl.easy_setopt(h, CURLOPT_PASSWORD, config_.secret_access_key.c_str());
  curl.easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10'000L);
  curl.easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout_ms));
  if (!config_.ca_file.empty()) curl.easy_setopt(h, CURLOPT_CAINFO, config_.ca_file.c_str());
  const CURLcode rc = curl.easy_perform(h);
  curl.slist_free_all(headers);
  if (rc != CURLE_OK) {
    const std::string why = errbuf[0] ? errbuf : curl.easy_strerror(rc);
    if (rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) {
      return Status::InvalidArgument(method + " " + what + ": " + why);
    }
    return Status::Unavailable(method + " " + what + ": " + why);
  }
  long http_status = 0;
  curl.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &http_status);
  if (http_status >= 200 && http_status < 300) return http_status;
  const std::string code = XmlField(response, "Code"), message = XmlField(response, "Message");
  std::string why = method + " " + what + ": HTTP " + std::to_string(http_status);
  if (!code.empty()) why += " " + code;
  if (!message.empty()) why += ": " + message;
  if (http_status == 403 || http_status == 401) {
    return Status::InvalidArgument(why + " (the bucket refused the request: check upload.access_key_id, the secret "
                                         "key (upload.secret_key_file or VIGIL_S3_SECRET_ACCESS_KEY) and upload.region)");
  }
  // A missing object is kNotFound; a PUT's 404 can only be the bucket.
  if (http_status == 404 && method == "GET" && code != "NoSuchBucket") return Status::NotFound(why);
  if (http_status == 404 || http_status == 400) {
    return Status::InvalidArgument(why + " (check upload.bucket and upload.endpoint)");
  }
  return Status::Unavailable(why);
}

Result<PutResult> S3Client::Put(const std::string& key, std::string_view data, const std::string& sha256_hex,
                                const std::atomic<bool>* abort) {
  const std::string url = Url(key);
  ReadState body{data, 0};
  std::string response, etag;
  Result<long> status = Perform(
      "PUT", url, url, sha256_hex, "Content-Type: application/x-ndjson",
      [&](void* handle) {
        CURL* h = static_cast<CURL*>(handle);
        curl.easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl.easy_setopt(h, CURLOPT_READFUNCTION, ReadBody);
        curl.easy_setopt(h, CURLOPT_READDATA, &body);
        curl.easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(data.size()));
        curl.easy_setopt(h, CURLOPT_WRITEFUNCTION, WriteBody);
        curl.easy_setopt(h, CURLOPT_WRITEDATA, &response);
        curl.easy_setopt(h, CURLOPT_HEADERFUNCTION, Header);
        curl.easy_setopt(h, CURLOPT_HEADERDATA, &etag);
        if (abort) {
          curl.easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
          curl.easy_setopt(h, CURLOPT_XFERINFOFUNCTION, Progress);
          curl.easy_setopt(h, CURLOPT_XFERINFODATA, abort);
        }
      },
      response);
  if (!status) return status.error();
  PutResult r;
  r.http_status = *status;
  r.etag = etag;
  return r;
}

Result<long> S3Client::SignedGet(const std::string& url, const std::string& what, size_t max_bytes,
                                 std::string* body) {
  Sink sink{body, max_bytes};
  Result<long> status = Perform(
      "GET", url, what, kEmptySha256, "",
      [&](void* handle) {
        CURL* h = static_cast<CURL*>(handle);
        curl.easy_setopt(h, CURLOPT_HTTPGET, 1L);
        curl.easy_setopt(h, CURLOPT_WRITEFUNCTION, WriteAll);
        curl.easy_setopt(h, CURLOPT_WRITEDATA, &sink);
      },
      *body);
  if (sink.too_large) {
    return Status::InvalidArgument("GET " + what + ": larger than " + std::to_string(max_bytes) + " bytes");
  }
  return status;
}

Result<std::string> S3Client::Get(const std::string& key, size_t max_bytes) {
  std::string body;
  Result<long> r = SignedGet(Url(key), Url(key), max_bytes, &body);
  if (!r) return r.error();
  return body;
}

Result<std::vector<std::string>> S3Client::List(const std::string& prefix) {
  std::vector<std::string> keys;
  std::string token;
  const std::string bucket_url = config_.endpoint + "/" + UriEncodeKey(config_.bucket);
  for (int page = 0; page < 10'000; ++page) {
    // Parameters in sorted order and encoded as SigV4's canonical query wants them: curl
    // 7.88 signs the query string as given.
    std::string url = bucket_url + "?";
    if (!token.empty()) url += "continuation-token=" + UriEncodeQueryValue(token) + "&";
    url += "list-type=2&prefix=" + UriEncodeQueryValue(prefix);
    std::string body;
    Result<long> r = SignedGet(url, "s3://" + config_.bucket + "/" + prefix + " (list)", 64u << 20, &body);
    if (!r) return r.error();
    for (std::string& k : XmlValues(body, "Key")) keys.push_back(std::move(k));
    const std::vector<std::string> truncated = XmlValues(body, "IsTruncated");
    const std::vector<std::string> next = XmlValues(body, "NextContinuationToken");
    if (truncated.empty() || truncated[0] != "true" || next.empty()) return keys;
    token = next[0];
  }
  return Status::Internal("listing s3://" + config_.bucket + "/" + prefix + ": too many pages");
}

}  // namespace vigil::upload
