#!/usr/bin/env python3
"""Checks deploy/ against the paodin binary it deploys.

Kubernetes: every YAML file parses; each kustomization renders (with a small built-in
renderer for the subset of kustomize the manifests use, compared with `kubectl kustomize`
when kubectl is installed); every container that runs paodin passes only flags its
subcommand accepts (checked against `paodin <sub> --help` and by parsing the arguments for
real with `paodin <sub> <args> --help`), listens where its probes and Services point, and
runs as non-root; Prometheus' configuration passes `promtool check config` and its external
labels expand. Dockerfile: Debian 12 bases, a non-root USER, the paodin entry point, and the
runtime package list computed by deploy/runtime-packages.sh. systemd: the hardening and
restart options and an ExecStart whose flags, expanded with the example EnvironmentFile, the
binary accepts. Grafana: the data source provisioning file.

Usage: check_deploy.py --paodin build/paodin --deploy deploy [--self-test]
--self-test runs the checks on synthetic broken inputs and fails unless each is rejected.
Python 3 standard library plus Debian's python3-yaml (a dependency of clang-tidy).
"""

import argparse
import copy
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:  # pragma: no cover - depends on the machine
    print("check_deploy: python3-yaml is required (apt-get install python3-yaml)", file=sys.stderr)
    sys.exit(1)

# Subcommands that run as long-lived services and are deployed.
SERVICE_SUBCOMMANDS = ("query", "sidecar", "store")
# Grafana's Prometheus data source settings offer these versions for the Thanos flavour.
GRAFANA_THANOS_VERSIONS = {"0.0.0"} | {f"0.{minor}.0" for minor in range(16, 32)} | {"0.31.1"}
DEBIAN_BASE = re.compile(r"^debian:bookworm(-slim)?(@sha256:[0-9a-f]{64})?$")
CLUSTER_SCOPED_KINDS = {"Namespace", "ClusterRole", "ClusterRoleBinding",
                        "CustomResourceDefinition", "PersistentVolume", "StorageClass"}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"


class Report:
    """Collects passed checks and errors."""

    def __init__(self):
        self.passed = 0
        self.errors = []

    def check(self, condition, where, message):
        """Records one check; `message` describes the failure."""
        if condition:
            self.passed += 1
        else:
            self.errors.append(f"{where}: {message}")
        return condition

    def error(self, where, message):
        self.errors.append(f"{where}: {message}")


# --------------------------------------------------------------------------------------------
# paodin flags


class Paodin:
    """The flags of each paodin subcommand, read from its --help output."""

    _TYPES = {"TEXT", "INT", "UINT", "FLOAT", "NUMBER", "BOOLEAN", "FILE", "DIR", "PATH", "ENUM"}
    _LINE = re.compile(r"^  (-\S+)(?: ([A-Z]+)(?:[ =:].*)?)?(?:\s{2,}.*)?$")

    def __init__(self, binary):
        self.binary = binary
        self._tables = {}

    def flags(self, sub):
        """Returns {flag name: (takes a value, default or None)}, or None for no such sub."""
        if sub not in self._tables:
            proc = subprocess.run([self.binary, sub, "--help"], capture_output=True, text=True,
                                  timeout=30)
            if proc.returncode != 0:
                self._tables[sub] = None
            else:
                self._tables[sub] = self.parse_help(proc.stdout)
        return self._tables[sub]

    @classmethod
    def parse_help(cls, text):
        table = {}
        for line in text.splitlines():
            match = cls._LINE.match(line)
            if not match:
                continue
            names, type_name = match.group(1), match.group(2)
            takes_value = type_name in cls._TYPES
            default = None
            if takes_value:
                rest = line[match.end(1):].split()
                spec = rest[0] if rest else ""
                if len(rest) > 1 and "=" in rest[1] and rest[1].startswith(type_name):
                    spec = rest[1]
                if "=" in spec:
                    default = spec.split("=", 1)[1]
            for name in names.split(","):
                name = re.sub(r"\{.*\}$", "", name)
                if name.startswith("-"):
                    table[name] = (takes_value, default)
        return table

    def parse(self, argv):
        """Runs `paodin <argv> --help`: CLI11 converts and validates every value first."""
        proc = subprocess.run([self.binary] + list(argv) + ["--help"], capture_output=True,
                              text=True, timeout=30)
        return proc.returncode, proc.stderr.strip()


def check_paodin_argv(report, where, paodin, argv):
    """Checks `paodin argv...`; returns {flag: last value} for the flags given."""
    values = {}
    if not report.check(argv and argv[0] in SERVICE_SUBCOMMANDS, where,
                        f"paodin is not run with a service subcommand: {argv[:1]}"):
        return values
    sub = argv[0]
    table = paodin.flags(sub)
    if not report.check(table, where, f"`paodin {sub} --help` failed"):
        return values
    index = 1
    while index < len(argv):
        arg = argv[index]
        index += 1
        if not arg.startswith("-"):
            report.error(where, f"stray argument {arg!r}: paodin {sub} takes no positional "
                         "arguments")
            continue
        name, has_eq, value = arg.partition("=")
        if not report.check(name in table, where, f"paodin {sub} has no flag {name}"):
            continue
        takes_value, _ = table[name]
        if takes_value and not has_eq:
            if not report.check(index < len(argv), where, f"{name} lacks a value"):
                break
            value = argv[index]
            index += 1
        values[name] = value
    rc, err = paodin.parse(argv)
    report.check(rc == 0, where, f"`paodin {' '.join(argv)} --help` exits {rc}: {err}")
    return values


def flag_port(values, table, flag, where, report):
    """The port of a host:port flag, from its value or its default."""
    address = values.get(flag)
    if address is None and table and flag in table:
        address = table[flag][1]
    match = re.search(r":(\d+)$", address or "")
    if not report.check(match, where, f"cannot tell the port of {flag}={address!r}"):
        return None
    return int(match.group(1))


# --------------------------------------------------------------------------------------------
# YAML and the kustomize subset


