#include "common/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "common/json_text.h"

namespace vigil {
namespace {

// %j: the message as a JSON string literal, so JSON log lines stay valid whatever the text.
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string out;
    std::string_view v(msg.payload.data(), msg.payload.size());
    if (IsValidUtf8(v)) AppendJsonString(v, &out);
    else AppendJsonString("<non-UTF-8 log message>", &out);
    dest.append(out.data(), out.data() + out.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

}  // namespace

Status SetupLogging(const std::string& level, const std::string& format) {
  spdlog::level::level_enum lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off")
    return Status::InvalidArgument("unknown log level '" + level + "'");
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  if (format == "json") {
    formatter->add_flag<JsonMessageFlag>('j').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","logger":"%n","msg":%j})");
  } else if (format == "text") {
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ [%n] %v");
  } else {
    return Status::InvalidArgument("unknown log format '" + format + "' (text or json)");
  }
  sink->set_formatter(std::move(formatter));
  spdlog::drop_all();
  auto logger = std::make_shared<spdlog::logger>("vigil", sink);
  logger->set_level(lvl);
  spdlog::set_default_logger(logger);
  spdlog::set_level(lvl);
  return Status::Ok();
}

std::shared_ptr<spdlog::logger> GetLogger(const std::string& name) {
  if (auto l = spdlog::get(name)) return l;
  auto base = spdlog::default_logger();
  auto l = std::make_shared<spdlog::logger>(name, base->sinks().begin(), base->sinks().end());
  l->set_level(base->level());
  try {
    spdlog::register_logger(l);
  } catch (const spdlog::spdlog_ex&) {  // registered concurrently by another thread
    if (auto existing = spdlog::get(name)) return existing;
  }
  return l;
}

}  // namespace vigil
