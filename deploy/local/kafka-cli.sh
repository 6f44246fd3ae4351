#!/usr/bin/env bash
# Kafka command-line tools against the local broker started by deploy/local/infra.sh,
# run from the jars in the cache (no Kafka distribution needed).
#
#   deploy/local/kafka-cli.sh topics  --list | --describe [--topic T] | --create --topic T [--partitions N] ...
#   deploy/local/kafka-cli.sh groups  --list | --describe --group G | --describe --all-groups ...
#   deploy/local/kafka-cli.sh produce TOPIC [console-producer options]   (lines from stdin; key:value with
#                                          --property parse.key=true --property key.separator=:)
#   deploy/local/kafka-cli.sh consume TOPIC [console-consumer options]   (e.g. --from-beginning --max-messages 5)
#   deploy/local/kafka-cli.sh class MAIN_CLASS [args]                    (any other tool class)
#
# --bootstrap-server 127.0.0.1:$ONEWINDOW_KAFKA_PORT is added unless given.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${ONEWINDOW_CACHE:-$ROOT/.cache}"
LIBS="$CACHE/kafka-4.1.1/libs"
BOOTSTRAP="${ONEWINDOW_KAFKA:-127.0.0.1:${ONEWINDOW_KAFKA_PORT:-9092}}"

die() { echo "kafka-cli.sh: error: $*" >&2; exit 1; }
command -v java >/dev/null 2>&1 || die "'java' not found on PATH (Java 17+ is needed)"
[[ -f "$LIBS/.stamp" ]] || die "Kafka jars not in $LIBS: run deploy/local/infra.sh install first"

run() { # run MAIN ARGS...
  local main="$1"; shift
  local bs=()
  [[ " $* " == *" --bootstrap-server "* ]] || bs=(--bootstrap-server "$BOOTSTRAP")
  exec java -Xms32m -Xmx256m -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$ROOT/deploy/local/kafka/tools-log4j2.properties" \
    -cp "$LIBS/*" "$main" "${bs[@]}" "$@"
}

sub="${1:-}"
[[ $# -gt 0 ]] && shift
case "$sub" in
  topics) run org.apache.kafka.tools.TopicCommand "$@" ;;
  groups) run org.apache.kafka.tools.consumer.group.ConsumerGroupCommand "$@" ;;
  produce)
    [[ $# -ge 1 ]] || die "produce needs a topic"
    t="$1"; shift
    run org.apache.kafka.tools.ConsoleProducer --topic "$t" "$@" ;;
  consume)
    [[ $# -ge 1 ]] || die "consume needs a topic"
    t="$1"; shift
    run org.apache.kafka.tools.consumer.ConsoleConsumer --topic "$t" "$@" ;;
  class)
    [[ $# -ge 1 ]] || die "class needs a main class"
    main="$1"; shift
    exec java -Xmx256m -Dlog4j2.configurationFile="$ROOT/deploy/local/kafka/tools-log4j2.properties" \
      -cp "$LIBS/*" "$main" "$@" ;;
  *) echo "usage: $0 topics|groups|produce|consume|class ..." >&2; exit 2 ;;
esac
