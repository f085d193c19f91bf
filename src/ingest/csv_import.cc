#include "ingest/csv_import.h"

#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>

#include "common/csv.h"
#include "common/json_text.h"

namespace vigil::ingest {
namespace {

// A JSON number literal as written in the cell, or nullopt when the cell is not one (then
// it is passed as a JSON string and the validator reports bad_value).
bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  if (s[i] == '0') ++i;
  else while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start) return false;
  }
  return i == s.size();
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// {"machine_id":..,"timestamp_utc":..,"<key>":<value>} with value a number when it is one.
std::string Payload(std::string_view machine_id, std::string_view ts, std::string_view key,
                    std::string_view value, bool as_number) {
  std::string p = "{\"machine_id\":";
  AppendJsonString(IsValidUtf8(machine_id) ? machine_id : "", &p);
  p += ",\"timestamp_utc\":";
  AppendJsonString(IsValidUtf8(ts) ? ts : "", &p);
  p += ",";
  AppendJsonString(key, &p);
  p += ":";
  if (as_number && IsJsonNumber(value)) p.append(value);
  else AppendJsonString(IsValidUtf8(value) ? value : "", &p);
  p += "}";
  return p;
}

// The machine id as a topic level: a '/' or a wildcard in a CSV cell must not change the
// topic's shape, so the validator judges it as the machine id it is (bad_machine_id).
std::string TopicLevel(std::string_view id) {
  std::string out;
  for (char c : id) {
    if (c == '/') out += "%2F";
    else if (c == '+') out += "%2B";
    else if (c == '#') out += "%23";
    else out.push_back(c);
  }
  return out;
}

Status HeaderError(const std::string& path, const std::string& why) {
  return Status::InvalidArgument(path + ":1: " + why);
}

}  // namespace

Result<CsvFormat> ParseCsvFormat(std::string_view name) {
  if (name == "long") return CsvFormat::kLong;
  if (name == "wide") return CsvFormat::kWide;
  if (name == "failures") return CsvFormat::kFailures;
  return Status::InvalidArgument("unknown CSV format '" + std::string(name) +
                                 "' (long, wide or failures)");
}

CsvImporter::CsvImporter(const Config& config, IngestSink& sink, Clock& clock)
    : config_(config), sink_(sink), clock_(clock) {}

Status CsvImporter::Emit(const std::string& topic, const std::string& payload,
                         const std::string& file, int64_t line, const std::string& column,
                         ImportReport* report) {
  report->messages++;
  std::optional<Rejection> rejection;
  VIGIL_RETURN_IF_ERROR(sink_.Accept(RawMessage{topic, payload, clock_.NowMs()}, &rejection));
  if (!rejection) {
    report->accepted++;
    return Status::Ok();
  }
  report->rejected++;
  if (report->rejections.size() < ImportReport::kMaxListed) {
    report->rejections.push_back({file, line, column, rejection->reason, rejection->detail});
  }
  return Status::Ok();
}

Result<CsvLayout> ParseCsvHeader(const Config& config, CsvFormat format, std::vector<std::string> row) {
  for (std::string& h : row) h = std::string(Trim(h));
  CsvLayout layout;
  layout.format = format;
  layout.width = row.size();
  if (row.size() < 3 || row[0] != "machine_id" || row[1] != "timestamp_utc") {
    return Status::InvalidArgument("the header must start with machine_id,timestamp_utc");
  }
  if (format == CsvFormat::kLong &&
      (row.size() != 4 || row[2] != "sensor" || row[3] != "value")) {
    return Status::InvalidArgument("long format header: machine_id,timestamp_utc,sensor,value");
  }
  if (format == CsvFormat::kFailures &&
      (row.size() != 3 || (row[2] != "codigo_evento" && row[2] != "event_code"))) {
    return Status::InvalidArgument("failures format header: machine_id,timestamp_utc,codigo_evento (or event_code)");
  }
  if (format == CsvFormat::kFailures) layout.event_key = row[2];
  if (format == CsvFormat::kWide) {
    for (size_t i = 2; i < row.size(); ++i) {
      const SensorSpec* sensor = nullptr;
      for (const SensorSpec& s : config.sensors) {
        if (s.field == row[i]) sensor = &s;
      }
      if (!sensor) {
        std::string fields;
        for (const SensorSpec& s : config.sensors) fields += (fields.empty() ? "" : ", ") + s.field;
        return Status::InvalidArgument("column '" + row[i] + "' is not the field of a configured sensor (" + fields + ")");
      }
      // A field twice would give a row two readings of one (machine, sensor, time) that
      // may differ, one of which the processor drops: ambiguous, so refused.
      for (auto [col, seen] : layout.wide) {
        if (seen == sensor) {
          return Status::InvalidArgument("column '" + row[i] + "' appears twice (columns " + std::to_string(col + 1) +
                                         " and " + std::to_string(i + 1) + "): keep one");
        }
      }
      layout.wide.emplace_back(i, sensor);
    }
  }
  return layout;
}

