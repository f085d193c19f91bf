#include "model/fleet_model.h"

#include <simdjson.h>

#include <filesystem>

#include "common/data_paths.h"
#include "common/dir_lock.h"
#include "common/json_text.h"
#include "common/names.h"
#include "common/timestamp.h"
#include "lake/file_system.h"
#include "model/booster.h"
#include "model/dataset.h"
#include "model/registry.h"
#include "store/schema.h"

namespace vigil::model {
namespace {

constexpr std::string_view kFormat = "vigil-fleet-model/1";

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out;
}

bool IsHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char ch : s) {
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return false;
  }
  return true;
}

// The "fleet_id" of a registered model's params, "" for a model of vigil train.
std::string FleetIdOf(const ModelRecord& m) {
  simdjson::dom::parser parser;
  std::string_view id;
  if (parser.parse(m.params_json)["fleet_id"].get(id)) return "";
  return std::string(id);
}

}  // namespace

Result<FleetAnnouncement> ParseFleetAnnouncement(std::string_view payload) {
  if (payload.size() > 64 * 1024) return Status::InvalidArgument("the announcement is larger than 64 KiB");
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(payload.data(), payload.size()).get(root)) {
    return Status::InvalidArgument(std::string("the announcement is not JSON: ") + simdjson::error_message(err));
  }
  if (!root.is_object()) return Status::InvalidArgument("the announcement is not a JSON object");
  FleetAnnouncement a;
  std::string_view v;
  if (root["id"].get(v)) return Status::InvalidArgument("the announcement has no string \"id\"");
  a.id = std::string(v);
  if (!IsSafeName(a.id, 128)) {
    return Status::InvalidArgument("the announcement's id '" + a.id + "' does not match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$");
  }
  if (simdjson::dom::element e; !root["sha256"].get(e)) {
    if (e.get(v) || !IsHex64(v)) {
      return Status::InvalidArgument("the announcement's sha256 is not 64 lower-case hex digits");
    }
    a.sha256 = std::string(v);
  }
  if (simdjson::dom::element e; !root["manifest_key"].get(e)) {
    if (e.get(v)) return Status::InvalidArgument("the announcement's manifest_key is not a string");
    a.manifest_key = std::string(v);
  }
  return a;
}

Result<FleetManifest> ParseFleetManifest(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(json.data(), json.size()).get(root)) {
    return Status::InvalidArgument(std::string("the manifest is not JSON: ") + simdjson::error_message(err));
  }
  if (!root.is_object()) return Status::InvalidArgument("the manifest is not a JSON object");
  FleetManifest m;
  std::string_view format;
  if (root["format"].get(format) || format != kFormat) {
    return Status::InvalidArgument("the manifest's format is not " + std::string(kFormat) +
                                   " (written by another version of fleet/fleet_train.py?)");
  }
  auto text = [&](const char* key, std::string* out, bool required) -> Status {
    std::string_view v;
    if (root[key].get(v)) {
      return required ? Status::InvalidArgument(std::string("the manifest has no string \"") + key + "\"")
                      : Status::Ok();
    }
    *out = std::string(v);
    return Status::Ok();
  };
  VIGIL_RETURN_IF_ERROR(text("id", &m.id, true));
  VIGIL_RETURN_IF_ERROR(text("model_key", &m.model_key, true));
  VIGIL_RETURN_IF_ERROR(text("model_sha256", &m.model_sha256, true));
  VIGIL_RETURN_IF_ERROR(text("fingerprint", &m.fingerprint, true));
  VIGIL_RETURN_IF_ERROR(text("xgboost_version", &m.xgboost_version, false));
  VIGIL_RETURN_IF_ERROR(text("created_utc", &m.created_utc, false));
  if (m.id.empty()) return Status::InvalidArgument("the manifest's id is empty");
  if (!IsHex64(m.model_sha256)) {
    return Status::InvalidArgument("the manifest's model_sha256 is not 64 lower-case hex digits: '" + m.model_sha256 + "'");
  }
  simdjson::dom::array cols;
  if (root["columns"].get(cols)) return Status::InvalidArgument("the manifest has no \"columns\" list");
  for (simdjson::dom::element c : cols) {
    std::string_view name;
    if (c.get(name)) return Status::InvalidArgument("the manifest's columns are not all strings");
    m.columns.emplace_back(name);
  }
  if (m.columns.empty()) return Status::InvalidArgument("the manifest lists no columns");
  for (auto [key, out] : {std::pair{"model_bytes", &m.model_bytes}, {"data_from_ms", &m.data_from_ms},
                          {"data_to_ms", &m.data_to_ms}, {"split_ms", &m.split_ms}, {"train_rows", &m.train_rows},
                          {"test_rows", &m.test_rows}, {"train_positives", &m.train_positives},
                          {"test_positives", &m.test_positives}}) {
    int64_t v = 0;
    if (!root[key].get(v)) *out = v;
  }
  simdjson::dom::object obj;
  if (!root["params"].get(obj)) m.params_json = simdjson::minify(obj);
  if (!root["evaluation"].get(obj)) m.evaluation_json = simdjson::minify(obj);
  return m;
}

