"""Validate the Kubernetes manifests of deploy/k8s against real schemas, strictly.

    python deploy/k8s/validate.py [FILE...] [--schemas DIR] [--kubernetes-version 1.33.0]

Built-in kinds are checked against the strict JSON schemas of the Kubernetes OpenAPI (as shipped in
the kubernetes-validate package on PyPI: unknown fields are errors), custom resources against the
openAPIV3Schema of their CustomResourceDefinition (Strimzi's generated from the io.strimzi:api model
classes on Maven Central, the MongoDB Community operator's from its Go module), made strict the way
kubeconform's openapi2jsonschema does it. A document whose kind has no schema is an error, not a
skip. `deploy/k8s/schemas.sh` puts the schemas into .cache/k8s-schemas.

Limit: fabric8's generator leaves Strimzi's polymorphic sections (listener and user
authentication, authorization, storage: the ones chosen by a `type` field) free-form
(x-kubernetes-preserve-unknown-fields); tests/test_deploy_files.py checks those parts directly.

Then the same files go through kubeconform (-strict, built from its Go module by schemas.sh) with the
same schemas made standalone, as a second, independent validator.

Exit status 0 when every document validates, 1 otherwise (one line per error).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DEFAULT_SCHEMAS = ROOT / ".cache" / "k8s-schemas"
DEFAULT_VERSION = "1.33.0"
NOT_MANIFESTS = {"kustomization.yaml"}

Document = dict[str, Any]


def manifest_files(directory: Path = HERE) -> list[Path]:
    return sorted(p for p in directory.glob("*.yaml") if p.name not in NOT_MANIFESTS)


def load_documents(paths: Iterable[Path]) -> Iterator[tuple[Path, int, Document]]:
    for path in paths:
        for index, doc in enumerate(yaml.safe_load_all(path.read_text())):
            if doc:
                yield path, index, doc


def _strict(schema: Any) -> Any:
    """openAPIV3Schema of a CRD -> JSON schema: unknown fields rejected, int-or-string, nullable."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _strict(value) for key, value in schema.items()}
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if out.pop("nullable", False) and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if out.get("x-kubernetes-preserve-unknown-fields"):
        out.setdefault("additionalProperties", {})
    elif "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


DEFINITIONS = "https://kubernetes.io/api/_definitions.json"
OBJECT_META = DEFINITIONS + "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


@dataclass
class Schemas:
    root: Path
    kubernetes_version: str = DEFAULT_VERSION
    crds: dict[tuple[str, str, str], Document] = field(default_factory=dict)  # (group, version, kind)

    def __post_init__(self) -> None:
        self.kubernetes = self.root / "kubernetes" / f"v{self.kubernetes_version}-local-strict"
        if not (self.kubernetes / "_definitions.json").is_file():
            raise FileNotFoundError(
                f"no Kubernetes schemas in {self.kubernetes}: run deploy/k8s/schemas.sh first"
            )
        definitions = json.loads((self.kubernetes / "_definitions.json").read_text())
        assert definitions["$id"] == DEFINITIONS, definitions["$id"]
        self.registry: Registry = Resource.from_contents(definitions) @ Registry()
        crd_files = sorted((self.root / "crds").rglob("*.y*ml"))
        if not crd_files:
            raise FileNotFoundError(f"no CRDs in {self.root / 'crds'}: run deploy/k8s/schemas.sh first")
        for _, _, crd in load_documents(crd_files):
            if crd.get("kind") != "CustomResourceDefinition":
                continue
            spec = crd["spec"]
            for version in spec["versions"]:
                key = (spec["group"], version["name"], spec["names"]["kind"])
                self.crds[key] = version["schema"]["openAPIV3Schema"]

    def for_document(self, doc: Document) -> tuple[str, Any]:
        """(what the schema is, the JSON schema) for one manifest; KeyError when there is none."""
        api_version, kind = doc["apiVersion"], doc["kind"]
        group, _, version = api_version.rpartition("/")
        if (group, version, kind) in self.crds:
            schema = _strict(self.crds[(group, version, kind)])
            schema.setdefault("properties", {})
            schema["properties"].update(
                {
                    "apiVersion": {"const": api_version},
                    "kind": {"const": kind},
                    "metadata": {"$ref": OBJECT_META},
                }
            )
            schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind", "metadata"})
            schema["additionalProperties"] = False
            return f"CRD {group}/{version} {kind}", schema
        # kubernetes-validate's file naming: apps/v1 -> apps-v1, networking.k8s.io/v1 -> networking-v1
        suffix = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
        path = self.kubernetes / f"{kind.lower()}-{suffix}.json"
        if ("." in group and not group.endswith(".k8s.io")) or not path.is_file():
            raise KeyError(
                f"no schema for {api_version} {kind} (neither Kubernetes {self.kubernetes_version} nor a CRD)"
            )
        return f"Kubernetes {self.kubernetes_version} {api_version} {kind}", json.loads(path.read_text())


