#include "cli/common_flags.h"

#include <cstdio>
#include <cstdlib>
#include <tuple>

#include "common/logging.h"
#include "common/timestamp.h"

namespace vigil::cli {

int ExitCodeFor(const Status& s) {
  if (s.ok()) return kExitOk;
  return s.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitRuntime;
}

int Fail(const std::string& command, const Status& s) {
  std::fprintf(stderr, "vigil %s: %s\n", command.c_str(), s.message().c_str());
  return ExitCodeFor(s);
}

Status ParseTimeRange(const std::string& from, const std::string& until, int64_t* from_ms,
                      int64_t* until_ms) {
  for (auto [text, out, flag] : {std::tuple{&from, from_ms, "--from"}, std::tuple{&until, until_ms, "--until"}}) {
    if (text->empty()) continue;
    Result<int64_t> t = ParseDateOrTimestampMs(*text);
    if (!t) return Status::InvalidArgument(std::string(flag) + ": " + t.error().message());
    *out = *t;
  }
  return Status::Ok();
}

void CommonFlags::Add(CLI::App* app, bool broker) {
  app->add_option("--config", config_path, "TOML config file (see config/vigil.toml)")
      ->check(CLI::ExistingFile);
  app->add_option("--data-dir", data_dir, "Data directory (overrides data_dir)");
  if (broker) {
    app->add_option("--host", host, "Broker host (overrides mqtt.host)");
    app->add_option("--port", port, "Broker port (overrides mqtt.port)")->check(CLI::Range(1, 65535));
    app->add_option("--client-id", client_id,
                    "MQTT client id; the persistent session is tied to it (overrides mqtt.client_id)");
  }
  app->add_option("--log-level", log_level, "trace, debug, info, warn or error (overrides log.level)");
  app->add_option("--log-format", log_format, "text or json (overrides log.format)");
}

Result<Config> CommonFlags::Resolve() const {
  Config c;
  if (!config_path.empty()) {
    Result<Config> loaded = LoadConfigFile(config_path);
    if (!loaded) return loaded.error();
    c = std::move(*loaded);
  }
  if (!data_dir.empty()) c.data_dir = data_dir;
  if (!host.empty()) c.mqtt.host = host;
  if (port != 0) c.mqtt.port = port;
  if (!client_id.empty()) c.mqtt.client_id = client_id;
  if (!log_level.empty()) c.log.level = log_level;
  if (!log_format.empty()) c.log.format = log_format;
  if (const char* u = std::getenv("VIGIL_MQTT_USERNAME"); u && *u) c.mqtt.username = u;
  if (const char* p = std::getenv("VIGIL_MQTT_PASSWORD"); p && *p) {
    c.mqtt.password = p;
  } else if (!c.mqtt.password_file.empty()) {
    Result<std::string> pw = ReadSecretFile("mqtt.password_file", c.mqtt.password_file);
    if (!pw) return pw.error();
    c.mqtt.password = std::move(*pw);
  }
  if (const char* a = std::getenv("VIGIL_S3_ACCESS_KEY_ID"); a && *a) c.upload.access_key_id = a;
  if (const char* k = std::getenv("VIGIL_S3_SECRET_ACCESS_KEY"); k && *k) {
    c.upload.secret_access_key = k;
  } else if (!c.upload.secret_key_file.empty()) {
    Result<std::string> key = ReadSecretFile("upload.secret_key_file", c.upload.secret_key_file);
    if (!key) return key.error();
    c.upload.secret_access_key = std::move(*key);
  }
  if (Status s = CheckConfig(c); !s.ok()) {
    return Status::InvalidArgument("invalid configuration" +
                                   (config_path.empty() ? "" : " (" + config_path + ")") + ":\n" +
                                   s.message());
  }
  VIGIL_RETURN_IF_ERROR(SetupLogging(c.log.level, c.log.format));
  return c;
}

}  // namespace vigil::cli