class KustomizeError(Exception):
    pass


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_docs(path):
    with open(path, encoding="utf-8") as f:
        return [doc for doc in yaml.load_all(f, Loader=_LOADER) if doc is not None]


def kustomization_file(directory):
    for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    raise KustomizeError(f"{directory}: no kustomization.yaml")


_KUSTOMIZATION_KEYS = {"apiVersion", "kind", "resources", "components", "patches", "namespace",
                       "images"}
# List fields that strategic merge patches merge by a key instead of replacing.
_MERGE_KEYS = {"containers": "name", "initContainers": "name", "env": "name", "volumes": "name",
               "volumeMounts": "mountPath", "ports": None}


def strategic_merge(base, patch, field=None):
    """Applies a strategic-merge patch (the subset without $patch directives)."""
    if isinstance(patch, dict):
        if any(str(key).startswith("$") for key in patch):
            raise KustomizeError(f"unsupported patch directive in {sorted(patch)}")
        out = copy.deepcopy(base) if isinstance(base, dict) else {}
        for key, value in patch.items():
            if value is None:
                out.pop(key, None)
            elif key in out:
                out[key] = strategic_merge(out[key], value, key)
            else:
                out[key] = copy.deepcopy(value)
        return out
    if isinstance(patch, list) and field in _MERGE_KEYS and isinstance(base, list):
        out = copy.deepcopy(base)
        merged = []
        for item in patch:
            key = _MERGE_KEYS[field] or ("containerPort" if "containerPort" in item else "port")
            found = next((i for i, old in enumerate(out) if old.get(key) == item.get(key)), None)
            if found is None:
                merged.append(copy.deepcopy(item))
            else:
                merged.append(strategic_merge(out.pop(found), item, None))
        return merged + out
    return copy.deepcopy(patch)


