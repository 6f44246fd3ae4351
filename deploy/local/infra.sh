#!/usr/bin/env bash
# OneWindow local infrastructure without Docker: Apache Kafka (KRaft, one node, or a cluster of
# combined broker+controller nodes) and FerretDB, all on loopback.
#
#   deploy/local/infra.sh install   fetch Kafka jars (Maven) and build FerretDB (Go) into the cache
#   deploy/local/infra.sh up        install if needed, start both, wait until ready, create topics
#   deploy/local/infra.sh down      stop both (fine when nothing runs)
#   deploy/local/infra.sh status    show what runs (exit 0 when both run, 3 otherwise)
#   deploy/local/infra.sh logs [kafka|kafka-N|ferretdb] [-f]
#
# Options of up/down/status (after the command):
#   --brokers N     N Kafka nodes (default 1, or ONEWINDOW_KAFKA_BROKERS). N > 1: node i listens on
#                   ONEWINDOW_KAFKA_PORT+i-1 (controller ONEWINDOW_KAFKA_CONTROLLER_PORT+i-1), keeps
#                   its data in $ONEWINDOW_VAR/kafka-cluster/node-i and logs in log/kafka-i/;
#                   topics get replication factor min(3, N) and min.insync.replicas 2 (N >= 3).
#                   `up` restarts only the nodes that are down (after a kill -9, say).
#   --kafka-only    Kafka only, no PostgreSQL/FerretDB (a cluster beside the shared store)
#   --secure        one Kafka node with SASL_SSL (SCRAM-SHA-512) and ACLs on ONEWINDOW_KAFKA_PORT:
#                   a self-signed certificate made with the JDK's keytool, a SCRAM principal
#                   `admin` (super user) and one per service with the ACLs of
#                   deploy/kafka-security/acls.sh (applied with the jars' tools; ~1-3 min the first
#                   time). Certificates, passwords and client settings in $ONEWINDOW_VAR/kafka-secure/:
#                   credentials.env (ONEWINDOW_KAFKA_PASSWORD_<SERVICE>, ..._ADMIN), ca.pem (the CA for
#                   ONEWINDOW_KAFKA_SSL_CAFILE), admin.properties (for the Kafka tools).
#
# Environment (all optional):
#   ONEWINDOW_CACHE                   downloads and builds, reused between runs   (default <repo>/.cache)
#   ONEWINDOW_VAR                     data, logs (log/) and pid files (run/)      (default <repo>/var)
#   ONEWINDOW_KAFKA_PORT              Kafka PLAINTEXT listener (first node's)     (default 9092)
#   ONEWINDOW_KAFKA_CONTROLLER_PORT   KRaft controller listener (first node's)    (default 9093;
#                                     with N > 1 brokers ONEWINDOW_KAFKA_PORT+100)
#   ONEWINDOW_KAFKA_BROKERS           number of Kafka nodes                       (default 1)
#   ONEWINDOW_KAFKA_HEAP              JVM heap flags                              (default "-Xms256m -Xmx512m")
#   ONEWINDOW_MONGO_PORT              FerretDB listener                           (default 27017)
#   ONEWINDOW_FERRETDB_HANDLER        sqlite | postgresql                         (default sqlite)
#   ONEWINDOW_FERRETDB_POSTGRESQL_URL PostgreSQL URL, required for postgresql
#   ONEWINDOW_FERRETDB_LOG_LEVEL      debug | info (logs every connection) | warn | error  (default warn)
#   ONEWINDOW_READY_TIMEOUT           seconds to wait for readiness               (default 90)
#   ONEWINDOW_SKIP_TOPICS=1           do not run `python -m contracts.topics create` on up
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/deploy/local"
CACHE="${ONEWINDOW_CACHE:-$ROOT/.cache}"
VAR="${ONEWINDOW_VAR:-$ROOT/var}"
LOG_DIR="$VAR/log"
RUN_DIR="$VAR/run"

KAFKA_VERSION="4.1.1"
FERRETDB_VERSION="v1.24.2"
KAFKA_PORT="${ONEWINDOW_KAFKA_PORT:-9092}"
CONTROLLER_PORT="${ONEWINDOW_KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_HEAP="${ONEWINDOW_KAFKA_HEAP:--Xms256m -Xmx512m}"
MONGO_PORT="${ONEWINDOW_MONGO_PORT:-27017}"
# auto: PostgreSQL when its server binaries are installed (they are on this kind of machine), else SQLite.
FDB_HANDLER="${ONEWINDOW_FERRETDB_HANDLER:-auto}"
PG_PORT="${ONEWINDOW_PG_PORT:-54329}"
PG_BIN="${ONEWINDOW_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
if [[ "$FDB_HANDLER" == auto ]]; then
  if [[ -n "${ONEWINDOW_FERRETDB_POSTGRESQL_URL:-}" || -x "$PG_BIN/initdb" ]]; then FDB_HANDLER=postgresql; else FDB_HANDLER=sqlite; fi
fi
FDB_PG_URL="${ONEWINDOW_FERRETDB_POSTGRESQL_URL:-}"
FDB_LOG_LEVEL="${ONEWINDOW_FERRETDB_LOG_LEVEL:-warn}"
READY_TIMEOUT="${ONEWINDOW_READY_TIMEOUT:-90}"

