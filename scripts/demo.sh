#!/usr/bin/env bash
# The whole pleoauth flow on one machine, against the bundled authorization server:
# start the devserver, log in, print a token, call /v2/employees with it, stop the server.
#
# By default a scripted "browser" (curl following redirects) approves the login. With
# DEMO_BROWSER=1 the real browser opens the devserver's login page (user demo, password demo).
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'kill "${server_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

echo "==> building pleoauth and pleoauth-devserver" >&2
go build -o "$work/bin/" ./cmd/pleoauth ./cmd/pleoauth-devserver

# One random client secret, given to both sides through the environment, never through argv.
secret=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
export PLEOAUTH_DEVSERVER_CLIENT_SECRET=$secret PLEOAUTH_CLIENT_SECRET=$secret
# A throwaway home and the file store keep the demo from touching your keychain or real logins.
export PLEOAUTH_HOME=$work/home PLEOAUTH_ENV=local PLEOAUTH_STORE=file

approve=(--auto-approve)
[ "${DEMO_BROWSER:-}" = 1 ] && approve=()
echo "==> starting the devserver on a free loopback port" >&2
"$work/bin/pleoauth-devserver" --addr 127.0.0.1:0 "${approve[@]}" >"$work/server.url" &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/server.url" ] && break; sleep 0.1; done
server=$(head -n1 "$work/server.url")
[ -n "$server" ] || { echo "the devserver did not start" >&2; exit 1; }
export PLEOAUTH_AUTH_SERVER_URL=$server PLEOAUTH_API_URL=$server

echo "==> pleoauth login --env local" >&2
if [ "${DEMO_BROWSER:-}" = 1 ]; then
  "$work/bin/pleoauth" login
else
  BROWSER="curl -fsS -L -o /dev/null" "$work/bin/pleoauth" login
fi

echo "==> pleoauth token --env local" >&2
token=$("$work/bin/pleoauth" token)
echo "access token: ${token:0:12}… (${#token} characters)"

echo "==> GET $server/v2/employees with the token" >&2
curl -fsS -H "Authorization: Bearer $token" -H "Accept: application/json" "$server/v2/employees"
echo
echo "==> the devserver served:" >&2
curl -fsS "$server/debug/stats"
