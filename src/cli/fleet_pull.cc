#include "cli/fleet_pull.h"

#include <algorithm>

#include "upload/s3_client.h"

namespace vigil::cli {

std::string FleetModelsPrefix(const UploadConfig& c) { return (c.prefix.empty() ? "" : c.prefix + "/") + "models/"; }

Result<FleetPullReport> PullFleetModel(const Config& config, Clock& clock, const std::string& fleet_id,
                                       const std::string& expected_sha256) {
  const UploadConfig& up = config.upload;
  if (up.bucket.empty()) {
    return Status::InvalidArgument("upload.bucket is not set: the fleet models are in the bucket of [upload]");
  }
  upload::S3Client s3(up);
  const std::string prefix = FleetModelsPrefix(up);
  FleetPullReport r;
  if (!fleet_id.empty()) {
    r.manifest_key = prefix + fleet_id + "/manifest.json";
  } else {
    Result<std::vector<std::string>> keys = s3.List(prefix);
    if (!keys) return keys.error();
    for (const std::string& k : *keys) {
      constexpr std::string_view kName = "/manifest.json";
      if (k.size() > kName.size() && k.compare(k.size() - kName.size(), kName.size(), kName) == 0 &&
          k > r.manifest_key) {
        r.manifest_key = k;
      }
    }
    if (r.manifest_key.empty()) {
      return Status::NotFound("no fleet model in s3://" + up.bucket + "/" + prefix + " (fleet/fleet_train.py writes them)");
    }
  }
  Result<std::string> manifest_text = s3.Get(r.manifest_key, 1u << 20);
  if (!manifest_text) return manifest_text.error();
  Result<model::FleetManifest> m = model::ParseFleetManifest(*manifest_text);
  if (!m) return Status::InvalidArgument("s3://" + up.bucket + "/" + r.manifest_key + ": " + m.error().message());
  r.manifest = std::move(*m);
  if (!fleet_id.empty() && r.manifest.id != fleet_id) {
    return Status::InvalidArgument("s3://" + up.bucket + "/" + r.manifest_key + " names model '" + r.manifest.id +
                                   "', not '" + fleet_id + "'");
  }
  if (!expected_sha256.empty() && r.manifest.model_sha256 != expected_sha256) {
    return Status::InvalidArgument("s3://" + up.bucket + "/" + r.manifest_key + ": model_sha256 " +
                                   r.manifest.model_sha256 + " differs from the announcement's sha256 " +
                                   expected_sha256 + " (a manifest replaced after the announcement?)");
  }
  // Checked even when this id was pulled before: a changed file or configuration says so.
  Result<std::string> file = s3.Get(r.manifest.model_key);
  if (!file) return file.error();
  VIGIL_RETURN_IF_ERROR(model::CheckFleetModel(r.manifest, upload::Sha256Hex(*file),
                                               static_cast<int64_t>(file->size()), config));
  Result<model::AdoptReport> a = model::AdoptFleetModel(config, clock, r.manifest, *file);
  if (!a) return a.error();
  r.adopt = std::move(*a);
  return r;
}

}  // namespace vigil::cli