COMMAND="${1:-}"
[[ $# -gt 0 ]] && shift
BROKERS="${ONEWINDOW_KAFKA_BROKERS:-1}"
KAFKA_ONLY=0
SECURE=0
ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --brokers) [[ $# -ge 2 ]] || { echo "infra.sh: error: --brokers needs a number" >&2; exit 2; }
               BROKERS="$2"; shift 2 ;;
    --brokers=*) BROKERS="${1#--brokers=}"; shift ;;
    --kafka-only) KAFKA_ONLY=1; shift ;;
    --secure) SECURE=1; shift ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
[[ "$BROKERS" =~ ^[1-9]$ ]] || { echo "infra.sh: error: --brokers / ONEWINDOW_KAFKA_BROKERS must be 1-9, not '$BROKERS'" >&2; exit 2; }
if ((BROKERS > 1)); then
  CONTROLLER_PORT="${ONEWINDOW_KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 100))}"
fi
((SECURE && BROKERS > 1)) && { echo "infra.sh: error: --secure runs one Kafka node (no --brokers)" >&2; exit 2; }

KAFKA_LIBS="$CACHE/kafka-$KAFKA_VERSION/libs"
FDB_BIN="$CACHE/bin/ferretdb-runner"
KAFKA_DATA="$VAR/kafka/data"
KAFKA_CONF="$VAR/kafka/server.properties"
CLUSTER_DIR="$VAR/kafka-cluster"
SECURE_DIR="$VAR/kafka-secure"
KAFKA_CID="$VAR/kafka/cluster-id"
if ((SECURE)); then # its own data: the plaintext node's is left as it is
  KAFKA_DATA="$SECURE_DIR/data"; KAFKA_CONF="$SECURE_DIR/server.properties"; KAFKA_CID="$SECURE_DIR/cluster-id"
fi
FDB_DATA="$VAR/ferretdb"
PG_DATA="$VAR/postgres"

die() { echo "infra.sh: error: $*" >&2; exit 1; }
say() { echo "infra.sh: $*"; }

# ---------------------------------------------------------------- helpers

need() { # need CMD WHAT
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH: $2"
}

need_java() {
  need java "Java 17+ is needed to run Kafka (Debian: apt-get install -y openjdk-17-jre-headless)"
  local v
  v="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)"
  [[ -n "$v" && "$v" -ge 17 ]] || die "Java 17+ is needed to run Kafka $KAFKA_VERSION, found '${v:-unknown}'"
}

hash_of() { cat "$@" | sha256sum | cut -c1-16; }

