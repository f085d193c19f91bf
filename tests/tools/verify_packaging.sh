#!/usr/bin/env bash
# Checks the packaging that cannot run here: the systemd unit passes `systemd-analyze
# verify` without a single warning (ExecStart pointed at the built binary), and the compose
# file passes `docker-compose config`. usage: verify_packaging.sh SOURCE_DIR VIGIL_BINARY
set -euo pipefail
trap 'echo "verify_packaging.sh: failed at line $LINENO: $BASH_COMMAND"' ERR
src=$1 bin=$2
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
sed "s|/usr/bin/vigil|$bin|g" "$src/config/vigil.service" > "$work/vigil.service"
out=$(systemd-analyze verify "$work/vigil.service" 2>&1) || { echo "$out"; exit 1; }
[ -z "$out" ] || { echo "systemd-analyze verify warns:"; echo "$out"; exit 1; }
(cd "$src" && docker-compose -f docker/docker-compose.yml config -q)
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
