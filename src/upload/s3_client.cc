#include "upload/s3_client.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <cstdio>
#include <cstring>
#include <mutex>

namespace vigil::upload {
namespace {

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

}  // namespace

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
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  while (!config_.endpoint.empty() && config_.endpoint.back() == '/') config_.endpoint.pop_back();
  curl_ = curl_easy_init();
}

S3Client::~S3Client() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

std::string S3Client::Url(const std::string& key) const {
  return config_.endpoint + "/" + UriEncodeKey(config_.bucket) + "/" + UriEncodeKey(key);
}

Result<PutResult> S3Client::Put(const std::string& key, std::string_view data, const std::string& sha256_hex,
                                const std::atomic<bool>* abort) {
  CURL* h = static_cast<CURL*>(curl_);
  if (!h) return Status::Internal("curl_easy_init failed");
  curl_easy_reset(h);
  const std::string url = Url(key);
  const std::string sigv4 = "aws:amz:" + config_.region + ":s3";
  ReadState body{data, 0};
  std::string response, etag;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, ("x-amz-content-sha256: " + sha256_hex).c_str());
  headers = curl_slist_append(headers, "Content-Type: application/x-ndjson");
  // No "Expect:" here to suppress 100-continue: curl 7.88 would sign the header it then
  // drops, and no server could verify the signature. S3 answers 100-continue at once.
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, ReadBody);
  curl_easy_setopt(h, CURLOPT_READDATA, &body);
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(data.size()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl_easy_setopt(h, CURLOPT_USERNAME, config_.access_key_id.c_str());
  curl_easy_setopt(h, CURLOPT_PASSWORD, config_.secret_access_key.c_str());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, Header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &etag);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  if (abort) {
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, Progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, abort);
  }
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10'000L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout_ms));
  if (!config_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, config_.ca_file.c_str());
  const CURLcode rc = curl_easy_perform(h);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    const std::string why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    if (rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) {
      return Status::InvalidArgument("PUT " + url + ": " + why);
    }
    return Status::Unavailable("PUT " + url + ": " + why);
  }
  PutResult r;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.http_status);
  r.etag = etag;
  if (r.http_status >= 200 && r.http_status < 300) return r;
  const std::string code = XmlField(response, "Code"), message = XmlField(response, "Message");
  std::string why = "PUT " + url + ": HTTP " + std::to_string(r.http_status);
  if (!code.empty()) why += " " + code;
  if (!message.empty()) why += ": " + message;
  if (r.http_status == 403 || r.http_status == 401) {
    return Status::InvalidArgument(why + " (the bucket refused the request: check upload.access_key_id, the secret "
                                         "key (upload.secret_key_file or VIGIL_S3_SECRET_ACCESS_KEY) and upload.region)");
  }
  if (r.http_status == 404 || r.http_status == 400) {
    return Status::InvalidArgument(why + " (check upload.bucket and upload.endpoint)");
  }
  return Status::Unavailable(why);
}

}  // namespace vigil::upload