Status CheckFleetModel(const FleetManifest& m, const std::string& model_sha256_hex, int64_t model_size,
                       const Config& config) {
  if (model_sha256_hex != m.model_sha256) {
    return Status::InvalidArgument("sha256 mismatch: the model file " + m.model_key + " has SHA-256 " + model_sha256_hex +
                                   ", the manifest of " + m.id + " says " + m.model_sha256 +
                                   " (a damaged or replaced file: not registered)");
  }
  if (m.model_bytes >= 0 && m.model_bytes != model_size) {
    return Status::InvalidArgument("size mismatch: the model file has " + std::to_string(model_size) +
                                   " bytes, the manifest says " + std::to_string(m.model_bytes));
  }
  const std::vector<std::string> want = FeatureColumns(config);
  if (m.columns != want) {
    return Status::InvalidArgument("feature columns mismatch: fleet model " + m.id + " reads [" + Joined(m.columns) +
                                   "], this gateway's configuration gives [" + Joined(want) +
                                   "] ([[sensors]] fields, then [[features]] names)");
  }
  const std::string fp = store::Fingerprint(config);
  if (m.fingerprint != fp) {
    return Status::InvalidArgument("config fingerprint mismatch: fleet model " + m.id +
                                   " was trained on features defined as\n  fleet:   " + m.fingerprint +
                                   "\n  gateway: " + fp +
                                   "\n(window, horizon, sensors and features must be the same on the gateways and the "
                                   "fleet job)");
  }
  return Status::Ok();
}

Result<int64_t> FindFleetModel(const Config& config, const std::string& fleet_id) {
  Result<Db> db = Db::Open(data_paths::Database(config.data_dir));
  if (!db) return db.error();
  Result<std::vector<ModelRecord>> all = ListModels(*db);
  if (!all) return all.error();
  for (const ModelRecord& r : *all) {
    if (FleetIdOf(r) == fleet_id && r.status != "failed") return r.id;
  }
  return int64_t{0};
}

