#!/usr/bin/env bash
# Production Kafka security for OneWindow: a SCRAM-SHA-512 principal per service, each allowed to
# write only its own topics (and their dead letters), read what it consumes, and use its group.
# Passwords come from the environment (ONEWINDOW_KAFKA_PASSWORD_<SERVICE>), never from this file.
# WRITES and READS follow the AsyncAPI documents (docs/asyncapi/<service>.json: "send" and "receive";
# tests/test_deploy_files.py keeps them equal). Services sign in with ONEWINDOW_KAFKA_SASL_USERNAME /
# _PASSWORD, ONEWINDOW_KAFKA_USE_SSL=true and ONEWINDOW_KAFKA_SSL_CAFILE (the CA of the brokers'
# certificates); `python -m contracts.topics create` reads the same variables (an admin principal).
#   KAFKA_BIN=/opt/kafka/bin BOOTSTRAP=kafka:9092 ADMIN_CONFIG=admin.properties deploy/kafka-security/acls.sh
set -euo pipefail
BIN="${KAFKA_BIN:-/opt/kafka/bin}"
BOOTSTRAP="${BOOTSTRAP:?bootstrap server}"
ADMIN="${ADMIN_CONFIG:?client properties of an admin principal}"
PREFIX="${ONEWINDOW_TOPIC_PREFIX:-}"

declare -A WRITES=(
  [catalog]="catalog.office catalog.service catalog.audit catalog.staff"
  [ticketing]="ticketing.ticket ticketing.window ticketing.queue"
  [appointments]="appointments.appointment"
  [feedback]="feedback.feedback"
  [notifier]="notifier.notification"
)
declare -A READS=(
  [catalog]="catalog.audit"
  [ticketing]="catalog.office catalog.service catalog.staff appointments.appointment"
  [appointments]="catalog.office catalog.service catalog.staff ticketing.ticket"
  [feedback]="catalog.office catalog.service catalog.staff ticketing.ticket ticketing.window feedback.feedback portal.application"
  [notifier]="catalog.office catalog.service catalog.staff ticketing.ticket ticketing.queue appointments.appointment feedback.feedback"
)
# Outside producers (not services): a principal each, allowed to write its one topic and nothing
# else (Write implies Describe; since KIP-679, Kafka 2.8+, Write on a topic also allows idempotent
# producing, so no cluster ACL). The city portal reports online applications
# (examples/portal_producer); its password: ONEWINDOW_KAFKA_PASSWORD_PORTAL.
declare -A PRODUCERS=(
  [portal]="portal.application"
)
# Topics a service keeps to itself, not events (so not in the AsyncAPI documents): ticketing's
# ownership topic carries no records, its consumer group ("ticketing-owners") hands out the offices;
# ticketing creates it when missing.
declare -A INTERNAL=(
  [ticketing]="ticketing.commands"
)

# One kafka-acls.sh run per principal and kind of grant, all its topics at once (each run starts a
# JVM: one per topic made this script take minutes).
acl() {
  "$BIN/kafka-acls.sh" --bootstrap-server "$BOOTSTRAP" --command-config "$ADMIN" --add "$@"
}
scram_user() {
  local var password
  var="ONEWINDOW_KAFKA_PASSWORD_$(echo "$1" | tr a-z A-Z)"
  password="${!var:?$var is not set}"
  "$BIN/kafka-configs.sh" --bootstrap-server "$BOOTSTRAP" --command-config "$ADMIN" --alter \
    --add-config "SCRAM-SHA-512=[password=$password]" --entity-type users --entity-name "$1"
}

for service in "${!WRITES[@]}"; do
  scram_user "$service"
  writable=() readable=() internal=()
  for topic in ${WRITES[$service]}; do writable+=(--topic "$PREFIX$topic"); done
  # Every consumer may dead-letter what it cannot handle into the dead-letter topic of what it reads.
  for topic in ${READS[$service]}; do
    readable+=(--topic "$PREFIX$topic")
    writable+=(--topic "$PREFIX$topic.dlt")
  done
  for topic in ${INTERNAL[$service]:-}; do internal+=(--topic "$PREFIX$topic"); done
  acl --allow-principal "User:$service" --operation Write --operation Describe "${writable[@]}"
  if ((${#readable[@]})); then
    acl --allow-principal "User:$service" --operation Read --operation Describe "${readable[@]}"
  fi
  if ((${#internal[@]})); then
    acl --allow-principal "User:$service" --operation Read --operation Describe --operation Create "${internal[@]}"
  fi
  # Groups by prefix: a service may run more than one group (e.g. ticketing-owners).
  acl --allow-principal "User:$service" --operation Read --operation Describe \
    --resource-pattern-type prefixed --group "$PREFIX$service"
  acl --allow-principal "User:$service" --operation IdempotentWrite --cluster
done
for producer in "${!PRODUCERS[@]}"; do
  scram_user "$producer"
  writable=()
  for topic in ${PRODUCERS[$producer]}; do writable+=(--topic "$PREFIX$topic"); done
  acl --allow-principal "User:$producer" --operation Write "${writable[@]}"
done
echo "acls.sh: principals and ACLs in place"
