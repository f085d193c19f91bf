// Folder src/common/: what every folder may use (config, clock, timestamps, logging, JSON
// text, locks, signals, systemd, data-directory paths). Calls nothing of vigil but
// include/vigil/.
//
// Every file name in the data directory outside the lake, in one place (the lake's own
// names are in lake/paths.h):
//
//   <data_dir>/vigil.db                   the feature store, model registry, predictions
//   <data_dir>/vigil.db.rebuild           `vigil reprocess` builds here, then swaps it in
//   <data_dir>/run.lock                   held by `vigil run`
//   <data_dir>/process.lock               held by whoever processes (run, process, reprocess)
//   <data_dir>/models/model-<id>.json     trained models (the registry names them)
//   <data_dir>/simulate/state             the simulator's resumable state
//   <data_dir>/simulate/simulate.lock     held by `vigil simulate`
#pragma once

#include <cstdint>
#include <string>

namespace vigil::data_paths {

inline std::string Database(const std::string& data_dir) { return data_dir + "/vigil.db"; }
inline std::string RebuildDatabase(const std::string& data_dir) { return Database(data_dir) + ".rebuild"; }
inline std::string RunLock(const std::string& data_dir) { return data_dir + "/run.lock"; }
inline std::string ProcessLock(const std::string& data_dir) { return data_dir + "/process.lock"; }
// Held by a running `vigil train` (or vigil run's retraining): a models row still
// "training" while nobody holds it is a training that died.
inline std::string TrainLock(const std::string& data_dir) { return data_dir + "/train.lock"; }
inline std::string ModelsDir(const std::string& data_dir) { return data_dir + "/models"; }
inline std::string ModelFile(const std::string& data_dir, int64_t id) {
  return ModelsDir(data_dir) + "/model-" + std::to_string(id) + ".json";
}
inline std::string SimulateDir(const std::string& data_dir) { return data_dir + "/simulate"; }
inline std::string SimulateState(const std::string& data_dir) { return SimulateDir(data_dir) + "/state"; }
inline std::string SimulateLock(const std::string& data_dir) { return SimulateDir(data_dir) + "/simulate.lock"; }

}  // namespace vigil::data_paths
