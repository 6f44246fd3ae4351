#!/usr/bin/env bash
# The OneWindow web front for local runs: Debian's nginx as the current user on 127.0.0.1:8080,
# serving web/ and routing /api/<service>/ to the local services (deploy/local/services.sh).
#
#   deploy/local/web.sh install   apt-get install nginx and chromium when missing (root)
#   deploy/local/web.sh up        render var/nginx/nginx.conf and start (or reload) nginx
#   deploy/local/web.sh down      stop it
#   deploy/local/web.sh status
#
# ONEWINDOW_WEB_PORT (8080) and ONEWINDOW_WEB_HOST (127.0.0.1) move it; logs in var/log/nginx-*.log.
# The internal listener (every service path: metrics, health, docs, admin) is on 127.0.0.1 only,
# port ONEWINDOW_WEB_INTERNAL_PORT (8081).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VAR="${ONEWINDOW_VAR:-$ROOT/var}"
PORT="${ONEWINDOW_WEB_PORT:-8080}"
HOST="${ONEWINDOW_WEB_HOST:-127.0.0.1}"
INTERNAL_PORT="${ONEWINDOW_WEB_INTERNAL_PORT:-8081}"
NGINX_DIR="$VAR/nginx"
CONF="$NGINX_DIR/nginx.conf"
PIDFILE="$VAR/run/nginx.pid"
NGINX="${NGINX:-/usr/sbin/nginx}"

say() { echo "web.sh: $*"; }
fail() { echo "web.sh: error: $*" >&2; exit 1; }

install() {
  local missing=()
  [ -x /usr/sbin/nginx ] || missing+=(nginx)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  if [ ${#missing[@]} -eq 0 ]; then say "nginx and chromium already installed"; return; fi
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  say "installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

port_taken() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# The text between "# --- <name> begin" and "# --- <name> end" in compose.conf, into var/nginx/<name>.conf.
cut_part() {
  sed -n "/# --- $1 begin/,/# --- $1 end/p" "$ROOT/deploy/nginx/compose.conf" >"$NGINX_DIR/$1.conf"
  [ -s "$NGINX_DIR/$1.conf" ] || fail "no $1 part between the markers in deploy/nginx/compose.conf"
}

render() {
  mkdir -p "$NGINX_DIR"/{client_body,proxy,fastcgi,uwsgi,scgi} "$VAR/run" "$VAR/log"
  # The log format and routes are compose.conf's, so local runs and docker-compose serve the same paths.
  cut_part http; cut_part routes; cut_part internal
  sed -e "s|@USER@|$(id -un)|g" -e "s|@GROUP@|$(id -gn)|g" -e "s|@VAR@|$VAR|g" \
      -e "s|@WEB@|$ROOT/web|g" -e "s|@PORT@|$PORT|g" -e "s|@HOST@|$HOST|g" \
      -e "s|@INTERNAL_PORT@|$INTERNAL_PORT|g" \
      "$ROOT/deploy/nginx/local.conf.template" >"$CONF.tmp"
  mv "$CONF.tmp" "$CONF"
}

nginx_cmd() { "$NGINX" -p "$NGINX_DIR" -e "$VAR/log/nginx-error.log" -c "$CONF" "$@"; }

up() {
  [ -x "$NGINX" ] || fail "nginx is not installed: run deploy/local/web.sh install"
  render
  nginx_cmd -t -q || fail "the rendered config $CONF is invalid (see above)"
  if running; then
    nginx_cmd -s reload
    say "nginx already running (pid $(cat "$PIDFILE")); config reloaded; http://$HOST:$PORT/"
    return
  fi
  if port_taken "$HOST" "$PORT"; then
    fail "port $PORT on $HOST is taken by another program; stop it or set ONEWINDOW_WEB_PORT"
  fi
  if port_taken 127.0.0.1 "$INTERNAL_PORT"; then
    fail "port $INTERNAL_PORT on 127.0.0.1 is taken by another program; stop it or set ONEWINDOW_WEB_INTERNAL_PORT"
  fi
  nginx_cmd
  local deadline=$((SECONDS + 10))
  until curl -fsS "http://$HOST:$PORT/healthz" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "nginx did not answer on $HOST:$PORT; see $VAR/log/nginx-error.log"
    sleep 0.2
  done
  say "nginx started (pid $(cat "$PIDFILE")): http://$HOST:$PORT/"
}

down() {
  if ! running; then say "nginx not running"; rm -f "$PIDFILE"; return; fi
  local pid; pid="$(cat "$PIDFILE")"
  kill -QUIT "$pid"  # graceful: finish open requests (SSE streams are cut; clients reconnect)
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" || true
  rm -f "$PIDFILE"
  say "nginx stopped"
}

status() {
  if running; then say "nginx running (pid $(cat "$PIDFILE")) on http://$HOST:$PORT/"; else say "nginx stopped"; return 3; fi
}

case "${1:-}" in
  install) install ;; up) up ;; down) down ;; status) status ;;
  *) echo "usage: $0 install|up|down|status" >&2; exit 2 ;;
esac
