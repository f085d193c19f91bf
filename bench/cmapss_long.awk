# NASA C-MAPSS (train_FD00x.txt / test_FD00x.txt: unit cycle op1..op3 s1..s21, space
# separated) -> the contract's long CSV (machine_id,timestamp_utc,sensor,value), one row per
# channel. One cycle = one hour from 2025-01-01T00:00Z (cycle 24 is 2025-01-02T00:00Z); the
# machine id is ID-<unit, 3 digits>. The one conversion of C-MAPSS in the project
# (bench/import_wide.sh, bench/cmapss.sh).
# usage: awk -v NAMES="op1 op2 op3 s01 .. s21" -v ID=ENG-1 [-v HEADER=1] -f bench/cmapss_long.awk FILE
BEGIN {
  n = split(NAMES, name, " ")
  if (HEADER) print "machine_id,timestamp_utc,sensor,value"
}
NF >= n + 2 {
  day = int($2 / 24); h = $2 % 24
  # 2025-01-01 + day: January has room for the 362 cycles (16 days) of FD001's longest engine
  if (day > 30) { print "cmapss_long.awk: cycle " $2 " is past January" > "/dev/stderr"; exit 1 }
  ts = sprintf("2025-01-%02dT%02d:00:00Z", 1 + day, h)
  for (c = 1; c <= n; c++) printf "%s-%03d,%s,%s,%s\n", ID, $1, ts, name[c], $(c + 2)
}