def validate_documents(
    docs: Iterable[tuple[Path, int, Document]], schemas: Schemas
) -> tuple[list[str], list[str]]:
    """(errors, one line per valid document)."""
    errors: list[str] = []
    checked: list[str] = []
    for path, index, doc in docs:
        where = f"{path.name}#{index} {doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"
        try:
            what, schema = schemas.for_document(doc)
        except KeyError as missing:
            errors.append(f"{where}: {missing.args[0]}")
            continue
        validator = jsonschema.Draft202012Validator(schema, registry=schemas.registry)
        found = sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
        for error in found:
            location = ".".join(str(p) for p in error.absolute_path) or "(top)"
            errors.append(f"{where}: {location}: {error.message[:300]} [{what}]")
        if not found:
            checked.append(f"{where}: valid against {what}")
    return errors, checked


# ---------------------------------------------------------------- kubeconform (the same schemas)

KUBECONFORM_LOCATION = "{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"


def _local_refs(node: Any, needed: set[str]) -> Any:
    """Rewrite references into _definitions.json to local #/$defs/... ones; collect their names."""
    if isinstance(node, list):
        return [_local_refs(item, needed) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str) and "#/$defs/" in value:
            name = value.split("#/$defs/", 1)[1]
            needed.add(name)
            out[key] = f"#/$defs/{name}"
        else:
            out[key] = _local_refs(value, needed)
    return out


def standalone(schema: Any, schemas: Schemas) -> Any:
    """The schema with the definitions it reaches inlined (kubeconform cannot fetch them offline)."""
    definitions = json.loads((schemas.kubernetes / "_definitions.json").read_text())["$defs"]
    needed: set[str] = set()
    out = _local_refs({k: v for k, v in schema.items() if k != "$id"}, needed)
    defs: dict[str, Any] = {}
    while needed - set(defs):
        for name in sorted(needed - set(defs)):
            defs[name] = _local_refs(definitions[name], needed)
    if defs:
        out["$defs"] = defs
    return out


def write_kubeconform_schemas(docs: Iterable[Document], schemas: Schemas, target: Path) -> None:
    """One standalone schema per kind in use, where KUBECONFORM_LOCATION finds it."""
    for doc in docs:
        api_version, kind = doc["apiVersion"], doc["kind"]
        # kubeconform's .Group is what precedes the "/" (so "v1" for the core group)
        group, version = api_version.split("/")[0], api_version.split("/")[-1]
        path = target / group / f"{kind.lower()}_{version}.json"
        if path.exists():
            continue
        _, schema = schemas.for_document(doc)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(standalone(schema, schemas)))


def kubeconform(binary: Path, files: list[Path], schemas: Schemas) -> subprocess.CompletedProcess[str]:
    """Run kubeconform -strict on `files` against the same schemas, offline."""
    with tempfile.TemporaryDirectory(prefix="kubeconform-") as tmp:
        docs = [doc for _, _, doc in load_documents(files)]
        write_kubeconform_schemas(docs, schemas, Path(tmp))
        return subprocess.run(
            [
                str(binary),
                "-strict",
                "-summary",
                "-schema-location",
                f"{tmp}/{KUBECONFORM_LOCATION}",
                *map(str, files),
            ],
            capture_output=True,
            text=True,
            check=False,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="deploy/k8s/validate.py")
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--schemas", type=Path, default=DEFAULT_SCHEMAS)
    parser.add_argument("--kubernetes-version", default=DEFAULT_VERSION)
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument(
        "--kubeconform",
        type=Path,
        default=None,
        help="kubeconform binary run on the same schemas too (default: <schemas>/bin/kubeconform)",
    )
    parser.add_argument("--no-kubeconform", action="store_true")
    args = parser.parse_args(argv)
    schemas = Schemas(args.schemas, args.kubernetes_version)
    files = args.files or manifest_files()
    errors, checked = validate_documents(load_documents(files), schemas)
    if args.kubeconform is None and not args.no_kubeconform:
        args.kubeconform = args.schemas / "bin" / "kubeconform"
        if not args.kubeconform.exists():
            errors.append(f"no kubeconform at {args.kubeconform}: run deploy/k8s/schemas.sh install")
            args.kubeconform = None
    if args.kubeconform and not args.no_kubeconform:
        result = kubeconform(args.kubeconform, files, schemas)
        print(result.stdout.strip())
        if result.returncode != 0:
            errors.append(
                f"kubeconform failed ({result.returncode}): {result.stdout[-2000:]}{result.stderr[-2000:]}"
            )
    if args.verbose:
        print("\n".join(checked))
    if errors:
        print("\n".join(errors), file=sys.stderr)
    else:
        print(f"{len(checked)} documents valid")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
