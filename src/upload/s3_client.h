// Folder src/upload/: the copy of published raw segments to an S3-compatible bucket (the
// only folder that includes <curl/curl.h>). Reads the lake's upload queue (lake/paths.h);
// calls common and lake; the CLI and the daemon wire it, HTTP reads its stats.
//
// S3Client: one signed PUT of a whole object over libcurl; signed GET of an object and
// a listing of keys (ListObjectsV2) for `vigil models pull`. Debian 12 has no AWS SDK for
// C++; libcurl >= 7.75 signs with SigV4 (CURLOPT_AWS_SIGV4). Two things curl 7.88 does not
// do and S3 needs: the x-amz-content-sha256 header (curl signs it when it is present, S3
// answers 400 without it), and the URI encoding of the key: curl signs the path as given,
// the server canonicalises the decoded key with every byte but A-Za-z0-9-._~ and '/'
// percent-encoded, so "date=…" must be sent as "date%3D…" or the signatures differ.
// Path-style URLs (<endpoint>/<bucket>/<key>): MinIO, Ceph, s3rver and AWS all take them.
#pragma once

#include <atomic>
#include <functional>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/config.h"
#include "vigil/status.h"

namespace vigil::upload {

// Key bytes other than A-Za-z0-9 - . _ ~ and '/' as %XX (upper-case hex): the SigV4
// canonical URI of S3.
std::string UriEncodeKey(std::string_view key);

// Every byte but A-Za-z0-9 - . _ ~ as %XX: a SigV4 canonical query string value.
std::string UriEncodeQueryValue(std::string_view value);

// The text of every <name>...</name> of an S3 XML document, in order, with the five XML
// entities decoded (keys of a ListObjectsV2 answer: "Key").
std::vector<std::string> XmlValues(std::string_view xml, std::string_view name);

// Lower-case hex SHA-256 of data.
std::string Sha256Hex(std::string_view data);

struct PutResult {
  std::string etag;  // as the server sent it, quotes removed
  long http_status = 0;
};

class S3Client {
 public:
  // Takes endpoint, region, bucket, credentials, CA file and timeout from `c`.
  explicit S3Client(const UploadConfig& c);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  // PUT of `data` at `key` (not encoded) with its SHA-256 (hex). Errors: kUnavailable for
  // network trouble and 5xx (retry later), kInvalidArgument for a refusal that retrying
  // does not cure (403 credentials or signature, 404 no such bucket), with the server's
  // code and message.
  // *abort (if given) true cancels a transfer in flight (kUnavailable).
  Result<PutResult> Put(const std::string& key, std::string_view data, const std::string& sha256_hex,
                        const std::atomic<bool>* abort = nullptr);

  // GET of the object at `key` (not encoded), its whole body (at most max_bytes: a longer
  // one is kInvalidArgument). Errors as Put's; 404 is kNotFound.
  Result<std::string> Get(const std::string& key, size_t max_bytes = 256u << 20);

  // Every key under `prefix` (ListObjectsV2, all pages), in the server's order (S3 sorts
  // them by UTF-8 bytes). Errors as Get's.
  Result<std::vector<std::string>> List(const std::string& prefix);

  // "<endpoint>/<bucket>/<encoded key>"
  std::string Url(const std::string& key) const;

 private:
  // A signed GET of `url` into *body (at most max_bytes); `what` names it in errors.
  Result<long> SignedGet(const std::string& url, const std::string& what, size_t max_bytes, std::string* body);
  // One signed request on the reused handle, shared by PUT and GET: `setup` sets the
  // method's own options on the reset handle (a CURL*: body, callbacks); this adds the
  // SigV4 signature with x-amz-content-sha256 = payload_sha256 (curl 7.88 does not add it)
  // and extra_header (if not empty), the timeouts and the CA file, performs it, and maps
  // curl and HTTP errors to Status (the response body `response` gives the server's code
  // and message). Returns the HTTP status of a 2xx answer.
  Result<long> Perform(const std::string& method, const std::string& url, const std::string& what,
                       const std::string& payload_sha256, const std::string& extra_header,
                       const std::function<void(void*)>& setup, const std::string& response);

  UploadConfig config_;
  void* curl_ = nullptr;  // CURL*, reused: keeps the connection alive between PUTs
};

}  // namespace vigil::upload