Result<AdoptReport> AdoptFleetModel(const Config& config, Clock& clock, const FleetManifest& m,
                                    std::string_view model_file) {
  const ModelConfig& mc = config.model;
  const std::string db_path = data_paths::Database(config.data_dir);
  Result<Db> db = Db::Open(db_path);
  if (!db) return db.error();
  Result<DirLock> lock = DirLock::Acquire(data_paths::TrainLock(config.data_dir), "vigil models pull");
  if (!lock) return lock.error();
  if (Result<int64_t> failed = store::FailUnfinishedModels(*db); !failed) return failed.error();
  AdoptReport r;
  Result<std::vector<ModelRecord>> all = ListModels(*db);
  if (!all) return all.error();
  for (const ModelRecord& rec : *all) {
    if (FleetIdOf(rec) == m.id && rec.status != "failed") {
      r.already = true;
      r.model_id = rec.id;
      r.promoted = rec.status == "promoted";
      r.decision = "fleet model " + m.id + " is registered already as model " + std::to_string(rec.id) + " (" +
                   rec.status + ")";
      return r;
    }
  }

  // The model file, loaded from the bytes the checks saw (a temporary file beside the
  // final one: XGBoost loads from a path).
  std::error_code ec;
  std::filesystem::create_directories(data_paths::ModelsDir(config.data_dir), ec);
  const std::string tmp = data_paths::ModelsDir(config.data_dir) + "/fleet-pull.tmp.json";
  VIGIL_RETURN_IF_ERROR(lake::WriteFileAtomic(lake::PosixFileSystem::Instance(), tmp, model_file));
  Result<Booster> fleet = Booster::Load(tmp);
  std::filesystem::remove(tmp, ec);
  if (!fleet) return Status::InvalidArgument("fleet model " + m.id + " does not load: " + fleet.error().message());

  // The gateway's recent labelled data: the test period vigil train would use now.
  Result<Dataset> data = LoadLabelled(db_path, config, mc.stride_ms);
  if (!data) return data.error();
  const Dataset& d = *data;
  const Split split = TimeSplit(d.t, mc.test_fraction, config.processing.label_horizon_ms);
  r.rows = split.test.size();
  r.from_ms = split.split_ms;
  std::vector<int> label;
  for (size_t i : split.test) {
    label.push_back(d.y[i]);
    r.positives += d.y[i];
  }
  Result<std::optional<ModelRecord>> current = CurrentModel(*db);
  if (!current) return current.error();
  if (*current) r.current_id = (*current)->id;
  const bool comparable = r.positives > 0 && r.positives < r.rows;
  if (comparable) {
    const std::vector<float> x = d.Rows(split.test);
    Result<std::vector<float>> p = fleet->Predict(x, d.columns.size());
    if (!p) return p.error();
    r.fleet = Evaluate(std::vector<double>(p->begin(), p->end()), label, mc.warning_threshold);
    const double share = m.train_rows > 0 ? static_cast<double>(m.train_positives) / m.train_rows : 0;
    r.base_rate = Evaluate(std::vector<double>(label.size(), share), label, mc.warning_threshold);
    if (*current) {
      Result<Booster> cur = Booster::Load((*current)->file);
      if (ModelColumns(**current) != d.columns) {
        r.current_unusable = "it was trained on other features";
      } else if (!cur) {
        r.current_unusable = "its file cannot be loaded: " + cur.error().message();
      } else if (Result<std::vector<float>> cp = cur->Predict(x, d.columns.size()); !cp) {
        r.current_unusable = "it cannot score the rows: " + cp.error().message();
      } else {
        r.current = Evaluate(std::vector<double>(cp->begin(), cp->end()), label, mc.warning_threshold);
      }
    }
  }
  const std::string rows_text = "this gateway's recent labelled rows (" + std::to_string(r.rows) + " from " +
                                FormatTimestampMs(r.from_ms) + ", " + std::to_string(r.positives) + " positive)";
  const bool beats_base = comparable && r.fleet->pr_auc > r.base_rate->pr_auc;
  const bool not_worse = comparable && (!r.current || r.fleet->pr_auc >= r.current->pr_auc);
  r.promoted = beats_base && not_worse;
  char num[96];
  if (!comparable) {
    r.decision = "not promoted: " + rows_text + " do not have both classes, so the fleet model cannot be compared";
  } else if (!beats_base) {
    std::snprintf(num, sizeof num, " (PR AUC %.4f, base rate %.4f)", r.fleet->pr_auc, r.base_rate->pr_auc);
    r.decision = "not promoted: its PR AUC is no better than the base rate's on " + rows_text + num;
  } else if (!not_worse) {
    std::snprintf(num, sizeof num, " (PR AUC %.4f < %.4f)", r.fleet->pr_auc, r.current->pr_auc);
    r.decision = "not promoted: worse than the current model " + std::to_string(r.current_id) + " on " + rows_text + num;
  } else if (r.current) {
    std::snprintf(num, sizeof num, " (PR AUC %.4f >= %.4f)", r.fleet->pr_auc, r.current->pr_auc);
    r.decision = "promoted: not worse than the current model " + std::to_string(r.current_id) + " on " + rows_text + num;
  } else if (r.current_id) {
    r.decision = "promoted: better than the base rate on " + rows_text + "; the current model " +
                 std::to_string(r.current_id) + " cannot be compared (" + r.current_unusable + ")";
  } else {
    std::snprintf(num, sizeof num, " (PR AUC %.4f > %.4f)", r.fleet->pr_auc, r.base_rate->pr_auc);
    r.decision = "promoted: the first model, better than the base rate on " + rows_text + num;
  }

  ModelRecord rec;
  rec.created_ms = clock.NowMs();
  rec.data_from_ms = m.data_from_ms;
  rec.data_to_ms = m.data_to_ms;
  rec.split_ms = m.split_ms;
  rec.train_rows = m.train_rows;
  rec.test_rows = m.test_rows;
  rec.train_positives = m.train_positives;
  rec.test_positives = m.test_positives;
  // The manifest's params, with what the registry and the scorer read: the columns (the
  // scorer's ModelColumns) and where the model came from.
  std::string params = m.params_json;
  if (params.size() < 2 || params.front() != '{') params = "{}";
  std::string extra = "\"source\":\"fleet\",\"fleet_id\":";
  AppendJsonString(m.id, &extra);
  extra += ",\"model_sha256\":\"" + m.model_sha256 + "\",\"xgboost_version\":";
  AppendJsonString(m.xgboost_version, &extra);
  extra += ",\"columns\":[";
  for (size_t i = 0; i < m.columns.size(); ++i) {
    if (i) extra += ",";
    AppendJsonString(m.columns[i], &extra);
  }
  extra += "]";
  params.pop_back();  // '}'
  rec.params_json = params + (params.size() > 1 ? "," : "") + extra + "}";
  rec.status = "training";  // until its file is in place (FailUnfinishedModels cleans up a crash)
  Result<int64_t> id = InsertModel(*db, rec);
  if (!id) return id.error();
  rec.id = r.model_id = *id;
  rec.file = data_paths::ModelFile(config.data_dir, rec.id);
  VIGIL_RETURN_IF_ERROR(lake::WriteFileAtomic(lake::PosixFileSystem::Instance(), rec.file, model_file));
  rec.status = r.promoted ? "candidate" : "rejected";
  rec.metrics_json = "{\"source\":\"fleet\",\"fleet_evaluation\":" + m.evaluation_json + ",\"gateway\":{\"rows\":" +
                     std::to_string(r.rows) + ",\"positives\":" + std::to_string(r.positives) + ",\"from_ms\":" +
                     std::to_string(r.from_ms) + ",\"model\":" + EvalJson(r.fleet) + ",\"base_rate\":" +
                     EvalJson(r.base_rate) + ",\"current\":" + EvalJson(r.current) + ",\"current_id\":" +
                     std::to_string(r.current_id) + "},\"decision\":";
  AppendJsonString(r.decision, &rec.metrics_json);
  rec.metrics_json += "}";
  VIGIL_RETURN_IF_ERROR(UpdateModel(*db, rec));
  if (r.promoted) VIGIL_RETURN_IF_ERROR(Promote(*db, rec.id, clock.NowMs()));
  return r;
}

}  // namespace vigil::model
