// vigil models pull: the newest (or a named) fleet model from the bucket of [upload]
// (<prefix>/models/<id>/manifest.json and the model file it names), checked
// (model/fleet_model.h: SHA-256, columns, fingerprint) and adopted by the gateway's own
// rule. Wires upload::S3Client (the network) to model/ (the registry); blocking, for the
// CLI thread.
#pragma once

#include <string>

#include "model/fleet_model.h"
#include "vigil/clock.h"
#include "vigil/config.h"
#include "vigil/status.h"

namespace vigil::cli {

struct FleetPullReport {
  std::string manifest_key;
  model::FleetManifest manifest;
  model::AdoptReport adopt;
};

// "<prefix>/models/" (or "models/" without a prefix): where fleet/fleet_train.py writes.
std::string FleetModelsPrefix(const UploadConfig& c);

// fleet_id empty: the newest manifest (ids sort by time). expected_sha256 (an
// announcement's, may be empty): the manifest's model_sha256 must equal it. Errors: kInvalidArgument for a
// configuration, bucket or check problem (each check names what does not match),
// kNotFound when the bucket has no fleet model (or not that id), kUnavailable for the
// network.
Result<FleetPullReport> PullFleetModel(const Config& config, Clock& clock, const std::string& fleet_id,
                                       const std::string& expected_sha256 = "");

}  // namespace vigil::cli