bool CsvRowMessages(const Config& config, const CsvLayout& layout, const std::vector<std::string>& row,
                    std::vector<CsvMessage>* out, std::string* why) {
  out->clear();
  if (row.size() != layout.width) {
    *why = "expected " + std::to_string(layout.width) + " fields, found " + std::to_string(row.size());
    return false;
  }
  const std::string prefix = config.mqtt.topic_prefix + "/";
  std::string_view id = Trim(row[0]), ts = Trim(row[1]);
  switch (layout.format) {
    case CsvFormat::kLong: {
      std::string_view sensor_name = Trim(row[2]);
      const SensorSpec* sensor = config.FindSensor(sensor_name);
      std::string field = sensor ? sensor->field : std::string(sensor_name);
      out->push_back({prefix + TopicLevel(id) + "/telemetry/" + std::string(sensor_name),
                      Payload(id, ts, field, Trim(row[3]), true), ""});
      break;
    }
    case CsvFormat::kWide:
      for (auto [col, sensor] : layout.wide) {
        std::string_view cell = Trim(row[col]);
        if (cell.empty()) continue;
        out->push_back({prefix + TopicLevel(id) + "/telemetry/" + sensor->name,
                        Payload(id, ts, sensor->field, cell, true), sensor->field});
      }
      break;
    case CsvFormat::kFailures:
      out->push_back({prefix + TopicLevel(id) + "/event/failure",
                      Payload(id, ts, layout.event_key, Trim(row[2]), false), ""});
      break;
  }
  return true;
}

Status CsvImporter::ImportFile(const std::string& path, CsvFormat format, ImportReport* report,
                               const std::function<void(int64_t, int64_t)>& progress) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) return Status::IoError("cannot open " + path + ": " + std::strerror(errno));
  struct stat st {};
  const int64_t total = ::fstat(fileno(f.get()), &st) == 0 ? st.st_size : 0;
  csv::Reader reader(f.get());
  std::vector<std::string> row;
  int64_t line = 0;
  if (!reader.Next(&row, &line)) return HeaderError(path, "empty file: a header row is needed");
  Result<CsvLayout> layout = ParseCsvHeader(config_, format, std::move(row));
  if (!layout) return HeaderError(path, layout.error().message());

  int64_t next_progress = 0;
  std::vector<CsvMessage> messages;
  std::string why;
  while (reader.Next(&row, &line)) {
    report->rows++;
    if (progress && reader.bytes_read() >= next_progress) {
      progress(reader.bytes_read(), total);
      next_progress = reader.bytes_read() + (1 << 20);
    }
    if (!CsvRowMessages(config_, *layout, row, &messages, &why)) {
      // Still validated like a message would be: the cells we have are not trustworthy, so
      // the record is quarantined as it is, with the reason.
      std::string text;
      for (size_t i = 0; i < row.size(); ++i) text += (i ? "," : "") + row[i];
      report->messages++;
      report->rejected++;
      std::optional<Rejection> r;
      VIGIL_RETURN_IF_ERROR(sink_.Accept(RawMessage{"csv:" + path, text, clock_.NowMs()}, &r));
      if (report->rejections.size() < ImportReport::kMaxListed) {
        report->rejections.push_back({path, line, "", r ? r->reason : Reason::kBadJson, why});
      }
      continue;
    }
    for (const CsvMessage& m : messages) {
      VIGIL_RETURN_IF_ERROR(Emit(m.topic, m.payload, path, line, m.column, report));
    }
  }
  if (std::ferror(f.get())) return Status::IoError("read " + path + ": " + std::strerror(errno));
  if (progress) progress(total, total);
  return Status::Ok();
}

}  // namespace vigil::ingest
