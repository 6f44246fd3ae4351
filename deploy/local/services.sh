#!/usr/bin/env bash
# Starts and stops the five OneWindow services as local processes (no Docker).
#
#   deploy/local/services.sh up       start what is not running, wait until each is ready
#   deploy/local/services.sh down     stop them (SIGTERM: graceful; fine when nothing runs)
#   deploy/local/services.sh status
#
# Ports: catalog 8001, ticketing 8002 (+ replicas 8012, 8022 with TICKETING_REPLICAS=2|3),
# appointments 8003, feedback 8004, notifier 8005 (its main consumer group: NOTIFIER_CONSUMERS=messages)
# and notifier-board 8015 (the hall's calls, NOTIFIER_CONSUMERS=board: a process of its own, so the
# calls never share an event loop with the messages' bulk work). Logs in var/log/<instance>-<port>.log.
# ONEWINDOW_KAFKA_SECURE=1: each service signs in to the Kafka of `infra.sh up --secure` as its own
# principal (SASL_SSL, passwords and CA from var/kafka-secure/).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VAR="${ONEWINDOW_VAR:-$ROOT/var}"
LOG_DIR="$VAR/log"; RUN_DIR="$VAR/run"
mkdir -p "$LOG_DIR" "$RUN_DIR"
REPLICAS="${TICKETING_REPLICAS:-1}"
READY_TIMEOUT="${ONEWINDOW_READY_TIMEOUT:-90}"

instances() {
  echo "catalog 8001"
  local i
  for ((i = 0; i < REPLICAS; i++)); do echo "ticketing $((8002 + 10 * i))"; done
  echo "appointments 8003"; echo "feedback 8004"; echo "notifier 8005"; echo "notifier-board 8015"
}

# The service an instance runs (its package, env prefix and Kafka principal) and the settings that
# make it that instance: notifier-board is the notifier running only the board's consumer group.
service_of() { echo "${1%-board}"; }
instance_env() {
  case "$1" in
    notifier) echo "NOTIFIER_CONSUMERS=messages" ;;
    notifier-board) echo "NOTIFIER_CONSUMERS=board" ;;
  esac
}

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

SECURE_DIR="$VAR/kafka-secure"
kafka_principal() { # kafka_principal NAME: NAME's Kafka sign-in settings (none unless ONEWINDOW_KAFKA_SECURE=1)
  [[ "${ONEWINDOW_KAFKA_SECURE:-0}" == 1 ]] || return 0
  local var; var="ONEWINDOW_KAFKA_PASSWORD_$(echo "$1" | tr a-z A-Z)"
  echo "ONEWINDOW_KAFKA_SASL_USERNAME=$1 ONEWINDOW_KAFKA_SASL_PASSWORD=${!var}" \
    "ONEWINDOW_KAFKA_USE_SSL=true ONEWINDOW_KAFKA_SSL_CAFILE=$SECURE_DIR/ca.pem"
}

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

up() {
  local secrets; secrets="$("$ROOT/deploy/local/secrets.sh")"
  set -a; . "$secrets"; set +a
  if [[ "${ONEWINDOW_KAFKA_SECURE:-0}" == 1 ]]; then
    [[ -s "$SECURE_DIR/credentials.env" ]] \
      || { echo "services.sh: error: no $SECURE_DIR/credentials.env: run deploy/local/infra.sh up --secure first" >&2; exit 1; }
    set -a; . "$SECURE_DIR/credentials.env"; set +a
  fi
  local name port service upper pidfile
  while read -r name port; do
    pidfile="$RUN_DIR/$name-$port.pid"
    if running "$pidfile"; then echo "services.sh: $name on :$port already running"; continue; fi
    if port_taken "$port"; then
      echo "services.sh: error: port $port (for $name) is taken by another program; stop it or free the port" >&2
      exit 1
    fi
    service="$(service_of "$name")"
    upper="$(echo "$service" | tr a-z A-Z)"
    # shellcheck disable=SC2046  # kafka_principal's and instance_env's words are NAME=VALUE pairs without spaces
    env $(kafka_principal "$service") $(instance_env "$name") \
      "${upper}_HTTP_PORT=$port" "${upper}_HTTP_HOST=${ONEWINDOW_HTTP_HOST:-127.0.0.1}" \
      nohup "$ROOT/.venv/bin/python" -m "$service" >>"$LOG_DIR/$name-$port.log" 2>&1 &
    echo $! >"$pidfile"
    echo "services.sh: started $name on :$port (log $LOG_DIR/$name-$port.log)"
  done < <(instances)
  while read -r name port; do
    local deadline=$((SECONDS + READY_TIMEOUT))
    until curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1; do
      if ! running "$RUN_DIR/$name-$port.pid"; then
        echo "services.sh: error: $name on :$port exited; last log lines:" >&2
        tail -n 20 "$LOG_DIR/$name-$port.log" >&2; exit 1
      fi
      if ((SECONDS > deadline)); then
        echo "services.sh: error: $name on :$port not ready after ${READY_TIMEOUT}s; see $LOG_DIR/$name-$port.log" >&2
        curl -sS "http://127.0.0.1:$port/health/ready" >&2 || true; exit 1
      fi
      sleep 0.5
    done
    echo "services.sh: $name on :$port ready"
  done < <(instances)
  # The demo catalog (idempotent: a second run creates nothing).
  if [ "${ONEWINDOW_SKIP_SEED:-0}" != 1 ]; then
    # shellcheck disable=SC2046
    env $(kafka_principal catalog) "$ROOT/.venv/bin/python" -m catalog.seed >>"$LOG_DIR/seed.log" 2>&1 \
      || { echo "services.sh: error: catalog seed failed; see $LOG_DIR/seed.log" >&2; exit 1; }
    echo "services.sh: demo catalog loaded (staff password in $secrets)"
  fi
}

down() {
  local pidfile pid
  for pidfile in "$RUN_DIR"/{catalog,ticketing,appointments,feedback,notifier}-*.pid; do # notifier-* takes notifier-board too
    [ -f "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" || true
      echo "services.sh: stopped $(basename "$pidfile" .pid)"
    fi
    rm -f "$pidfile"
  done
}

status() {
  local code=0 name port
  while read -r name port; do
    if running "$RUN_DIR/$name-$port.pid"; then echo "$name :$port running (pid $(cat "$RUN_DIR/$name-$port.pid")), consumer lag: $(curl -s --max-time 2 "http://127.0.0.1:$port/metrics" | awk -f "$ROOT/deploy/local/consumer-lag.awk")"
      if [[ $name == ticketing ]]; then # which ownership partitions (and so offices) this replica holds
        echo "  owns partitions: $(curl -s --max-time 2 "http://127.0.0.1:$port/metrics" | awk -F'"' '/^onewindow_ticketing_owned_partition\{/ { p = p " " $2 } END { print (p ? substr(p, 2) : "none") }'), offices loaded: $(curl -s --max-time 2 "http://127.0.0.1:$port/metrics" | awk '/^onewindow_ticketing_offices_owned / { print $2 + 0 }')"
      fi
    else echo "$name :$port stopped"; code=3; fi
  done < <(instances)
  return $code
}

case "${1:-}" in
  up) up ;; down) down ;; status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