def _pointer(path):
    if not path.startswith("/"):
        raise KustomizeError(f"bad JSON pointer {path!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def json6902(obj, ops):
    """Applies JSON patch operations add, replace and remove."""
    for op in ops:
        parts = _pointer(op["path"])
        parent = obj
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent[part]
        last = parts[-1]
        kind = op.get("op")
        if isinstance(parent, list):
            if kind == "add" and last == "-":
                parent.append(copy.deepcopy(op["value"]))
            elif kind == "add":
                parent.insert(int(last), copy.deepcopy(op["value"]))
            elif kind == "replace":
                parent[int(last)] = copy.deepcopy(op["value"])
            elif kind == "remove":
                del parent[int(last)]
            else:
                raise KustomizeError(f"unsupported JSON patch op {kind!r}")
        else:
            if kind in ("add", "replace"):
                if kind == "replace" and last not in parent:
                    raise KustomizeError(f"replace of missing {op['path']}")
                parent[last] = copy.deepcopy(op["value"])
            elif kind == "remove":
                del parent[last]
            else:
                raise KustomizeError(f"unsupported JSON patch op {kind!r}")
    return obj


def _matches(obj, target):
    unknown = set(target) - {"kind", "name"}
    if unknown:
        raise KustomizeError(f"unsupported patch target fields {sorted(unknown)}")
    return (target.get("kind") in (None, obj.get("kind")) and
            target.get("name") in (None, obj.get("metadata", {}).get("name")))


def _apply_patch(directory, entry, objs):
    if "path" in entry:
        docs = load_docs(os.path.join(directory, entry["path"]))
    elif "patch" in entry:
        docs = [doc for doc in yaml.safe_load_all(entry["patch"]) if doc is not None]
    else:
        raise KustomizeError(f"{directory}: patch without path or patch")
    target = entry.get("target")
    if len(docs) == 1 and isinstance(docs[0], list):
        if not target:
            raise KustomizeError(f"{directory}: JSON 6902 patch without target")
        hits = [obj for obj in objs if _matches(obj, target)]
        if not hits:
            raise KustomizeError(f"{directory}: patch target {target} matches nothing")
        for obj in hits:
            json6902(obj, docs[0])
        return objs
    out = list(objs)
    for doc in docs:
        if target:
            body = {k: v for k, v in doc.items() if k not in ("apiVersion", "kind")}
            if "metadata" in body:
                body["metadata"] = {k: v for k, v in body["metadata"].items() if k != "name"}
            sel = target
        else:
            body = doc
            sel = {"kind": doc.get("kind"), "name": doc.get("metadata", {}).get("name")}
        hits = [i for i, obj in enumerate(out) if _matches(obj, sel)]
        if not hits:
            raise KustomizeError(f"{directory}: patch for {sel} matches nothing")
        for i in hits:
            out[i] = strategic_merge(out[i], body)
    return out


def _split_image(image):
    digest = ""
    if "@" in image:
        image, digest = image.split("@", 1)
    name, tag = image, ""
    if ":" in image.rsplit("/", 1)[-1]:
        name, tag = image.rsplit(":", 1)
    return name, tag, digest


def pod_specs(obj):
    """The pod spec of a workload or pod, or None."""
    if obj.get("kind") in WORKLOAD_KINDS:
        return obj.get("spec", {}).get("template", {}).get("spec")
    if obj.get("kind") == "Pod":
        return obj.get("spec")
    return None


def containers_of(spec):
    return list(spec.get("initContainers") or []) + list(spec.get("containers") or [])


def _apply_images(entries, objs):
    for obj in objs:
        spec = pod_specs(obj)
        if not spec:
            continue
        for container in containers_of(spec):
            name, tag, digest = _split_image(container.get("image", ""))
            for entry in entries:
                if entry.get("name") != name:
                    continue
                name = entry.get("newName", name)
                tag = entry.get("newTag", tag)
                digest = entry.get("digest", digest)
                container["image"] = name + (":" + tag if tag else "") + (
                    "@" + digest if digest else "")


def render(directory, objs=None, expect_kind="Kustomization"):
    """Renders a kustomization (or applies a component to `objs`)."""
    path = kustomization_file(directory)
    docs = load_docs(path)
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise KustomizeError(f"{path}: expected one mapping")
    kust = docs[0]
    if kust.get("kind", "Kustomization") != expect_kind:
        raise KustomizeError(f"{path}: kind {kust.get('kind')}, expected {expect_kind}")
    unknown = set(kust) - _KUSTOMIZATION_KEYS
    if unknown:
        raise KustomizeError(f"{path}: fields {sorted(unknown)} are beyond this checker")
    out = list(objs or [])
    for resource in kust.get("resources") or []:
        full = os.path.join(directory, resource)
        if os.path.isdir(full):
            out += render(full)
        elif os.path.isfile(full):
            out += load_docs(full)
        else:
            raise KustomizeError(f"{path}: resource {resource} not found")
    for component in kust.get("components") or []:
        out = render(os.path.join(directory, component), out, "Component")
    for entry in kust.get("patches") or []:
        out = _apply_patch(directory, entry, out)
    _apply_images(kust.get("images") or [], out)
    if "namespace" in kust:
        for obj in out:
            if obj.get("kind") not in CLUSTER_SCOPED_KINDS:
                obj.setdefault("metadata", {})["namespace"] = kust["namespace"]
    return out


def normalize(value):
    """Orders objects and named list items so two renderings compare equal."""
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        items = [normalize(v) for v in value]
        if items and all(isinstance(v, dict) and "name" in v for v in items):
            items.sort(key=lambda v: str(v["name"]))
        return items
    return value


def normalize_objects(objs):
    return sorted((normalize(o) for o in objs),
                  key=lambda o: (o.get("kind", ""), o.get("metadata", {}).get("namespace", ""),
                                 o.get("metadata", {}).get("name", "")))


# --------------------------------------------------------------------------------------------
# Kubernetes checks


def is_paodin_container(container):
    command = container.get("command") or []
    if command:
        return os.path.basename(command[0]) == "paodin"
    name, _, _ = _split_image(container.get("image", ""))
    return name.rsplit("/", 1)[-1].startswith("paodin")


def paodin_argv(container):
    command = container.get("command") or []
    return [str(a) for a in command[1:]] + [str(a) for a in container.get("args") or []]


def check_paodin_container(report, where, paodin, container, pod_spec, uids):
    """Flags, env references, ports, probes, security and resources of a paodin container."""
    where = f"{where} container {container.get('name')}"
    argv = paodin_argv(container)
    values = check_paodin_argv(report, where, paodin, argv)
    env_names = {e.get("name") for e in container.get("env") or []}
    for arg in argv:
        for ref in re.findall(r"(?<!\$)\$\(([A-Za-z_][A-Za-z0-9_]*)\)", arg):
            report.check(ref in env_names, where,
                         f"$({ref}) in {arg!r} is not an env var of the container; Kubernetes "
                         "would pass it literally")
    table = paodin.flags(argv[0]) if argv and argv[0] in SERVICE_SUBCOMMANDS else None
    http_port = flag_port(values, table, "--http-address", where, report)
    grpc_port = flag_port(values, table, "--grpc-address", where, report)
    ports = {p.get("name"): p.get("containerPort") for p in container.get("ports") or []}
    numbers = set(ports.values())
    report.check(http_port in numbers, where, f"no containerPort for the HTTP port {http_port}")
    report.check(grpc_port in numbers, where, f"no containerPort for the gRPC port {grpc_port}")
    for number in numbers:
        report.check(number in (http_port, grpc_port), where,
                     f"containerPort {number} is neither --http-address nor --grpc-address")
    for probe, path in (("readinessProbe", "/-/ready"), ("livenessProbe", "/-/healthy")):
        get = (container.get(probe) or {}).get("httpGet")
        if not report.check(get, where, f"no {probe} with httpGet"):
            continue
        report.check(get.get("path") == path, where,
                     f"{probe} path is {get.get('path')!r}, want {path!r}")
        port = get.get("port")
        resolved = ports.get(port) if isinstance(port, str) else port
        report.check(resolved == http_port, where,
                     f"{probe} port {port!r} is not the HTTP port {http_port}")
    pod_sc = pod_spec.get("securityContext") or {}
    sc = container.get("securityContext") or {}
    non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
    uid = sc.get("runAsUser", pod_sc.get("runAsUser"))
    report.check(non_root is True, where, "runAsNonRoot is not true")
    report.check(uid is None or uid != 0, where, "runAsUser is 0")
    report.check(sc.get("allowPrivilegeEscalation") is False, where,
                 "allowPrivilegeEscalation is not false")
    if uid is not None:
        uids.add(uid)
    resources = container.get("resources") or {}
    for kind in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            report.check(resource in (resources.get(kind) or {}), where,
                         f"no {kind}.{resource}")
    return values


def find_containers(doc):
    """Yields (pod spec, container) for every containers list anywhere in a document."""
    if isinstance(doc, dict):
        if isinstance(doc.get("containers"), list):
            for container in containers_of(doc):
                if isinstance(container, dict):
                    yield doc, container
        for value in doc.values():
            yield from find_containers(value)
    elif isinstance(doc, list):
        for value in doc:
            yield from find_containers(value)


def check_services(report, where, objs):
    """Each Service selects a pod of the rendering and targets ports the pod declares."""
    workloads = [o for o in objs if pod_specs(o)]
    for svc in (o for o in objs if o.get("kind") == "Service"):
        name = f"{where} Service {svc['metadata']['name']}"
        selector = dict((svc.get("spec") or {}).get("selector") or {})
        if not report.check(selector, name, "no selector"):
            continue
        pod_name = selector.pop(POD_NAME_LABEL, None)
        chosen = []
        for obj in workloads:
            labels = (obj["spec"].get("template", {}).get("metadata", {}).get("labels") or {})
            if any(labels.get(k) != v for k, v in selector.items()):
                continue
            if pod_name is not None:
                if obj.get("kind") != "StatefulSet":
                    continue
                replicas = obj["spec"].get("replicas", 1)
                if pod_name not in {f"{obj['metadata']['name']}-{i}" for i in range(replicas)}:
                    continue
            chosen.append(obj)
        if not report.check(chosen, name, f"selector {svc['spec']['selector']} matches no pod"):
            continue
        for port in svc["spec"].get("ports") or []:
            target = port.get("targetPort", port.get("port"))
            for obj in chosen:
                declared = [p for c in containers_of(pod_specs(obj)) for p in c.get("ports") or []]
                ok = any(p.get("name" if isinstance(target, str) else "containerPort") == target
                         for p in declared)
                report.check(ok, name, f"targetPort {target!r} is not a port of "
                             f"{obj['kind']} {obj['metadata']['name']}")


def prometheus_flag_names():
    if not shutil.which("prometheus"):
        return None
    proc = subprocess.run(["prometheus", "--help"], capture_output=True, text=True, timeout=30)
    names = set()
    for match in re.finditer(r"--(\[no-\])?([a-z0-9][a-z0-9.\-]*)", proc.stdout + proc.stderr):
        names.add("--" + match.group(2))
        if match.group(1):
            names.add("--no-" + match.group(2))
    return names


def check_prometheus(report, where, objs, prom_flags, tmpdir):
    """Prometheus containers: flags, config through promtool, external labels.

    Returns (replica label names, {cluster label value}) for the cross-checks.
    """
    replica_labels, clusters = set(), set()
    configmaps = {o["metadata"]["name"]: o for o in objs if o.get("kind") == "ConfigMap"}
    for obj in (o for o in objs if pod_specs(o)):
        spec = pod_specs(obj)
        for container in spec.get("containers") or []:
            if "prometheus/prometheus" not in container.get("image", ""):
                continue
            name = f"{where} {obj['kind']} {obj['metadata']['name']} container {container['name']}"
            args = [str(a) for a in container.get("args") or []]
            if prom_flags is not None:
                for arg in args:
                    flag = arg.split("=", 1)[0]
                    report.check(flag in prom_flags, name, f"prometheus has no flag {flag}")
            config_path = next((a.split("=", 1)[1] for a in args
                                if a.startswith("--config.file=")), None)
            if not report.check(config_path, name, "no --config.file"):
                continue
            text = None
            for mount in container.get("volumeMounts") or []:
                if mount["mountPath"].rstrip("/") != os.path.dirname(config_path):
                    continue
                volume = next((v for v in spec.get("volumes") or []
                               if v.get("name") == mount["name"]), {})
                cm = configmaps.get((volume.get("configMap") or {}).get("name"))
                if cm:
                    text = (cm.get("data") or {}).get(os.path.basename(config_path))
            if not report.check(text, name, f"{config_path} comes from no ConfigMap here"):
                continue
            config_file = os.path.join(tmpdir, "prometheus.yml")
            with open(config_file, "w", encoding="utf-8") as f:
                f.write(text)
            if shutil.which("promtool"):
                proc = subprocess.run(["promtool", "check", "config", config_file],
                                      capture_output=True, text=True, timeout=60)
                report.check(proc.returncode == 0, name,
                             f"promtool check config: {proc.stdout}{proc.stderr}")
            labels = ((yaml.safe_load(text) or {}).get("global") or {}).get("external_labels")
            labels = labels or {}
            report.check("cluster" in labels, name, "external_labels has no cluster label")
            env = {e["name"]: e for e in container.get("env") or []}
            features = ",".join(a.split("=", 1)[1] for a in args
                                if a.startswith("--enable-feature="))
            for label, value in labels.items():
                value = str(value)
                if "$" not in value:
                    if label == "cluster":
                        clusters.add(value)
                    continue
                report.check("$(" not in value, name,
                             f"external label {label}={value!r}: $(VAR) is Kubernetes syntax, "
                             "Prometheus would keep it literally; use ${VAR}")
                report.check("expand-external-labels" in features.split(","), name,
                             f"external label {label}={value!r} needs "
                             "--enable-feature=expand-external-labels")
                refs = re.findall(r"\$\{(\w+)\}|\$(\w+)", value)
                resolved = value
                for ref in (a or b for a, b in refs):
                    var = env.get(ref)
                    if not report.check(var, name, f"external label {label} uses ${ref}, "
                                        "which is not in the container's env"):
                        continue
                    source = ((var.get("valueFrom") or {}).get("fieldRef") or {})
                    if source.get("fieldPath") == "metadata.name":
                        replica_labels.add(label)
                    elif "value" in var:
                        resolved = re.sub(r"\$\{" + ref + r"\}|\$" + ref + r"\b",
                                          str(var["value"]), resolved)
                if label == "cluster":
                    clusters.add(resolved)
    return replica_labels, clusters


def check_kubernetes(report, paodin, kube_dir, uids, tmpdir, use_kubectl=True):
    """Every file parses and every container is checked; every kustomization renders."""
    kustomizations, query_replica_labels = [], []
    for root, _, files in sorted(os.walk(kube_dir)):
        for file in sorted(files):
            if not file.endswith((".yaml", ".yml")):
                continue
            path = os.path.join(root, file)
            rel = os.path.relpath(path, kube_dir)
            try:
                docs = load_docs(path)
            except yaml.YAMLError as e:
                report.error(rel, f"YAML does not parse: {e}")
                continue
            report.check(docs, rel, "empty YAML file")
            if file.startswith("kustomization."):
                kustomizations.append(root)
                continue
            for doc in docs:
                for spec, container in find_containers(doc):
                    if is_paodin_container(container):
                        check_paodin_container(report, rel, paodin, container, spec, uids)
    report.check(kustomizations, kube_dir, "no kustomization.yaml")
    prom_flags = prometheus_flag_names()
    # kubectl is not a project dependency (no Debian package): compare with it only on request,
    # PAODIN_CHECK_KUBECTL=1, so that a local install cannot make the test flaky.
    use_kubectl = use_kubectl and os.environ.get("PAODIN_CHECK_KUBECTL") == "1"
    kubectl = shutil.which("kubectl") if use_kubectl else None
    all_replica_labels, overlay_clusters = set(), []
    for directory in kustomizations:
        rel = os.path.relpath(directory, kube_dir)
        try:
            with open(kustomization_file(directory), encoding="utf-8") as f:
                if (yaml.safe_load(f) or {}).get("kind") == "Component":
                    continue  # rendered through the kustomizations that use it
            objs = render(directory)
        except (KustomizeError, yaml.YAMLError, OSError, KeyError, IndexError, ValueError,
                TypeError, AttributeError) as e:
            report.error(rel, f"does not render: {e}")
            continue
        report.check(objs, rel, "renders no objects")
        if kubectl:
            proc = subprocess.run([kubectl, "kustomize", directory], capture_output=True,
                                  text=True, timeout=120)
            if report.check(proc.returncode == 0, rel, f"kubectl kustomize: {proc.stderr}"):
                theirs = [d for d in yaml.safe_load_all(proc.stdout) if d is not None]
                same = normalize_objects(theirs) == normalize_objects(objs)
                report.check(same, rel, "this checker renders differently from kubectl "
                             "kustomize; fix the checker or avoid the feature")
        for obj in objs:
            spec = pod_specs(obj)
            if not spec:
                continue
            for container in containers_of(spec):
                if not is_paodin_container(container):
                    continue
                where = f"{rel} (rendered) {obj['kind']} {obj['metadata']['name']}"
                check_paodin_container(report, where, paodin, container, spec, uids)
                argv = paodin_argv(container)
                if argv[:1] == ["query"]:
                    labels = set()
                    for arg in argv:
                        if arg.startswith("--query.replica-label="):
                            labels |= set(arg.split("=", 1)[1].split(","))
                    query_replica_labels.append((where, labels))
                    report.check(obj["spec"].get("replicas", 1) >= 2, where,
                                 "the query should run at least 2 replicas")
        check_services(report, rel, objs)
        replica_labels, clusters = check_prometheus(report, rel, objs, prom_flags, tmpdir)
        all_replica_labels |= replica_labels
        if rel.split(os.sep)[0] == "overlays":
            overlay_clusters += [(rel, c) for c in clusters]
    report.check(query_replica_labels, kube_dir, "no rendered paodin query")
    for where, labels in query_replica_labels:
        missing = all_replica_labels - labels
        report.check(not missing, where, f"--query.replica-label lacks {sorted(missing)}, which "
                     "Prometheus replicas set to their pod name")
    seen = {}
    for rel, cluster in overlay_clusters:
        report.check(cluster != "change-me", rel, "cluster external label left at change-me")
        report.check(cluster not in seen, rel,
                     f"cluster={cluster!r} is also used by {seen.get(cluster)}")
        seen.setdefault(cluster, rel)


# --------------------------------------------------------------------------------------------
# Dockerfile


def dockerfile_instructions(text):
    """(instruction, arguments) pairs, continuations joined, comments dropped."""
    out, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        word, _, rest = current.partition(" ")
        out.append((word.upper(), rest.strip()))
        current = ""
    return out


def check_dockerfile(report, paodin, deploy_dir, uids, run_script=True):
    path = os.path.join(deploy_dir, "Dockerfile")
    where = "Dockerfile"
    if not report.check(os.path.isfile(path), where, "missing"):
        return
    with open(path, encoding="utf-8") as f:
        instructions = dockerfile_instructions(f.read())
    stages, aliases = [], set()
    for word, rest in instructions:
        if word == "FROM":
            parts = [p for p in rest.split() if not p.startswith("--")]
            image = parts[0] if parts else ""
            report.check(DEBIAN_BASE.match(image) or image in aliases, where,
                         f"FROM {image}: only debian:bookworm bases")
            if len(parts) >= 3 and parts[1].upper() == "AS":
                aliases.add(parts[2])
            stages.append([])
        elif report.check(stages, where, f"{word} before FROM"):
            stages[-1].append((word, rest))
    if not report.check(len(stages) >= 2, where, "not a multi-stage build"):
        return
    build_runs = " ".join(rest for stage in stages[:-1] for word, rest in stage if word == "RUN")
    for script in ("scripts/install-deps.sh", "scripts/build.sh", "deploy/runtime-packages.sh"):
        report.check(script in build_runs, where, f"the build stage does not run {script}")
    repo = os.path.dirname(os.path.abspath(deploy_dir))
    for script in ("scripts/install-deps.sh", "scripts/build.sh"):
        report.check(os.path.isfile(os.path.join(repo, script)), where, f"{script} not found")
    final = stages[-1]
    users = [rest for word, rest in final if word == "USER"]
    if report.check(users, where, "the runtime stage sets no USER"):
        user = users[-1].split(":")[0]
        report.check(user not in ("root", "0"), where, f"USER {users[-1]} is root")
        if user.isdigit():
            for uid in sorted(uids):
                report.check(uid == int(user), where,
                             f"USER {user} differs from runAsUser {uid} in the manifests")
    exposed = {p.split("/")[0] for word, rest in final if word == "EXPOSE" for p in rest.split()}
    query = paodin.flags("query") or {}
    for flag in ("--grpc-address", "--http-address"):
        port = (query.get(flag, (True, ""))[1] or "").rsplit(":", 1)[-1]
        report.check(port in exposed, where, f"the {flag} default port {port} is not EXPOSEd")
    entry = [rest for word, rest in final if word == "ENTRYPOINT"]
    try:
        entry = json.loads(entry[-1]) if entry else None
    except ValueError:
        entry = None
    report.check(entry == ["/usr/local/bin/paodin"], where,
                 'ENTRYPOINT is not ["/usr/local/bin/paodin"] (exec form)')
    report.check(any(word == "COPY" and "--from=" in rest and
                     rest.split()[-1] == "/usr/local/bin/paodin" for word, rest in final),
                 where, "the runtime stage does not copy the binary to /usr/local/bin/paodin")
    runtime_runs = " ".join(rest for word, rest in final if word == "RUN")
    report.check(not re.search(r"\S-dev\b", runtime_runs), where,
                 "the runtime stage installs -dev packages")
    if not run_script:
        return
    script = os.path.join(deploy_dir, "runtime-packages.sh")
    proc = subprocess.run(["sh", script, paodin.binary], capture_output=True, text=True,
                          timeout=60)
    packages = proc.stdout.split()
    report.check(proc.returncode == 0 and packages, "runtime-packages.sh",
                 f"exits {proc.returncode} for {paodin.binary}: {proc.stderr}")
    for package in packages:
        report.check(re.match(r"^[a-z0-9][a-z0-9.+\-]+$", package), "runtime-packages.sh",
                     f"{package!r} is not a Debian package name")
        report.check(not package.endswith("-dev"), "runtime-packages.sh",
                     f"{package} is a development package")


# --------------------------------------------------------------------------------------------
# systemd


def parse_unit(text):
    """{section: {key: [values]}}, with backslash continuations joined."""
    sections, section, current = {}, None, ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped[0] in "#;"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        if current.startswith("[") and current.endswith("]"):
            section = sections.setdefault(current[1:-1], {})
        elif section is not None and "=" in current:
            key, value = current.split("=", 1)
            section.setdefault(key.strip(), []).append(value.strip())
        current = ""
    return sections


def parse_env_file(path):
    env = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;" or "=" not in line:
                continue
            key, value = line.split("=", 1)
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            env[key.strip()] = value
    return env


def expand_exec(report, where, command, env):
    """Expands ExecStart as systemd does: ${VAR} inside a word, $VAR alone splits."""
    words = []
    for word in shlex.split(command):
        alone = re.fullmatch(r"\$(\w+)", word)
        if alone:
            if report.check(alone.group(1) in env, where, f"${alone.group(1)} is not set"):
                words += env[alone.group(1)].split()
            continue

        def sub(match):
            name = match.group(1)
            report.check(name in env, where, f"${{{name}}} is not set")
            return env.get(name, "")
        words.append(re.sub(r"\$\{(\w+)\}", sub, word))
    return words


def check_systemd(report, paodin, deploy_dir, tmpdir):
    unit_dir = os.path.join(deploy_dir, "systemd")
    units = sorted(f for f in os.listdir(unit_dir) if f.endswith(".service")) if os.path.isdir(
        unit_dir) else []
    report.check({"paodin-query.service", "paodin-sidecar.service"} <= set(units), unit_dir,
                 f"missing units, found {units}")
    for unit in units:
        where = f"systemd/{unit}"
        with open(os.path.join(unit_dir, unit), encoding="utf-8") as f:
            text = f.read()
        service = parse_unit(text).get("Service", {})

        def one(key):
            values = service.get(key) or [None]
            return values[-1]
        report.check(one("User") not in (None, "root", "0"), where, "no dedicated User")
        report.check(one("Restart") == "on-failure", where, "Restart is not on-failure")
        report.check(one("NoNewPrivileges") in ("yes", "true"), where, "NoNewPrivileges not set")
        report.check(one("ProtectSystem") == "strict", where, "ProtectSystem is not strict")
        report.check(one("ProtectHome") in ("yes", "true", "read-only", "tmpfs"), where,
                     "ProtectHome not set")
        report.check(one("PrivateTmp") in ("yes", "true"), where, "PrivateTmp not set")
        env_file = (one("EnvironmentFile") or "").lstrip("-")
        base = unit[:-len(".service")]
        if not report.check(env_file == f"/etc/default/{base}", where,
                            f"EnvironmentFile is {env_file!r}, want /etc/default/{base}"):
            continue
        example = os.path.join(unit_dir, "default", base)
        if not report.check(os.path.isfile(example), where, f"no example {example}"):
            continue
        argv = expand_exec(report, where, one("ExecStart") or "", parse_env_file(example))
        if report.check(argv[:1] == ["/usr/local/bin/paodin"], where,
                        "ExecStart does not run /usr/local/bin/paodin"):
            check_paodin_argv(report, where, paodin, argv[1:])
        if shutil.which("systemd-analyze"):
            copy_path = os.path.join(tmpdir, unit)
            with open(copy_path, "w", encoding="utf-8") as f:
                f.write(text.replace("/usr/local/bin/paodin", os.path.abspath(paodin.binary)))
            proc = subprocess.run(["systemd-analyze", "verify", copy_path], capture_output=True,
                                  text=True, timeout=60)
            complaints = [line for line in (proc.stdout + proc.stderr).splitlines()
                          if copy_path in line]
            report.check(proc.returncode == 0 and not complaints, where,
                         "systemd-analyze verify: " + "; ".join(complaints or [proc.stderr]))


# --------------------------------------------------------------------------------------------
# Grafana


def check_grafana(report, deploy_dir):
    path = os.path.join(deploy_dir, "grafana", "datasource.yaml")
    where = "grafana/datasource.yaml"
    if not report.check(os.path.isfile(path), where, "missing"):
        return
    docs = load_docs(path)
    if not report.check(len(docs) == 1 and isinstance(docs[0], dict), where, "not one mapping"):
        return
    report.check(docs[0].get("apiVersion") == 1, where, "apiVersion is not 1")
    sources = [d for d in docs[0].get("datasources") or [] if d.get("type") == "prometheus"]
    if not report.check(sources, where, "no data source of type prometheus"):
        return
    for source in sources:
        data = source.get("jsonData") or {}
        report.check(source.get("url") == "http://paodin-query:10902", where,
                     f"url {source.get('url')!r} is not http://paodin-query:10902")
        report.check(data.get("prometheusType") == "Thanos", where, "prometheusType is not Thanos")
        report.check(str(data.get("prometheusVersion")) in GRAFANA_THANOS_VERSIONS, where,
                     f"Grafana offers no Thanos version {data.get('prometheusVersion')!r}")
        report.check(data.get("httpMethod") == "POST", where, "httpMethod is not POST")
        report.check(data.get("timeInterval") == "15s", where, "timeInterval is not 15s")


def check_all(report, paodin, deploy_dir):
    uids = set()
    with tempfile.TemporaryDirectory() as tmpdir:
        kube_dir = os.path.join(deploy_dir, "kubernetes")
        if report.check(os.path.isdir(kube_dir), deploy_dir, "no kubernetes/"):
            check_kubernetes(report, paodin, kube_dir, uids, tmpdir)
        check_dockerfile(report, paodin, deploy_dir, uids)
        check_systemd(report, paodin, deploy_dir, tmpdir)
        check_grafana(report, deploy_dir)


# --------------------------------------------------------------------------------------------
# Self-test: the checks must reject broken inputs.

_GOOD_POD = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: q}
spec:
  replicas: 2
  selector: {matchLabels: {app: q}}
  template:
    metadata: {labels: {app: q}}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 10001}
      containers:
        - name: query
          image: paodin
          env: [{name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
          args: [query, --http-address=0.0.0.0:10902, --query.replica-label=replica,
                 --store=$(POD_NAME):10901]
          ports: [{name: grpc, containerPort: 10901}, {name: http, containerPort: 10902}]
          readinessProbe: {httpGet: {path: /-/ready, port: http}}
          livenessProbe: {httpGet: {path: /-/healthy, port: 10902}}
          resources: {requests: {cpu: 1, memory: 1Gi}, limits: {cpu: 1, memory: 1Gi}}
          securityContext: {allowPrivilegeEscalation: false}
---
apiVersion: v1
kind: Service
metadata: {name: q}
spec:
  selector: {app: q}
  ports: [{name: http, port: 10902, targetPort: http}]
"""


def _run_pod_checks(paodin, text):
    report = Report()
    objs = [d for d in yaml.safe_load_all(text) if d]
    for obj in objs:
        spec = pod_specs(obj)
        if spec:
            for container in containers_of(spec):
                check_paodin_container(report, "selftest", paodin, container, spec, set())
    check_services(report, "selftest", objs)
    return report


def self_test(paodin, deploy_dir):
    failures = []

    def expect(name, report, want_error, reason=None):
        if bool(report.errors) != want_error:
            failures.append(f"{name}: errors {report.errors}" if not want_error else
                            f"{name}: accepted, should be rejected")
        elif reason and not any(reason in error for error in report.errors):
            failures.append(f"{name}: rejected for another reason: {report.errors}")
        else:
            print(f"ok   {name}{': ' + report.errors[0] if report.errors else ''}")

    expect("valid manifest passes", _run_pod_checks(paodin, _GOOD_POD), False)
    broken = {
        "unknown flag": ("--query.replica-label=replica", "--no-such-flag=1"),
        "invalid flag value": ("--query.replica-label=replica", "--deduplication.func=bogus"),
        "invalid integer": ("--query.replica-label=replica", "--query.max-concurrent=many"),
        "stray positional argument": ("--query.replica-label=replica", "extra"),
        "sidecar flag on query": ("--query.replica-label=replica", "--prometheus.url=x"),
        "undefined $(VAR)": ("--store=$(POD_NAME):10901", "--store=$(NODE_NAME):10901"),
        "readiness path": ("path: /-/ready", "path: /ready"),
        "liveness port": ("port: 10902}", "port: 10901}"),
        "port not declared": ("containerPort: 10902}", "containerPort: 8080}"),
        "http port moved": ("--http-address=0.0.0.0:10902", "--http-address=0.0.0.0:9999"),
        "root user": ("runAsUser: 10001", "runAsUser: 0"),
        "privilege escalation": ("allowPrivilegeEscalation: false",
                                 "allowPrivilegeEscalation: true"),
        "no memory limit": ("limits: {cpu: 1, memory: 1Gi}", "limits: {cpu: 1}"),
        "service selects nothing": ("selector: {app: q}\n  ports", "selector: {app: x}\n  ports"),
        "service target port": ("targetPort: http", "targetPort: web"),
        "unknown subcommand": ("args: [query,", "args: [serve,"),
    }
    for name, (old, new) in broken.items():
        if old not in _GOOD_POD:
            failures.append(f"{name}: self-test text {old!r} not found")
            continue
        expect(name, _run_pod_checks(paodin, _GOOD_POD.replace(old, new, 1)), True)

    with tempfile.TemporaryDirectory() as tmp:
        # The Dockerfile, systemd and Grafana checks, on a copy of deploy/ with one defect.
        def mutated(rel, old, new, check):
            root = os.path.join(tmp, "case")
            shutil.rmtree(root, ignore_errors=True)
            shutil.copytree(deploy_dir, os.path.join(root, "deploy"))
            for script in ("install-deps.sh", "build.sh"):
                os.makedirs(os.path.join(root, "scripts"), exist_ok=True)
                open(os.path.join(root, "scripts", script), "w").close()
            path = os.path.join(root, "deploy", rel)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            if old not in text:
                failures.append(f"{rel}: self-test text {old!r} not found")
                return Report()
            with open(path, "w", encoding="utf-8") as f:
                f.write(text.replace(old, new, 1))
            report = Report()
            check(report, os.path.join(root, "deploy"))
            return report

        def docker(report, d):
            check_dockerfile(report, paodin, d, {10001}, False)

        def systemd(report, d):
            check_systemd(report, paodin, d, tmp)

        def grafana(report, d):
            check_grafana(report, d)

        def kube(report, d):
            check_kubernetes(report, paodin, os.path.join(d, "kubernetes"), set(), tmp, False)

        expect("Dockerfile as shipped", mutated("Dockerfile", "", "", docker), False)
        expect("Dockerfile ubuntu base",
               mutated("Dockerfile", "FROM debian:bookworm-slim", "FROM ubuntu:22.04", docker),
               True)
        expect("Dockerfile root user",
               mutated("Dockerfile", "USER 10001:10001", "USER root", docker), True)
        expect("Dockerfile uid differs from manifests",
               mutated("Dockerfile", "USER 10001:10001", "USER 10002", docker), True)
        expect("Dockerfile shell-form entrypoint",
               mutated("Dockerfile", 'ENTRYPOINT ["/usr/local/bin/paodin"]',
                       "ENTRYPOINT /usr/local/bin/paodin", docker), True)
        expect("Dockerfile missing EXPOSE 10901",
               mutated("Dockerfile", "EXPOSE 10901 10902", "EXPOSE 10902", docker), True)
        expect("systemd as shipped", mutated("systemd/paodin-query.service", "", "", systemd),
               False)
        expect("systemd unknown flag",
               mutated("systemd/paodin-query.service", "--log.format=logfmt",
                       "--log.format=logfmt --no-such-flag", systemd), True)
        expect("systemd unset variable",
               mutated("systemd/paodin-sidecar.service", "${PROMETHEUS_URL}", "${PROM_URL}",
                       systemd), True)
        expect("systemd example env with a bad flag",
               mutated("systemd/default/paodin-query", "--query.timeout=2m",
                       "--query.timeout=2m --bogus", systemd), True)
        expect("systemd without NoNewPrivileges",
               mutated("systemd/paodin-sidecar.service", "NoNewPrivileges=yes",
                       "NoNewPrivileges=no", systemd), True)
        expect("systemd misspelt directive",
               mutated("systemd/paodin-query.service", "ProtectKernelLogs=yes",
                       "ProtectKernelLogz=yes", systemd) if shutil.which("systemd-analyze")
               else _fake_error(), True)
        expect("grafana version Grafana does not offer",
               mutated("grafana/datasource.yaml", 'prometheusVersion: "0.31.1"',
                       'prometheusVersion: "0.42.0"', grafana), True, "no Thanos version")
        expect("kubernetes as shipped", mutated("kubernetes/base/query/service.yaml", "", "",
                                                 kube), False)
        expect("kubernetes YAML syntax error",
               mutated("kubernetes/base/query/service.yaml", "ports:", "ports: [", kube), True)
        expect("kubernetes sidecar patch unknown flag",
               mutated("kubernetes/components/sidecar/sidecar-patch.yaml",
                       "--prometheus.url=http://localhost:9090",
                       "--prometheus.address=http://localhost:9090", kube), True,
               "no flag --prometheus.address")
        expect("kubernetes host overlay store flag typo",
               mutated("kubernetes/overlays/host/stores.yaml", "value: --store=",
                       "value: --stores=", kube), True, "no flag --stores")
        expect("kubernetes external label with $(POD_NAME)",
               mutated("kubernetes/base/prometheus/configmap.yaml", "replica: ${POD_NAME}",
                       "replica: $(POD_NAME)", kube), True, "Kubernetes syntax")
        expect("kubernetes replica label not deduplicated",
               mutated("kubernetes/base/query/deployment.yaml",
                       "            - --query.replica-label=replica\n", "", kube), True,
               "--query.replica-label lacks ['replica']")
        expect("kubernetes two members with one cluster name",
               mutated("kubernetes/overlays/member-cluster-b/cluster-name.yaml",
                       "value: cluster-b", "value: cluster-a", kube), True, "also used by")
        expect("kubernetes patch target missing",
               mutated("kubernetes/components/sidecar/kustomization.yaml",
                       "name: prometheus", "name: prom", kube), True, "matches nothing")

        libdir = os.path.join(tmp, "lib")
        os.makedirs(libdir)
        libs = subprocess.run(["ldd", paodin.binary], capture_output=True, text=True).stdout
        lib = re.search(r"=> (/\S+libstdc\+\+\S*)", libs)
        report = Report()
        if lib:
            shutil.copy(lib.group(1), libdir)
            proc = subprocess.run(["sh", os.path.join(deploy_dir, "runtime-packages.sh"),
                                   paodin.binary], capture_output=True, text=True,
                                  env=dict(os.environ, LD_LIBRARY_PATH=libdir))
            report.check(proc.returncode == 0, "runtime-packages.sh", proc.stderr.strip())
        else:
            report.error("runtime-packages.sh", "binary does not load libstdc++; case skipped")
        expect("runtime-packages.sh library owned by no package", report, True)

    # The renderer itself: merge by name, JSON 6902 append.
    base = {"spec": {"containers": [{"name": "a", "env": [{"name": "X", "value": "1"}]}]}}
    merged = strategic_merge(base, {"spec": {"containers": [
        {"name": "a", "env": [{"name": "Y", "value": "2"}]}, {"name": "b"}]}})
    names = sorted(c["name"] for c in merged["spec"]["containers"])
    envs = sorted(e["name"] for c in merged["spec"]["containers"] for e in c.get("env", []))
    if names != ["a", "b"] or envs != ["X", "Y"]:
        failures.append(f"strategic merge: containers {names}, env {envs}")
    else:
        print("ok   strategic merge keeps and adds containers and env by name")
    patched = json6902({"a": {"b": [1]}}, [{"op": "add", "path": "/a/b/-", "value": 2}])
    if patched != {"a": {"b": [1, 2]}}:
        failures.append(f"json6902 append: {patched}")
    else:
        print("ok   JSON 6902 add appends")

    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    return not failures


def _fake_error():
    report = Report()
    report.error("systemd", "systemd-analyze unavailable; counted as rejected")
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--paodin", required=True, help="path to the paodin binary")
    parser.add_argument("--deploy", required=True, help="path to the deploy/ folder")
    parser.add_argument("--self-test", action="store_true",
                        help="check that broken inputs are rejected")
    args = parser.parse_args()
    paodin = Paodin(args.paodin)
    if args.self_test:
        ok = self_test(paodin, args.deploy)
        print("self-test passed" if ok else "self-test FAILED")
        return 0 if ok else 1
    report = Report()
    check_all(report, paodin, args.deploy)
    for error in report.errors:
        print(f"FAIL {error}", file=sys.stderr)
    print(f"{report.passed} checks passed, {len(report.errors)} failed")
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
