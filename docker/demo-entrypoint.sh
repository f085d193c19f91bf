#!/bin/sh
# The compose demo's entrypoint for `vigil run` (demo only): creates a random HTTP access
# token in the data volume once, prints it (docker compose logs vigil), then runs vigil.
# vigil refuses to listen beyond loopback without a token (http.token_file).
set -eu
token=/var/lib/vigil/http-token
if [ ! -s "$token" ]; then
  # Written aside and renamed: a half-written token never sits under the final name.
  (umask 077 && od -An -N32 -tx1 /dev/urandom | tr -d ' \n' > "$token.tmp" && echo >> "$token.tmp")
  mv "$token.tmp" "$token"
fi
t=$(cat "$token")
echo "demo HTTP token $t: open http://127.0.0.1:8080/?token=$t once, or send 'Authorization: Bearer $t'" >&2
exec /usr/bin/vigil "$@"
