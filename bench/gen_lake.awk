# Generates a raw lake for bench/process.sh: M machines, vibration + temperature every
# second from T0 + START s for SECS seconds, 2% duplicates (same key, received later) and
# 1% late lines (event time up to an hour back, at the end of the segment; from START + 1 h
# on, or from LATE_FROM s on when given: a continuation's late lines reach into the past).
# A failure event at mid-span on every 7th machine, unless FAILURES=0. With -v S=N: N
# channels s00..s<N-1> (field = name, values as vibration's) instead of the two sensors.
# usage: awk -v DIR=lake/raw -v M=100 -v START=0 -v SECS=50000 -v TAG=a [-v LATE_FROM=S] [-v FAILURES=0] [-v S=N] -f gen_lake.awk
function ts(sec, ms,   d, h, m, s) {
  d = int(sec / 86400); sec -= d * 86400; h = int(sec / 3600); m = int((sec % 3600) / 60); s = sec % 60
  return sprintf("2025-10-%02dT%02d:%02d:%02d.%03dZ", 15 + d, h, m, s, ms)
}
function day(sec) { return sprintf("2025-10-%02d", 15 + int(sec / 86400)) }
BEGIN {
  srand(42 + START)
  if (LATE_FROM == "") LATE_FROM = START + 3600
  for (mi = 1; mi <= M; mi++) {
    id = sprintf("M%03d", mi)
    for (k = 0; k < (S ? S : 2); k++) {
      kind = k ? "temperature" : "vibration"; field = k ? "temperature_celsius" : "vibration_rms"
      if (S) { kind = sprintf("s%02d", k); field = kind }  # a wide plant: S channels s00, s01, ...
      file = ""; late = ""
      for (i = START; i < START + SECS; i++) {
        f = DIR "/date=" day(i) "/machine_id=" id "/" kind "-" TAG ".jsonl"
        if (f != file) { if (file != "") { printf "%s", late >> file; close(file); late = "" } file = f; system("mkdir -p " DIR "/date=" day(i) "/machine_id=" id) }
        ms = int(rand() * 1000)
        v = k ? sprintf("%.1f", 60 + 20 * rand()) : sprintf("%.2f", 10 * rand())
        line = "{\"received_at\":\"" ts(i + 1, ms) "\",\"topic\":\"industrial/machine/" id "/telemetry/" kind "\",\"payload\":{\"machine_id\":\"" id "\",\"timestamp_utc\":\"" ts(i, ms) "\",\"" field "\":" v "}}"
        if (rand() < 0.01 && i > LATE_FROM) {
          j = i - int(rand() * 3600)
          late = late "{\"received_at\":\"" ts(i + 2, ms) "\",\"topic\":\"industrial/machine/" id "/telemetry/" kind "\",\"payload\":{\"machine_id\":\"" id "\",\"timestamp_utc\":\"" ts(j, 999) "\",\"" field "\":" v "}}\n"
        }
        print line >> file
        if (rand() < 0.02) print "{\"received_at\":\"" ts(i + 3, ms) "\",\"topic\":\"industrial/machine/" id "/telemetry/" kind "\",\"payload\":{\"machine_id\":\"" id "\",\"timestamp_utc\":\"" ts(i, ms) "\",\"" field "\":" v "}}" >> file
      }
      printf "%s", late >> file; close(file)
    }
    if (FAILURES != "0" && mi % 7 == 0) {  # some failures
      f = DIR "/date=" day(START) "/machine_id=" id "/failure-" TAG ".jsonl"
      print "{\"received_at\":\"" ts(START + SECS / 2, 0) "\",\"topic\":\"industrial/machine/" id "/event/failure\",\"payload\":{\"machine_id\":\"" id "\",\"timestamp_utc\":\"" ts(START + SECS / 2, 0) "\",\"codigo_evento\":\"FALHA\"}}" >> f
      close(f)
    }
  }
}
