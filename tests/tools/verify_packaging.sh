#!/usr/bin/env bash
# Checks the packaging that cannot run here: the systemd unit passes `systemd-analyze
# verify` without a single warning (ExecStart pointed at the built binary), the compose
# file passes `docker-compose config`, and the compose demo's vigil command line starts
# (the image's files mapped into a temp dir). usage: verify_packaging.sh SOURCE_DIR VIGIL_BINARY
set -euo pipefail
trap 'echo "verify_packaging.sh: failed at line $LINENO: $BASH_COMMAND"' ERR
src=$1 bin=$2
work=$(mktemp -d) pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
sed "s|/usr/bin/vigil|$bin|g" "$src/config/vigil.service" > "$work/vigil.service"
out=$(systemd-analyze verify "$work/vigil.service" 2>&1) || { echo "$out"; exit 1; }
[ -z "$out" ] || { echo "systemd-analyze verify warns:"; echo "$out"; exit 1; }
(cd "$src" && docker-compose -f docker/docker-compose.yml config -q)

# The compose demo's vigil starts and stays up: its entrypoint and command run on the built
# binary, every file the runtime stage COPYs from the source put under $work, the image's
# paths and port 8080 mapped. No broker: vigil keeps retrying the connect meanwhile.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
map() { sed -e "s|/usr/bin/vigil-demo-entrypoint|$work/root/entrypoint|g" -e "s|/usr/bin/vigil|$bin|g" \
            -e "s|/etc/vigil/|$work/root/etc/|g" -e "s|/var/lib/vigil|$work/root/data|g" -e "s|:8080|:$port|g"; }
mkdir -p "$work/root/etc" "$work/root/data"
sed -n '/^FROM debian:12-slim/,$p' "$src/docker/Dockerfile" | awk '$1 == "COPY" && $2 !~ /^--/ {print $2, $3}' |
  while read -r from to; do
    to=$(echo "$to" | map)
    map < "$src/$from" > "$to"
    chmod --reference="$src/$from" "$to"
  done
[ -x "$work/root/entrypoint" ] || { echo "the Dockerfile does not install the demo entrypoint"; exit 1; }
mapfile -d '' argv < <(python3 - "$src/docker/docker-compose.yml" <<'PY'
import sys, yaml
svc = yaml.safe_load(open(sys.argv[1]))["services"]["vigil"]
for a in (svc.get("entrypoint") or ["/usr/bin/vigil"]) + svc["command"]:
    sys.stdout.write(a + "\0")
PY
)
for i in "${!argv[@]}"; do argv[$i]=$(printf '%s' "${argv[$i]}" | map); done
"${argv[@]}" 2> "$work/compose-vigil.log" & pid=$!
healthy=0
for _ in $(seq 50); do
  kill -0 "$pid" 2>/dev/null || break
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && { healthy=1; break; }
  sleep 0.1
done
sleep 2  # and it stays up
if [ "$healthy" != 1 ] || ! kill -0 "$pid" 2>/dev/null; then
  wait "$pid" && rc=0 || rc=$?
  echo "the compose demo's vigil did not start (exit $rc):"; cat "$work/compose-vigil.log"; exit 1
fi
token=$(cat "$work/root/data/http-token")
grep -q "demo HTTP token $token" "$work/compose-vigil.log" || { echo "the token is not in the log"; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics")" = 401 ] ||
  { echo "/metrics beyond loopback answers without the token"; exit 1; }
# Read whole, then matched: `curl | grep -q` fails under pipefail when grep stops reading early.
metrics=$(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port/metrics") ||
  { echo "/metrics refuses the demo token"; exit 1; }
grep -q '^vigil_' <<<"$metrics" || { echo "/metrics answers without vigil_ metrics"; exit 1; }
kill -TERM "$pid"
wait "$pid" || { echo "the compose demo's vigil exited $? on SIGTERM:"; cat "$work/compose-vigil.log"; exit 1; }
pid=
# The image builds as CI does (one script), from a context without a host build directory.
grep -q '^RUN .*scripts/build.sh' "$src/docker/Dockerfile" || { echo "the Dockerfile does not build with scripts/build.sh"; exit 1; }
grep -q '^scripts/build.sh' "$src/scripts/test.sh" || { echo "scripts/test.sh does not build with scripts/build.sh"; exit 1; }
grep -qx 'build\*/' "$src/.dockerignore" || { echo ".dockerignore does not leave out build*/"; exit 1; }
# The runtime image's packages exist in Debian 12 (the Dockerfile's apt-get line).
pkgs=$(sed -n '/^FROM debian:12-slim/,$p' "$src/docker/Dockerfile" | grep -oE '\b(lib[a-z0-9.+-]+[0-9]|ca-certificates)\b' | sort -u)
[ -n "$pkgs" ] || { echo "no runtime packages found in the Dockerfile"; exit 1; }
for p in $pkgs; do
  apt-cache show "$p" >/dev/null 2>&1 || { echo "Dockerfile: no Debian package $p"; exit 1; }
done
# Every shared library the binary needs comes from one of them (or from debian:12-slim).
for lib in $(objdump -p "$bin" | awk '/NEEDED/ {print $2}'); do
  # awk reads to the end: an early exit would kill ldconfig with SIGPIPE (pipefail).
  path=$(ldconfig -p | awk -v l="$lib" '$1 == l && !found {print $NF; found = 1}')
  real=$(readlink -f "$path")
  # usrmerge: dpkg may know the file under /lib rather than /usr/lib.
  pkg=$( (dpkg -S "$real" 2>/dev/null || dpkg -S "${real#/usr}" 2>/dev/null || true) | head -1 | cut -d: -f1)
  case " libc6 libstdc++6 libgcc-s1 $(echo $pkgs) " in
    *" $pkg "*) ;;
    *) echo "Dockerfile runtime stage lacks the package of $lib ($pkg)"; exit 1 ;;
  esac
done
echo "packaging ok"
