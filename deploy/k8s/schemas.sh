#!/usr/bin/env bash
# Schemas for deploy/k8s/validate.py, from package registries only, cached in $ONEWINDOW_CACHE/k8s-schemas:
#   kubernetes/v<K8S>-local-strict/   strict JSON schemas of the Kubernetes API (PyPI: kubernetes-validate)
#   crds/strimzi/*.yml                Strimzi CRDs generated from io.strimzi:api (Maven Central) with
#                                     fabric8's crd-generator-cli (Maven Central)
#   crds/mongodb/*.yaml               MongoDB Community operator CRD, from its Go module
#                                     (github.com/mongodb/mongodb-kubernetes-operator, Go module proxy)
#   bin/kubeconform                   kubeconform built from its Go module (validate.py runs it too)
#
#   deploy/k8s/schemas.sh install     fetch what is missing (needs python3 + pip or uv, mvn + java, go)
#   deploy/k8s/schemas.sh path        print the schema directory
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/deploy/k8s"
CACHE="${ONEWINDOW_CACHE:-$ROOT/.cache}"
OUT="$CACHE/k8s-schemas"
K8S_VALIDATE_VERSION="1.37.0"
K8S_VERSION="${ONEWINDOW_K8S_VERSION:-1.33.0}"
MONGO_OPERATOR_MODULE="github.com/mongodb/mongodb-kubernetes-operator"
MONGO_OPERATOR_VERSION="v0.13.0"
KUBECONFORM_VERSION="v0.7.0"

die() { echo "schemas.sh: error: $*" >&2; exit 1; }
say() { echo "schemas.sh: $*"; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH: $2"; }

stamp_of() {
  cat "$HERE/schemas.sh" "$HERE/schemas/pom.xml" | sha256sum | cut -c1-16
}

install_kubernetes() {
  local dir="$OUT/kubernetes/v$K8S_VERSION-local-strict" tmp wheel
  [[ -f "$dir/_definitions.json" ]] && return 0
  tmp="$(mktemp -d)"
  say "fetching kubernetes-validate $K8S_VALIDATE_VERSION (Kubernetes JSON schemas) from PyPI"
  if python3 -m pip --version >/dev/null 2>&1; then
    python3 -m pip download --quiet --no-deps --only-binary=:all: \
      "kubernetes-validate==$K8S_VALIDATE_VERSION" -d "$tmp" >&2 || die "pip download kubernetes-validate failed"
  else
    need uv "pip or uv is needed to fetch kubernetes-validate"
    uv pip install -q --no-deps --target "$tmp/t" "kubernetes-validate==$K8S_VALIDATE_VERSION" \
      || die "uv pip install kubernetes-validate failed"
  fi
  mkdir -p "$OUT/kubernetes"
  wheel="$(ls "$tmp"/kubernetes_validate-*.whl 2>/dev/null | head -n 1 || true)"
  if [[ -n "$wheel" ]]; then
    python3 - "$wheel" "$OUT/kubernetes" "v$K8S_VERSION-local-strict" <<'PY' || die "unpacking $wheel failed"
import sys, zipfile
from pathlib import Path
wheel, out, version = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
prefix = f"kubernetes_validate/kubernetes-json-schema/{version}/"
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.startswith(prefix) and n.endswith(".json")]
    if not names:
        sys.exit(f"{version} not in {wheel}")
    for name in names:
        target = out / version / name[len(prefix):]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(z.read(name))
PY
  else
    cp -r "$tmp/t/kubernetes_validate/kubernetes-json-schema/v$K8S_VERSION-local-strict" "$dir" \
      || die "Kubernetes $K8S_VERSION schemas not in kubernetes-validate $K8S_VALIDATE_VERSION"
  fi
  rm -rf "$tmp"
}

install_strimzi() {
  local dir="$OUT/crds/strimzi" lib="$OUT/strimzi-lib" log="$OUT/strimzi.log"
  compgen -G "$dir/kafkas.kafka.strimzi.io-*.yml" >/dev/null && return 0
  need mvn "Maven is needed to fetch io.strimzi:api (Debian: apt-get install -y maven)"
  need java "Java 17+ is needed to run the CRD generator"
  say "fetching io.strimzi:api and fabric8 crd-generator-cli from Maven Central"
  rm -rf "$lib" "$dir.tmp"
  mkdir -p "$OUT"
  if ! mvn -B -q -o -f "$HERE/schemas/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
        -DoutputDirectory="$lib" >"$log" 2>&1; then
    mvn -B -q -f "$HERE/schemas/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
        -DoutputDirectory="$lib" >"$log" 2>&1 || die "mvn could not fetch the Strimzi API (see $log)"
  fi
  say "generating the Strimzi CRDs from the io.strimzi:api model classes"
  mkdir -p "$dir.tmp"
  java -cp "$lib/*" io.fabric8.crd.generator.cli.CRDGeneratorCLI -o "$dir.tmp" \
      --include-package io.strimzi.api.kafka.model "$(ls "$lib"/api-*.jar)" >>"$log" 2>&1 \
    || die "CRD generation failed (see $log)"
  rm -rf "$dir"; mv "$dir.tmp" "$dir"
}

install_mongodb() {
  local dir="$OUT/crds/mongodb" moddir
  compgen -G "$dir/*.yaml" >/dev/null && return 0
  need go "Go is needed to fetch the MongoDB operator module (Debian: apt-get install -y golang-go)"
  say "fetching $MONGO_OPERATOR_MODULE@$MONGO_OPERATOR_VERSION (its CRD) from the Go module proxy"
  moddir="$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "$MONGO_OPERATOR_MODULE@$MONGO_OPERATOR_VERSION" \
            | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("Dir") or sys.exit(d.get("Error")))')" \
    || die "go mod download $MONGO_OPERATOR_MODULE@$MONGO_OPERATOR_VERSION failed"
  mkdir -p "$dir"
  cp "$moddir"/config/crd/bases/*.yaml "$dir/"
  chmod u+w "$dir"/*.yaml
}

install_kubeconform() {
  [[ -x "$OUT/bin/kubeconform" ]] && return 0
  need go "Go is needed to build kubeconform (Debian: apt-get install -y golang-go)"
  say "building kubeconform $KUBECONFORM_VERSION from the Go module proxy"
  mkdir -p "$OUT/bin"
  (cd /tmp && GOBIN="$OUT/bin" GOFLAGS="-buildvcs=false" \
    go install "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION") >"$OUT/kubeconform.log" 2>&1 \
    || die "go install kubeconform failed (see $OUT/kubeconform.log)"
}

cmd_install() {
  local want stamp="$OUT/.stamp"
  want="$(stamp_of)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -f "$OUT/kubernetes/v$K8S_VERSION-local-strict/_definitions.json" ]]; then
    return 0
  fi
  [[ -f "$stamp" ]] && rm -rf "$OUT"  # another script or pom version: start over
  mkdir -p "$OUT"
  install_kubernetes
  install_strimzi
  install_mongodb
  install_kubeconform
  echo "$want" >"$stamp"
  say "schemas in $OUT"
}

case "${1:-}" in
  install) cmd_install ;;
  path) echo "$OUT" ;;
  *) echo "usage: $0 install|path" >&2; exit 2 ;;
esac