port_open() { # port_open PORT -> 0 when something accepts connections on 127.0.0.1:PORT
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# pid of our process NAME if it is alive and really ours, else empty
our_pid() {
  local f="$RUN_DIR/$1.pid" pid
  [[ -f "$f" ]] || return 0
  pid="$(cat "$f" 2>/dev/null || true)"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null \
      && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "-Donewindow-infra=$1 \|--onewindow-infra=$1"; then
    echo "$pid"
  else
    rm -f "$f"
  fi
}

check_port_free() { # check_port_free PORT WHAT ENVVAR
  if port_open "$1"; then
    die "port $1 ($2) is already in use by a process that is not ours; free it or set $3 to another port"
  fi
}

tail_logs() { # tail_logs FILE...
  local f
  for f in "$@"; do
    [[ -s "$f" ]] || continue
    echo "---- last lines of $f" >&2
    tail -n 30 "$f" >&2
  done
}

# ---------------------------------------------------------------- install

install_kafka() {
  local stamp="$KAFKA_LIBS/.stamp" want
  want="$(hash_of "$HERE/kafka/pom.xml")"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  need mvn "Maven is needed once to fetch the Kafka jars (Debian: apt-get install -y maven)"
  need_java
  say "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_LIBS"
  mkdir -p "$LOG_DIR" "$CACHE"
  local tmp="$KAFKA_LIBS.tmp.$$" log="$LOG_DIR/install-kafka.log"
  rm -rf "$tmp"
  # offline first (everything may already be in ~/.m2), then online
  if ! mvn -B -q -o -f "$HERE/kafka/pom.xml" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$tmp" >"$log" 2>&1; then
    rm -rf "$tmp"
    if ! mvn -B -f "$HERE/kafka/pom.xml" dependency:copy-dependencies \
          -DincludeScope=runtime -DoutputDirectory="$tmp" >"$log" 2>&1; then
      rm -rf "$tmp"
      die "failed to download the Kafka jars with Maven (see $log)"
    fi
  fi
  [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] || die "Maven ran but kafka_2.13-$KAFKA_VERSION.jar is missing (see $log)"
  rm -rf "$KAFKA_LIBS"
  mv "$tmp" "$KAFKA_LIBS"
  echo "$want" >"$stamp"
}

install_ferretdb() {
  local src="$HERE/ferretdb" stamp="$FDB_BIN.stamp" want
  want="$(hash_of "$src/main.go" "$src/go.mod" "$src/go.sum")"
  if [[ -x "$FDB_BIN" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  need go "Go is needed once to build FerretDB $FERRETDB_VERSION (https://go.dev/dl or Debian golang-go >= 1.24)"
  say "building FerretDB $FERRETDB_VERSION into $FDB_BIN (first time takes about a minute)"
  mkdir -p "$LOG_DIR" "$(dirname "$FDB_BIN")"
  local log="$LOG_DIR/install-ferretdb.log"
  # modules come from the Go module proxy into go's own cache; -buildvcs=false: no git stamping
  if ! (cd "$src" && GOFLAGS="-buildvcs=false" \
        go build -trimpath -o "$FDB_BIN.tmp" .) >"$log" 2>&1; then
    rm -f "$FDB_BIN.tmp"
    die "failed to download or build FerretDB $FERRETDB_VERSION with go (see $log)"
  fi
  mv "$FDB_BIN.tmp" "$FDB_BIN"
  echo "$want" >"$stamp"
}

cmd_install() {
  install_kafka
  install_ferretdb
  say "installed: Kafka $KAFKA_VERSION ($KAFKA_LIBS), FerretDB $FERRETDB_VERSION ($FDB_BIN)"
}

# ---------------------------------------------------------------- kafka

kafka_java() { # kafka_java LOG4J_CONFIG MAIN ARGS...
  local cfg="$1"; shift
  java -Xms64m -Xmx256m -Djava.awt.headless=true -Dlog4j2.configurationFile="$cfg" \
    -cp "$KAFKA_LIBS/*" "$@"
}

client_listener() { if ((SECURE)); then echo SASL_SSL; else echo PLAINTEXT; fi; }

write_kafka_config() {
  mkdir -p "$(dirname "$KAFKA_CONF")" "$KAFKA_DATA"
  local client; client="$(client_listener)"
  cat >"$KAFKA_CONF" <<EOF
# generated by deploy/local/infra.sh on every start; edit the script, not this file
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=$client://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=$client://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=$client
listener.security.protocol.map=$client:$client,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DATA
auto.create.topics.enable=true
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=168
log.segment.bytes=268435456
EOF
  if ((SECURE)); then
    # The controller listener stays PLAINTEXT on loopback, so its principal (ANONYMOUS) is a super
    # user as Kafka requires; every client comes through SASL_SSL and its ACLs.
    cat >>"$KAFKA_CONF" <<EOF
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$ONEWINDOW_KAFKA_PASSWORD_ADMIN";
ssl.keystore.type=PKCS12
ssl.keystore.location=$SECURE_DIR/broker.p12
ssl.keystore.password=$ONEWINDOW_KAFKA_KEYSTORE_PASSWORD
ssl.truststore.type=PEM
ssl.truststore.location=$SECURE_DIR/ca.pem
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin;User:ANONYMOUS
EOF
  fi
}

kafka_ready() {
  local secured=()
  ((SECURE)) && secured=(--command-config "$SECURE_DIR/admin.properties")
  kafka_java "$HERE/kafka/tools-log4j2.properties" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "127.0.0.1:$KAFKA_PORT" "${secured[@]}" --list >/dev/null 2>&1
}

# ---------------------------------------------------------------- secured Kafka (--secure)

random_secret() { head -c 24 /dev/urandom | base64 | tr -d '/+=\n'; }

prepare_secure() { # passwords, a self-signed certificate (keytool), client settings; once per VAR
  mkdir -p "$SECURE_DIR"
  chmod 700 "$SECURE_DIR"
  local creds="$SECURE_DIR/credentials.env" name var
  if [[ ! -s "$creds" ]]; then
    (umask 077
     {
       echo "ONEWINDOW_KAFKA_KEYSTORE_PASSWORD=$(random_secret)"
       for name in admin catalog ticketing appointments feedback notifier portal; do
         var="ONEWINDOW_KAFKA_PASSWORD_$(echo "$name" | tr a-z A-Z)"
         echo "$var=$(random_secret)"
       done
     } >"$creds")
  fi
  set -a
  # shellcheck disable=SC1090
  . "$creds"
  set +a
  if [[ ! -s "$SECURE_DIR/ca.pem" ]]; then
    need keytool "the JDK's keytool makes the broker's certificate (install a JDK 17+)"
    rm -f "$SECURE_DIR/broker.p12"
    keytool -genkeypair -alias broker -keyalg RSA -keysize 2048 -validity 825 \
      -dname "CN=127.0.0.1, OU=OneWindow local" -ext "SAN=IP:127.0.0.1,DNS:localhost" -ext "BC:c=ca:true" \
      -storetype PKCS12 -keystore "$SECURE_DIR/broker.p12" \
      -storepass "$ONEWINDOW_KAFKA_KEYSTORE_PASSWORD" -keypass "$ONEWINDOW_KAFKA_KEYSTORE_PASSWORD" >/dev/null 2>&1 \
      || die "keytool could not make the broker's certificate"
    keytool -exportcert -rfc -alias broker -keystore "$SECURE_DIR/broker.p12" \
      -storepass "$ONEWINDOW_KAFKA_KEYSTORE_PASSWORD" -file "$SECURE_DIR/ca.pem" >/dev/null 2>&1 \
      || die "keytool could not export the broker's certificate"
  fi
  cat >"$SECURE_DIR/admin.properties" <<EOF
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$ONEWINDOW_KAFKA_PASSWORD_ADMIN";
ssl.truststore.type=PEM
ssl.truststore.location=$SECURE_DIR/ca.pem
EOF
  chmod 600 "$SECURE_DIR/admin.properties"
  # acls.sh calls kafka-configs.sh / kafka-acls.sh of a Kafka distribution: these run the same tools
  # from the jars in the cache.
  mkdir -p "$SECURE_DIR/bin"
  local tool main
  for tool in kafka-configs.sh:kafka.admin.ConfigCommand kafka-acls.sh:org.apache.kafka.tools.AclCommand; do
    main="${tool#*:}"
    cat >"$SECURE_DIR/bin/${tool%%:*}" <<EOF
#!/usr/bin/env bash
exec java -Xms32m -Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true \\
  -Dlog4j2.configurationFile="$HERE/kafka/tools-log4j2.properties" -cp "$KAFKA_LIBS/*" $main "\$@" >/dev/null
EOF
    chmod +x "$SECURE_DIR/bin/${tool%%:*}"
  done
}

secure_client_env() { # the ONEWINDOW_KAFKA_* settings of the admin principal, for contracts.topics
  echo "ONEWINDOW_KAFKA_SASL_USERNAME=admin ONEWINDOW_KAFKA_SASL_PASSWORD=$ONEWINDOW_KAFKA_PASSWORD_ADMIN ONEWINDOW_KAFKA_USE_SSL=true ONEWINDOW_KAFKA_SSL_CAFILE=$SECURE_DIR/ca.pem"
}

apply_acls() { # the principals and ACLs of deploy/kafka-security/acls.sh, once per VAR
  [[ -f "$SECURE_DIR/acls.done" ]] && return 0
  say "creating the services' principals and ACLs (deploy/kafka-security/acls.sh)"
  KAFKA_BIN="$SECURE_DIR/bin" BOOTSTRAP="127.0.0.1:$KAFKA_PORT" ADMIN_CONFIG="$SECURE_DIR/admin.properties" \
    "$ROOT/deploy/kafka-security/acls.sh" >>"$LOG_DIR/kafka-acls.log" 2>&1 \
    || { tail_logs "$LOG_DIR/kafka-acls.log"; die "acls.sh failed (log: $LOG_DIR/kafka-acls.log)"; }
  touch "$SECURE_DIR/acls.done"
}

start_kafka() {
  local pid
  pid="$(our_pid kafka)"
  if [[ -n "$pid" ]]; then
    grep -q "^listeners=$(client_listener)://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT\$" "$KAFKA_CONF" \
      || die "kafka already runs (pid $pid) with other ports or security than $(client_listener) $KAFKA_PORT/$CONTROLLER_PORT; run '$0 down' first"
    say "kafka already running (pid $pid) on 127.0.0.1:$KAFKA_PORT"
    return 0
  fi
  need_java
  check_port_free "$KAFKA_PORT" "Kafka" ONEWINDOW_KAFKA_PORT
  check_port_free "$CONTROLLER_PORT" "Kafka controller" ONEWINDOW_KAFKA_CONTROLLER_PORT
  mkdir -p "$LOG_DIR" "$RUN_DIR"
  write_kafka_config
  if [[ ! -f "$KAFKA_DATA/meta.properties" ]]; then
    local cid_file="$KAFKA_CID" cid
    if [[ ! -s "$cid_file" ]]; then
      kafka_java "$HERE/kafka/tools-log4j2.properties" kafka.tools.StorageTool random-uuid >"$cid_file" \
        || die "kafka-storage random-uuid failed"
    fi
    cid="$(tr -d '[:space:]' <"$cid_file")"
    say "formatting Kafka storage in $KAFKA_DATA (cluster id $cid)"
    local scram=()
    ((SECURE)) && scram=(--add-scram "SCRAM-SHA-512=[name=admin,password=$ONEWINDOW_KAFKA_PASSWORD_ADMIN]")
    kafka_java "$HERE/kafka/tools-log4j2.properties" kafka.tools.StorageTool format \
        -t "$cid" -c "$KAFKA_CONF" "${scram[@]}" >>"$LOG_DIR/kafka-format.log" 2>&1 \
      || { tail_logs "$LOG_DIR/kafka-format.log"; die "kafka-storage format failed"; }
  fi
  say "starting kafka on 127.0.0.1:$KAFKA_PORT (controller :$CONTROLLER_PORT)"
  # shellcheck disable=SC2086  # KAFKA_HEAP is a list of flags
  setsid nohup java $KAFKA_HEAP -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Donewindow-infra=kafka \
    -Dkafka.logs.dir="$LOG_DIR" \
    -Dlog4j2.configurationFile="$HERE/kafka/log4j2.properties" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_CONF" \
    >>"$LOG_DIR/kafka.out" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/kafka.pid"
}

wait_kafka() {
  local deadline=$((SECONDS + READY_TIMEOUT))
  while :; do
    if [[ -z "$(our_pid kafka)" ]]; then
      tail_logs "$LOG_DIR/kafka.out" "$LOG_DIR/kafka.log"
      die "kafka exited during start-up (logs: $LOG_DIR/kafka.log, $LOG_DIR/kafka.out)"
    fi
    if port_open "$KAFKA_PORT" && kafka_ready; then
      say "kafka ready on 127.0.0.1:$KAFKA_PORT"
      return 0
    fi
    if ((SECONDS >= deadline)); then
      tail_logs "$LOG_DIR/kafka.out" "$LOG_DIR/kafka.log"
      die "kafka not ready after ${READY_TIMEOUT}s (logs: $LOG_DIR/kafka.log)"
    fi
    sleep 1
  done
}


# ---------------------------------------------------------------- kafka cluster (--brokers N > 1)
# N combined broker+controller nodes with a static quorum of all N, one cluster id; node i is
# process kafka-i (pid run/kafka-i.pid), config and data in $CLUSTER_DIR/node-i, log in log/kafka-i/.

node_port() { echo $((KAFKA_PORT + $1 - 1)); }
node_cport() { echo $((CONTROLLER_PORT + $1 - 1)); }
node_dir() { echo "$CLUSTER_DIR/node-$1"; }

cluster_bootstrap() { # 127.0.0.1:p1,127.0.0.1:p2,...
  local i out=()
  for ((i = 1; i <= BROKERS; i++)); do out+=("127.0.0.1:$(node_port "$i")"); done
  (IFS=,; echo "${out[*]}")
}

cluster_voters() {
  local i out=()
  for ((i = 1; i <= BROKERS; i++)); do out+=("$i@127.0.0.1:$(node_cport "$i")"); done
  (IFS=,; echo "${out[*]}")
}

write_node_config() { # write_node_config I
  local i="$1" dir rf misr
  dir="$(node_dir "$i")"
  rf=$((BROKERS < 3 ? BROKERS : 3))
  misr=$((rf >= 3 ? 2 : 1))
  mkdir -p "$dir/data"
  cat >"$dir/server.properties" <<EOF
# generated by deploy/local/infra.sh on every start; edit the script, not this file
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$(cluster_voters)
listeners=PLAINTEXT://127.0.0.1:$(node_port "$i"),CONTROLLER://127.0.0.1:$(node_cport "$i")
advertised.listeners=PLAINTEXT://127.0.0.1:$(node_port "$i")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
auto.create.topics.enable=true
num.partitions=3
default.replication.factor=$rf
min.insync.replicas=$misr
unclean.leader.election.enable=false
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$misr
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$misr
group.initial.rebalance.delay.ms=0
log.retention.hours=168
log.segment.bytes=268435456
EOF
}

start_node() { # start_node I : start node I unless it runs; formats its storage the first time
  local i="$1" pid dir port cport
  dir="$(node_dir "$i")"; port="$(node_port "$i")"; cport="$(node_cport "$i")"
  pid="$(our_pid "kafka-$i")"
  if [[ -n "$pid" ]]; then
    grep -q "^listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport\$" "$dir/server.properties" \
      || die "kafka-$i already runs (pid $pid) with other ports than $port/$cport; run '$0 down' first"
    say "kafka-$i already running (pid $pid) on 127.0.0.1:$port"
    return 0
  fi
  check_port_free "$port" "Kafka node $i" ONEWINDOW_KAFKA_PORT
  check_port_free "$cport" "Kafka controller of node $i" ONEWINDOW_KAFKA_CONTROLLER_PORT
  mkdir -p "$LOG_DIR/kafka-$i" "$RUN_DIR"
  write_node_config "$i"
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    local cid_file="$CLUSTER_DIR/cluster-id" cid
    if [[ ! -s "$cid_file" ]]; then
      kafka_java "$HERE/kafka/tools-log4j2.properties" kafka.tools.StorageTool random-uuid >"$cid_file" \
        || die "kafka-storage random-uuid failed"
    fi
    cid="$(tr -d '[:space:]' <"$cid_file")"
    say "formatting storage of kafka-$i in $dir/data (cluster id $cid)"
    kafka_java "$HERE/kafka/tools-log4j2.properties" kafka.tools.StorageTool format \
        -t "$cid" -c "$dir/server.properties" >>"$LOG_DIR/kafka-$i/format.log" 2>&1 \
      || { tail_logs "$LOG_DIR/kafka-$i/format.log"; die "kafka-storage format of node $i failed"; }
  fi
  say "starting kafka-$i on 127.0.0.1:$port (controller :$cport)"
  # shellcheck disable=SC2086  # KAFKA_HEAP is a list of flags
  setsid nohup java $KAFKA_HEAP -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Donewindow-infra="kafka-$i" \
    -Dkafka.logs.dir="$LOG_DIR/kafka-$i" \
    -Dlog4j2.configurationFile="$HERE/kafka/log4j2.properties" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$dir/server.properties" \
    >>"$LOG_DIR/kafka-$i/kafka.out" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/kafka-$i.pid"
}

node_ready() { # node_ready I : the node answers a metadata request with the whole cluster in it
  local n
  n="$(kafka_java "$HERE/kafka/tools-log4j2.properties" org.apache.kafka.tools.BrokerApiVersionsCommand \
        --bootstrap-server "127.0.0.1:$(node_port "$1")" 2>/dev/null | grep -c '^127.0.0.1:.*(id: ')" || true
  [[ "$n" == "$BROKERS" ]]
}

wait_cluster() {
  local deadline=$((SECONDS + READY_TIMEOUT)) i pending
  while :; do
    pending=()
    for ((i = 1; i <= BROKERS; i++)); do
      if [[ -z "$(our_pid "kafka-$i")" ]]; then
        tail_logs "$LOG_DIR/kafka-$i/kafka.out" "$LOG_DIR/kafka-$i/kafka.log"
        die "kafka-$i exited during start-up (logs: $LOG_DIR/kafka-$i/)"
      fi
      port_open "$(node_port "$i")" || pending+=("$i")
    done
    if ((${#pending[@]} == 0)) && node_ready 1; then
      say "kafka cluster of $BROKERS ready on $(cluster_bootstrap)"
      return 0
    fi
    if ((SECONDS >= deadline)); then
      for ((i = 1; i <= BROKERS; i++)); do tail_logs "$LOG_DIR/kafka-$i/kafka.log"; done
      die "kafka cluster not ready after ${READY_TIMEOUT}s (logs: $LOG_DIR/kafka-*/kafka.log)"
    fi
    sleep 1
  done
}

start_cluster() {
  local i
  for ((i = 1; i <= BROKERS; i++)); do start_node "$i"; done
}

# ---------------------------------------------------------------- ferretdb

# MongoDB wire `hello` over a raw socket, no driver needed: exit 0 when the reply says ok: 1
mongo_hello() {
  python3 - "$MONGO_PORT" <<'PY'
import socket, struct, sys
def bson(doc):
    body = b""
    for k, v in doc.items():
        key = k.encode() + b"\x00"
        if isinstance(v, int):
            body += b"\x10" + key + struct.pack("<i", v)
        else:
            s = v.encode() + b"\x00"
            body += b"\x02" + key + struct.pack("<i", len(s)) + s
    return struct.pack("<i", len(body) + 5) + body + b"\x00"
payload = struct.pack("<I", 0) + b"\x00" + bson({"hello": 1, "$db": "admin"})
msg = struct.pack("<iiii", 16 + len(payload), 1, 0, 2013) + payload
try:
    with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3) as s:
        s.sendall(msg)
        hdr = s.recv(16, socket.MSG_WAITALL)
        (n,) = struct.unpack("<i", hdr[:4])
        rest = b""
        while len(rest) < n - 16:
            chunk = s.recv(n - 16 - len(rest))
            if not chunk:
                break
            rest += chunk
except OSError:
    sys.exit(1)
ok = b"\x01ok\x00" + struct.pack("<d", 1.0)
sys.exit(0 if ok in rest else 1)
PY
}

# ---------------------------------------------------------------- postgresql (FerretDB's backend)
# A private cluster on 127.0.0.1:$PG_PORT for local runs and CI only: trust auth on loopback,
# fsync off (a machine crash may lose it; the data is disposable). Used when no
# ONEWINDOW_FERRETDB_POSTGRESQL_URL is given.

pg_run() { # run a PostgreSQL binary as the postgres user when we are root (postgres refuses root)
  if [[ $EUID == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

managed_pg() { [[ "$FDB_HANDLER" == postgresql && -z "$FDB_PG_URL" ]]; }

pg_running() { pg_run "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }

start_postgres() {
  managed_pg || return 0
  [[ -x "$PG_BIN/initdb" ]] || die "PostgreSQL server binaries not found (Debian: apt-get install -y postgresql); or set ONEWINDOW_FERRETDB_HANDLER=sqlite"
  mkdir -p "$LOG_DIR" "$PG_DATA"
  if [[ $EUID == 0 ]]; then
    chown postgres "$PG_DATA"
    if ! runuser -u postgres -- test -w "$PG_DATA"; then
      # A checkout below a folder the postgres user may not enter (e.g. a private home): keep the
      # cluster in a folder of its own, one per checkout.
      PG_DATA="/var/tmp/onewindow-postgres-$(echo "$ROOT" | sha256sum | cut -c1-12)"
      mkdir -p "$PG_DATA"; chown postgres "$PG_DATA"; chmod 700 "$PG_DATA"
      echo "$PG_DATA" >"$VAR/postgres.location"
    fi
  fi
  PG_LOG="$PG_DATA/postgres.log"
  if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
    say "initialising PostgreSQL cluster in $PG_DATA"
    pg_run "$PG_BIN/initdb" -D "$PG_DATA" -U onewindow -A trust -E UTF8 --no-locale >"$LOG_DIR/postgres-init.log" 2>&1 \
      || { tail_logs "$LOG_DIR/postgres-init.log"; die "initdb failed (log: $LOG_DIR/postgres-init.log)"; }
    # the cluster writes its own log next to its data (the postgres user owns that folder)
  fi
  if pg_running; then
    say "postgresql already running on 127.0.0.1:$PG_PORT"
  else
    check_port_free "$PG_PORT" "PostgreSQL for FerretDB" ONEWINDOW_PG_PORT
    say "starting postgresql on 127.0.0.1:$PG_PORT"
    pg_run "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$READY_TIMEOUT" \
      -o "-p $PG_PORT -k $PG_DATA -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=256MB" start >/dev/null \
      || { tail_logs "$PG_LOG"; die "postgresql did not start (log: $PG_LOG)"; }
  fi
  ln -sfn "$PG_LOG" "$LOG_DIR/postgres.log"
  if ! pg_run "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U onewindow -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='ferretdb'" | grep -q 1; then
    pg_run "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U onewindow ferretdb || die "createdb ferretdb failed"
  fi
  # FerretDB 1.24 pushes an equality filter down as `_jsonb->$1 @> $2`, which its own btree
  # indexes cannot serve: every lookup by _id read the whole table. GIN indexes that can serve it,
  # on every collection now and on each one FerretDB creates later (an event trigger).
  pg_run "$PG_BIN/psql" -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U onewindow -d ferretdb -qAt -f - \
    <"$HERE/postgres/ferretdb-pushdown-indexes.sql" >"$LOG_DIR/postgres-indexes.log" 2>&1 \
    || { tail_logs "$LOG_DIR/postgres-indexes.log"; die "indexes for FerretDB's pushdown not created (log: $LOG_DIR/postgres-indexes.log)"; }
  # FerretDB 1.x pools 50 PostgreSQL connections by default; more concurrent requests than that
  # while it creates a database deadlock it (seen under the tests), so the pool is sized to the server.
  FDB_PG_URL="postgres://onewindow@127.0.0.1:$PG_PORT/ferretdb?pool_max_conns=250"
}

stop_postgres() {
  managed_pg || return 0
  [[ -f "$VAR/postgres.location" ]] && PG_DATA="$(cat "$VAR/postgres.location")"
  [[ -f "$PG_DATA/PG_VERSION" ]] || return 0
  if pg_running; then
    say "stopping postgresql"
    pg_run "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null || true
  else
    say "postgresql not running"
  fi
}

start_ferretdb() {
  local pid
  pid="$(our_pid ferretdb)"
  if [[ -n "$pid" ]]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "--listen-addr 127.0.0.1:$MONGO_PORT " \
      || die "ferretdb already runs (pid $pid) on another port than $MONGO_PORT; run '$0 down' first"
    say "ferretdb already running (pid $pid) on 127.0.0.1:$MONGO_PORT"
    return 0
  fi
  check_port_free "$MONGO_PORT" "FerretDB / MongoDB wire" ONEWINDOW_MONGO_PORT
  mkdir -p "$LOG_DIR" "$RUN_DIR" "$FDB_DATA"
  local args=(--listen-addr "127.0.0.1:$MONGO_PORT" --handler "$FDB_HANDLER" --log-level "$FDB_LOG_LEVEL")
  case "$FDB_HANDLER" in
    sqlite) args+=(--sqlite-url "file:$FDB_DATA/") ;;
    postgresql)
      [[ -n "$FDB_PG_URL" ]] || die "ONEWINDOW_FERRETDB_HANDLER=postgresql needs ONEWINDOW_FERRETDB_POSTGRESQL_URL"
      args+=(--postgresql-url "$FDB_PG_URL") ;;
    *) die "ONEWINDOW_FERRETDB_HANDLER must be sqlite or postgresql, not '$FDB_HANDLER'" ;;
  esac
  say "starting ferretdb ($FDB_HANDLER) on 127.0.0.1:$MONGO_PORT"
  FERRETDB_TELEMETRY=disable setsid nohup "$FDB_BIN" "${args[@]}" --onewindow-infra=ferretdb \
    >>"$LOG_DIR/ferretdb.log" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/ferretdb.pid"
}

wait_ferretdb() {
  local deadline=$((SECONDS + READY_TIMEOUT))
  while :; do
    if [[ -z "$(our_pid ferretdb)" ]]; then
      tail_logs "$LOG_DIR/ferretdb.log"
      die "ferretdb exited during start-up (log: $LOG_DIR/ferretdb.log)"
    fi
    if port_open "$MONGO_PORT" && mongo_hello; then
      say "ferretdb ready on mongodb://127.0.0.1:$MONGO_PORT"
      return 0
    fi
    if ((SECONDS >= deadline)); then
      tail_logs "$LOG_DIR/ferretdb.log"
      die "ferretdb not ready after ${READY_TIMEOUT}s (log: $LOG_DIR/ferretdb.log)"
    fi
    sleep 0.5
  done
}

# ---------------------------------------------------------------- topics

create_topics() {
  if [[ "${ONEWINDOW_SKIP_TOPICS:-0}" == 1 ]]; then
    return 0
  fi
  if [[ ! -f "$ROOT/libs/contracts/src/contracts/topics.py" ]]; then
    say "libs/contracts/src/contracts/topics.py not there yet: no topics created (auto-create is on)"
    return 0
  fi
  need uv "uv is needed to run contracts.topics (pip install uv)"
  local bootstrap="127.0.0.1:$KAFKA_PORT"
  ((BROKERS > 1)) && bootstrap="$(cluster_bootstrap)"
  say "creating topics (python -m contracts.topics create) on $bootstrap"
  local secured=()
  ((SECURE)) && read -r -a secured <<<"$(secure_client_env)"
  (cd "$ROOT" && env "${secured[@]}" ONEWINDOW_KAFKA="$bootstrap" uv run python -m contracts.topics create) \
    || die "topic creation failed: uv run python -m contracts.topics create (set ONEWINDOW_SKIP_TOPICS=1 to skip)"
}

# ---------------------------------------------------------------- commands

cmd_up() {
  need python3 "python3 is needed for the readiness check"
  if ((KAFKA_ONLY)); then install_kafka; else cmd_install; fi
  # check every port before starting anything, so a conflict leaves nothing half-started
  local i
  if ((BROKERS > 1)); then
    for ((i = 1; i <= BROKERS; i++)); do
      [[ -n "$(our_pid "kafka-$i")" ]] && continue
      check_port_free "$(node_port "$i")" "Kafka node $i" ONEWINDOW_KAFKA_PORT
      check_port_free "$(node_cport "$i")" "Kafka controller of node $i" ONEWINDOW_KAFKA_CONTROLLER_PORT
    done
  elif [[ -z "$(our_pid kafka)" ]]; then
    check_port_free "$KAFKA_PORT" "Kafka" ONEWINDOW_KAFKA_PORT
    check_port_free "$CONTROLLER_PORT" "Kafka controller" ONEWINDOW_KAFKA_CONTROLLER_PORT
  fi
  ((KAFKA_ONLY)) || [[ -n "$(our_pid ferretdb)" ]] || check_port_free "$MONGO_PORT" "FerretDB / MongoDB wire" ONEWINDOW_MONGO_PORT
  ((SECURE)) && prepare_secure
  if ((BROKERS > 1)); then start_cluster; else start_kafka; fi
  if ((!KAFKA_ONLY)); then
    start_postgres
    start_ferretdb
  fi
  if ((BROKERS > 1)); then wait_cluster; else wait_kafka; fi
  ((KAFKA_ONLY)) || wait_ferretdb
  create_topics
  ((SECURE)) && apply_acls
  local kafka="127.0.0.1:$KAFKA_PORT"
  ((BROKERS > 1)) && kafka="$(cluster_bootstrap)"
  ((SECURE)) && say "secured: SASL_SSL, principals and passwords in $SECURE_DIR/credentials.env, CA $SECURE_DIR/ca.pem"
  if ((KAFKA_ONLY)); then
    say "up: KAFKA $kafka  (logs in $LOG_DIR)"
  else
    say "up: KAFKA $kafka  MONGO mongodb://127.0.0.1:$MONGO_PORT  (logs in $LOG_DIR)"
  fi
}

stop_one() { # stop_one NAME
  local pid i
  pid="$(our_pid "$1")"
  if [[ -z "$pid" ]]; then
    say "$1 not running"
    return 0
  fi
  say "stopping $1 (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 60; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "$1 did not stop in 30s: killing it"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$RUN_DIR/$1.pid"
}

stop_nodes() { # stop_nodes NAME... : TERM to all at once (a KRaft node left alone without its
  # quorum cannot finish a controlled shutdown), then wait, then KILL what is left after 30s
  local name pid names=() pids=() i alive
  for name in "$@"; do
    pid="$(our_pid "$name")"
    [[ -n "$pid" ]] || continue
    say "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    names+=("$name"); pids+=("$pid")
  done
  for ((i = 0; i < 60; i++)); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.5
  done
  for i in "${!pids[@]}"; do
    if kill -0 "${pids[$i]}" 2>/dev/null; then
      say "${names[$i]} did not stop in 30s: killing it"
      kill -KILL "${pids[$i]}" 2>/dev/null || true
    fi
    rm -f "$RUN_DIR/${names[$i]}.pid"
  done
}

cmd_down() {
  if ((!KAFKA_ONLY)); then
    stop_one ferretdb
    stop_postgres
  fi
  stop_one kafka
  local f nodes=()
  for f in "$RUN_DIR"/kafka-[0-9]*.pid; do # every cluster node, whatever --brokers says
    [[ -e "$f" ]] && nodes+=("$(basename "$f" .pid)")
  done
  ((${#nodes[@]} == 0)) || stop_nodes "${nodes[@]}"
}

cmd_status() {
  local rc=0 pid i port
  if ((BROKERS == 1)) && compgen -G "$RUN_DIR/kafka-[0-9]*.pid" >/dev/null; then
    # a cluster was started here: report it without --brokers
    BROKERS="$(ls "$RUN_DIR"/kafka-[0-9]*.pid | sed 's/.*kafka-\([0-9]*\)\.pid/\1/' | sort -n | tail -n 1)"
    ((BROKERS > 1)) && CONTROLLER_PORT="${ONEWINDOW_KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 100))}"
  fi
  if ((BROKERS > 1)); then
    for ((i = 1; i <= BROKERS; i++)); do
      pid="$(our_pid "kafka-$i")"; port="$(node_port "$i")"
      if [[ -n "$pid" ]] && port_open "$port"; then
        printf '%-9s running  pid %s  127.0.0.1:%s  (Kafka %s, KRaft node %s of %s, data %s)\n' \
          "kafka-$i" "$pid" "$port" "$KAFKA_VERSION" "$i" "$BROKERS" "$(node_dir "$i")/data"
      elif [[ -n "$pid" ]]; then
        printf '%-9s starting pid %s  127.0.0.1:%s not accepting yet\n' "kafka-$i" "$pid" "$port"; rc=3
      else
        printf '%-9s stopped\n' "kafka-$i"; rc=3
      fi
    done
  else
    pid="$(our_pid kafka)"
    if [[ -n "$pid" ]]; then
      if port_open "$KAFKA_PORT"; then
        echo "kafka     running  pid $pid  127.0.0.1:$KAFKA_PORT  (Kafka $KAFKA_VERSION, KRaft, data $KAFKA_DATA)"
      else
        echo "kafka     starting pid $pid  127.0.0.1:$KAFKA_PORT not accepting yet"; rc=3
      fi
    else
      echo "kafka     stopped"; rc=3
    fi
  fi
  ((KAFKA_ONLY)) && return "$rc"
  pid="$(our_pid ferretdb)"
  if [[ -n "$pid" ]]; then
    if port_open "$MONGO_PORT"; then
      echo "ferretdb  running  pid $pid  mongodb://127.0.0.1:$MONGO_PORT  (FerretDB $FERRETDB_VERSION, $FDB_HANDLER)"
    else
      echo "ferretdb  starting pid $pid  127.0.0.1:$MONGO_PORT not accepting yet"; rc=3
    fi
  else
    echo "ferretdb  stopped"; rc=3
  fi
  return "$rc"
}

cmd_logs() {
  local which="${1:-all}" follow=()
  [[ "${2:-}" == "-f" || "${1:-}" == "-f" ]] && follow=(-f)
  [[ "$which" == "-f" ]] && which=all
  local files=()
  case "$which" in
    kafka) files=("$LOG_DIR/kafka.log" "$LOG_DIR/kafka.out") ;;
    kafka-[0-9]*) files=("$LOG_DIR/$which/kafka.log" "$LOG_DIR/$which/kafka.out") ;;
    ferretdb) files=("$LOG_DIR/ferretdb.log") ;;
    all) files=("$LOG_DIR/kafka.log" "$LOG_DIR/kafka.out" "$LOG_DIR/ferretdb.log") ;;
    *) die "logs: unknown component '$which' (kafka | kafka-N | ferretdb)" ;;
  esac
  local existing=() f
  for f in "${files[@]}"; do [[ -f "$f" ]] && existing+=("$f"); done
  ((${#existing[@]})) || { say "no logs yet in $LOG_DIR"; return 0; }
  tail -n 100 "${follow[@]}" "${existing[@]}"
}

case "$COMMAND" in
  install) cmd_install ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  logs) cmd_logs "${ARGS[@]}" ;;
  *) echo "usage: $0 install|up|down|status [--brokers N] [--kafka-only] | logs [kafka|kafka-N|ferretdb] [-f]" >&2; exit 2 ;;
esac
