// A fleet model on a gateway (issue 17): the manifest fleet/fleet_train.py writes beside
// the model file in the bucket (<prefix>/models/<id>/manifest.json), the checks a gateway
// makes before it trusts the file, and its adoption into the registry by the gateway's own
// rule. The download itself is the CLI's (cli/model_commands.cc, over upload::S3Client):
// this folder never talks to the network.
//
// The gateway's rule (`vigil models pull`, `vigil run` on a fleet announcement): the
// "recent labelled data" are the test period `vigil train` would use on this gateway now
// (its labelled rows sampled at model.stride, the newest model.test_fraction of their
// time range: model/dataset.h TimeSplit). On those rows the fleet model is promoted when
//   - its PR AUC is above the base rate's (a constant at the training rows' positive
//     share, as vigil train compares), and
//   - its PR AUC is not below the current model's on the same rows (when there is a
//     current model that reads the same columns and loads).
// Otherwise it stays registered, status "rejected", the reason in its metrics and in the
// report. Without both classes among those rows nothing can be compared: it is rejected
// too ("promote it by hand": vigil models promote ID). Never promoted blindly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/metrics.h"
#include "vigil/clock.h"
#include "vigil/config.h"
#include "vigil/status.h"

namespace vigil::model {

struct FleetManifest {
  std::string id, model_key, model_sha256, fingerprint, xgboost_version, created_utc;
  int64_t model_bytes = -1;  // -1: not given
  std::vector<std::string> columns;
  int64_t data_from_ms = 0, data_to_ms = 0, split_ms = 0;
  int64_t train_rows = 0, test_rows = 0, train_positives = 0, test_positives = 0;
  std::string params_json = "{}", evaluation_json = "{}";  // as in the manifest, minified
};

// kInvalidArgument for anything that is not a manifest of format vigil-fleet-model/1
// with id, model_key, model_sha256 (64 hex digits), columns and fingerprint.
Result<FleetManifest> ParseFleetManifest(std::string_view json);

// A fleet model announcement: the payload of the retained message on fleet.model_topic
// that fleet/fleet_train.py --announce publishes,
//   {"id": "fleet-20261202T140000000Z", "sha256": "<model_sha256>", "manifest_key": "..."}
// id is required (^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$: it becomes part of an object key);
// sha256 (64 lower-case hex digits: the manifest's model_sha256) and manifest_key are
// optional, other members are ignored. kInvalidArgument says what is wrong.
struct FleetAnnouncement {
  std::string id, sha256, manifest_key;
};
Result<FleetAnnouncement> ParseFleetAnnouncement(std::string_view payload);

// What a gateway checks before it registers the model; each mismatch is a
// kInvalidArgument naming it: the file's SHA-256 (and size) against the manifest's, the
// manifest's columns against this config's model inputs (FeatureColumns), its
// fingerprint against this config's (store::Fingerprint: window, horizon, sensors,
// features). model_sha256_hex: of the bytes that were downloaded.
Status CheckFleetModel(const FleetManifest& m, const std::string& model_sha256_hex, int64_t model_size,
                       const Config& config);

struct AdoptReport {
  int64_t model_id = 0;
  bool already = false;  // this fleet id was registered before: nothing done
  bool promoted = false;
  std::string decision;
  // The gateway's recent labelled rows (see above) and the evaluations on them.
  size_t rows = 0, positives = 0;
  int64_t from_ms = 0;
  std::optional<Evaluation> fleet, base_rate, current;
  int64_t current_id = 0;
  std::string current_unusable;
};

// Registers the (checked) model file as a new model, "fleet_id" in its params, and
// promotes it by the gateway's rule. Holds the train lock (kUnavailable while a training
// runs). A fleet id registered before is reported `already`, with its model id.
Result<AdoptReport> AdoptFleetModel(const Config& config, Clock& clock, const FleetManifest& m,
                                    std::string_view model_file);

// The registered model of a fleet id, 0 when none.
Result<int64_t> FindFleetModel(const Config& config, const std::string& fleet_id);

}  // namespace vigil::model
