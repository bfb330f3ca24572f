"""Hostile cases for ``dom0less``, and a runner that bounds each one's time and memory.

Shared by the fuzz test (tests/cli/test_fuzz.py, choices drawn by hypothesis)
and the campaign (bench/fuzz.py, choices from a seeded random.Random). A case
starts from an example description (every optional section appears in one of
them) in either device-tree mode, then changes it as a hostile user would:
values of the wrong kind or holding control characters, deleted keys, inputs
that are FIFOs, directories, symlink loops or huge, corrupted host and
partial DTBs, host trees whose device nodes, reg, ranges and reserved memory are
changed with random nodes passed through, and edits of the YAML text itself. The only
outcomes allowed are exit 0 or 1, with no traceback, within the time and memory limits,
and a case with a changed host tree that exits 0 must have no overlap the isolation
oracle (isolation_oracle.py, written apart from the product) finds.
"""

from __future__ import annotations

import contextlib
import copy
import os
import random
import resource
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Protocol, TypeVar

import fdt
import yaml

from ..conftest import EXAMPLES, QEMU_DTB, arm64_image, write_inputs
from .isolation_oracle import cpu_spans, overlaps

T = TypeVar("T")
#: A case that runs longer than this (seconds) has hung; one allowed more memory has leaked.
TIME_LIMIT = 20.0
MEMORY_LIMIT = 3 << 30

BASES = [
    yaml.safe_load(path.read_text())
    for path in sorted(EXAMPLES.glob("*.yaml")) + sorted((EXAMPLES / "releases").glob("*.yaml"))
]
HOSTILE_TEXT = [
    "",
    " ",
    "a\nb",
    "x;reset",
    "my kernel;reset",
    "${UNSET_VARIABLE}",
    "$(reset)",
    "it's",
    '"quoted"',
    "<0x1>",
    "[00]",
    "caf\u00e9",
    "\x00",
    "\x03\x04",
    "\uff11\uff16M",
    "0-99999999999",
    "0-9999," * 40 + "0",
    "9" * 40,
    "0x",
    "16Q",
    "../" * 40 + "etc/passwd",
    "/dev/zero",
    "/proc/self/status",
    "/",
    "/nonexistent",
    "x" * 300,
    "#comment",
    "-1",
]
HOSTILE_VALUES: list[Any] = [
    *HOSTILE_TEXT,
    0,
    -1,
    1,
    2**32,
    2**64,
    2**64 - 1,
    10**30,
    True,
    False,
    None,
    1.5,
    [],
    {},
    [1, "a"],
    {"x": 1},
]
TEXT_EDITS = ["insert", "delete", "duplicate", "truncate", "anchor", "bytes"]


class Draw(Protocol):
    """Where a case's choices come from: hypothesis (shrinks) or a seeded Random."""

    def pick(self, options: list[T]) -> T: ...

    def number(self, low: int, high: int) -> int: ...


class RandomDraw:
    def __init__(self, seed: int):
        self.random = random.Random(seed)

    def pick(self, options: list[T]) -> T:
        return self.random.choice(options)

    def number(self, low: int, high: int) -> int:
        return self.random.randint(low, high)


@dataclass
class Case:
    argv: list[str]
    environ: dict[str, str]
    #: What was done, for reports
    steps: list[str]


@dataclass
class Outcome:
    code: int  # the exit status, or -1 when it hung
    stderr: str
    seconds: float

    @property
    def traceback(self) -> bool:
        return "Traceback" in self.stderr or "internal error" in self.stderr

    @property
    def hung(self) -> bool:
        return self.code == -1

    @property
    def ok(self) -> bool:
        return self.code in (0, 1) and not self.traceback


def make_case(draw: Draw, work: Path, inputs: Optional[Path] = None) -> Case:
    """A hostile case in ``work`` (an empty directory): its command line and environment.

    ``inputs``: the synthetic binaries (conftest.write_inputs) when shared between cases.
    """
    inputs = inputs or write_inputs(work / "inputs")
    document = copy.deepcopy(draw.pick(BASES))
    document.setdefault("host", {})["dtb"] = str(QEMU_DTB)
    document.setdefault("boot", {})["device_tree"] = draw.pick(["patched", "fdt-commands"])
    environ = {"DOM0LESS_INPUTS": str(inputs), "SOURCE_DATE_EPOCH": "1700000000"}
    steps = [f"mode {document['boot']['device_tree']}"]
    for _ in range(draw.number(0, 3)):
        change = draw.pick(CHANGES)
        steps.append(change(draw, document, work, environ))
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    if draw.number(0, 4) == 0:
        edit = draw.pick(TEXT_EDITS)
        text = _edit_text(draw, text, edit)
        steps.append(f"text {edit}")
    description = work / "system.yaml"
    description.write_bytes(text.encode("utf-8", "surrogateescape"))
    command = draw.pick(["check", "plan", "build", "build"])
    argv = [command, str(description)]
    if command == "build":
        output = work / draw.pick(["out", "out/deeper", "system.yaml/out", "inputs/xen"])
        argv += ["-o", str(output)]
    steps.append(" ".join(argv[:1] + argv[2:]))
    return Case(argv, environ, steps)


def _leaves(value: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(value, dict):
        return [path] + [leaf for k, v in value.items() for leaf in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [path] + [leaf for i, v in enumerate(value) for leaf in _leaves(v, (*path, i))]
    return [path]


def _parent(document: dict, path: tuple) -> Any:
    target = document
    for key in path[:-1]:
        target = target[key]
    return target


def set_value(draw: Draw, document: dict, work: Path, environ: dict) -> str:
    path = draw.pick(_leaves(document)[1:])
    value = draw.pick(HOSTILE_VALUES)
    _parent(document, path)[path[-1]] = value
    return f"set {'.'.join(map(str, path))} = {value!r:.40}"


def delete_key(draw: Draw, document: dict, work: Path, environ: dict) -> str:
    path = draw.pick(_leaves(document)[1:])
    parent = _parent(document, path)
    del parent[path[-1]]
    return f"delete {'.'.join(map(str, path))}"


def odd_file(draw: Draw, document: dict, work: Path, environ: dict) -> str:
    """An input (or the host DTB) that is no regular file, or a file of the wrong size."""
    kind = draw.pick(["fifo", "directory", "loop", "missing", "empty", "huge", "space name"])
    path = work / f"odd-{kind}-{len(list(work.iterdir()))}"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "loop":
        os.symlink(path, path)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "huge":
        with path.open("wb") as out:
            out.write(arm64_image(64))
            out.truncate(draw.pick([1 << 26, 1 << 30]))
    elif kind == "space name":
        path = work / f"my kernel;reset $x {path.name}"
        path.write_bytes(arm64_image(4096, 65536))
    slots: list[tuple] = [("host", "dtb"), ("xen", "image")]
    domains = document.get("domains")
    count = len(domains) if isinstance(domains, list) else 0
    slots += [
        ("domains", i, key) for i in range(count) for key in ("kernel", "ramdisk", "device_tree")
    ]
    slot = draw.pick(slots)
    try:
        _parent(document, slot)[slot[-1]] = str(path)
    except (KeyError, IndexError, TypeError):
        return f"{kind} file (no slot)"
    return f"{kind} file as {'.'.join(map(str, slot))}"


def corrupt_dtb(draw: Draw, document: dict, work: Path, environ: dict) -> str:
    """The host DTB, or a domain's partial one, with bytes changed, words set or cut short."""
    data = bytearray(QEMU_DTB.read_bytes())
    how = draw.pick(["bytes", "word", "cut"])
    if how == "bytes":
        for _ in range(draw.number(1, 6)):
            data[draw.number(0, len(data) - 1)] = draw.pick([0, 1, 2, 3, 4, 9, 0xFF, 0x80])
    elif how == "word":
        at = draw.pick([4 * draw.number(0, 9), 4 * draw.number(0, len(data) // 4 - 1)])
        value = draw.pick([0, 1, 0xFFFFFFFF, len(data), 0x7FFFFFFF, draw.number(0, 1 << 16)])
        data[at : at + 4] = value.to_bytes(4, "big")
    else:
        del data[draw.number(0, len(data) - 1) :]
    path = work / f"corrupt-{len(list(work.iterdir()))}.dtb"
    path.write_bytes(bytes(data))
    domains = document.get("domains")
    if draw.number(0, 1) and isinstance(domains, list) and domains:
        domain = draw.pick(domains)
        if isinstance(domain, dict):
            domain["device_tree"] = str(path)
            return f"partial DTB {how}"
    host = document.get("host")
    if isinstance(host, dict):
        host["dtb"] = str(path)
    return f"host DTB {how}"


def environment(draw: Draw, document: dict, work: Path, environ: dict) -> str:
    name = draw.pick(["SOURCE_DATE_EPOCH", "DOM0LESS_INPUTS"])
    environ[name] = draw.pick(["4294967296", "-1", "\u00b2", "", "x", str(work / "nowhere")])
    return f"env {name}={environ[name]!r}"


#: Where a changed node's registers go: RAM, shared memory, Xen's console, GIC and ITS, the
#: PL061's page (and inside it), a free page, below RAM, the platform bus's window.
ADDRESSES = [
    0x40000000,
    0x7FE00000,
    0x9000000,
    0x8000000,
    0x8081000,
    0x9030000,
    0x9030800,
    0x9100000,
    0x20000000,
    0xC000000,
]
SIZES = [0x18, 0x200, 0x1000, 0x10000, 0x100000]
#: Node names (up to the @) a passthrough is drawn among half the time.
NOTABLE = ("dev", "sub", "area", "memory", "pl0", "intc", "its", "fw-cfg")
#: Prefix of the step that changed the host tree: the oracle judges those cases.
HOST_TREE = "host tree"


def _reg(address: int, size: int) -> fdt.PropWords:
    """A reg of the root's two address and two size cells."""
    return fdt.PropWords("reg", address >> 32, address & 0xFFFFFFFF, size >> 32, size)


def _replace(node: fdt.Node, prop: fdt.Property) -> None:
    if node.exist_property(prop.name):
        node.remove_property(prop.name)
    node.append(prop)


def mutate_host_tree(draw: Draw, document: dict, work: Path, environ: dict) -> str:
    """QEMU's tree with device nodes added or moved, the platform bus's ranges, reserved
    memory and /memreserve/ changed, then random nodes passed through to random domains."""
    tree = fdt.parse_dtb(QEMU_DTB.read_bytes())
    tree.entries = []  # fdt shares one list between trees
    done = []
    for number in range(draw.number(1, 4)):
        what = draw.pick(["add", "add", "bus", "reg", "ranges", "reserved", "memreserve", "off"])
        address, size = draw.pick(ADDRESSES) + draw.pick([0, 0x100, 0x800]), draw.pick(SIZES)
        if what == "add":
            node = fdt.Node(f"dev{number}@{address:x}", fdt.PropStrings("compatible", "t,dev"))
            node.append(_reg(address, size))
            tree.add_item(node, "/")
        elif what == "bus":  # a child of the platform bus: one cell each, through ranges
            offset = draw.pick([0, 0x1000, 0x1800, 0x1FFF000, 0x2000000])
            node = fdt.Node(f"sub{number}@{offset:x}", fdt.PropStrings("compatible", "t,dev"))
            node.append(fdt.PropWords("reg", offset, size))
            tree.add_item(node, "/platform-bus@c000000")
        elif what == "reg":
            path = draw.pick(["/pl061@9030000", "/pl031@9010000", "/fw-cfg@9020000"])
            _replace(tree.get_node(path), _reg(address, size))
        elif what == "ranges":
            ranges = draw.pick([[0, address, 0x2000000], [], [0, address, 0x1000, 0x1000]])
            prop = fdt.PropWords("ranges", *ranges) if ranges else fdt.Property("ranges")
            _replace(tree.get_node("/platform-bus@c000000"), prop)
        elif what == "reserved":
            if not tree.exist_node("/reserved-memory"):
                parent = fdt.Node("reserved-memory", fdt.Property("ranges"))
                parent.append(fdt.PropWords("#address-cells", 2))
                parent.append(fdt.PropWords("#size-cells", 2))
                tree.add_item(parent, "/")
            node = fdt.Node(f"area{number}@{address:x}", _reg(address, size))
            tree.add_item(node, "/reserved-memory")
        elif what == "memreserve":
            tree.entries.append({"address": address, "size": size})
        else:
            path = draw.pick(["/pl061@9030000", "/pl031@9010000", "/platform-bus@c000000"])
            _replace(tree.get_node(path), fdt.PropStrings("status", "disabled"))
        done.append(what)
    path = work / f"host-{len(list(work.iterdir()))}.dtb"
    path.write_bytes(tree.to_dtb(version=17))
    host = document.get("host")
    if not isinstance(host, dict):
        return f"{HOST_TREE} not used: host is {host!r:.40}"
    host["dtb"] = str(path)
    nodes = sorted(cpu_spans(tree)[0])
    # Half the picks among the nodes changed and those on RAM or Xen's, not QEMU's 32 virtio
    interesting = [n for n in nodes if n.split("/")[-1].startswith(NOTABLE)]
    found = document.get("domains")  # an earlier change may have made it anything
    domains = [d for d in found if isinstance(d, dict)] if isinstance(found, list) else []
    given = []
    for _ in range(draw.number(1, 3) if domains else 0):
        domain, node_path = draw.pick(domains), draw.pick(draw.pick([interesting, nodes]))
        if not isinstance(domain.get("passthrough", []), list):
            continue
        domain.setdefault("passthrough", []).append(node_path)
        given.append(f"{node_path} to {domain.get('name')}")
    return f"{HOST_TREE}: {', '.join(done)}; passthrough {', '.join(given) or 'none'}"


def accepted_overlaps(case: Case, outcome: Outcome, work: Path) -> list[str]:
    """What the oracle finds in a case with a changed host tree that dom0less accepted."""
    if outcome.code != 0 or not any(step.startswith(HOST_TREE) for step in case.steps):
        return []
    return overlaps(work / "system.yaml")


CHANGES: list[Callable[[Draw, dict, Path, dict], str]] = [
    set_value,
    set_value,
    delete_key,
    odd_file,
    corrupt_dtb,
    environment,
    mutate_host_tree,
    mutate_host_tree,
]


def _edit_text(draw: Draw, text: str, edit: str) -> str:
    lines = text.splitlines(keepends=True)
    at = draw.number(0, max(len(lines) - 1, 0))
    if edit == "insert":
        lines.insert(at, draw.pick(["- ", ": x\n", "\t", "&a ", "*a\n", "? [1]\n: 2\n", "{"]))
    elif edit == "delete" and lines:
        del lines[at]
    elif edit == "duplicate" and lines:
        lines.insert(at, lines[at])
    elif edit == "truncate":
        return text[: draw.number(0, len(text))]
    elif edit == "anchor":
        bomb = "".join(f"  b{n}: &b{n} [{', '.join([f'*b{n - 1}'] * 9)}]\n" for n in range(1, 9))
        lines.append(draw.pick(["x: &s [1, *s]\n", f"bomb:\n  b0: &b0 [1, 2]\n{bomb}"]))
    elif edit == "bytes":
        lines.insert(at, draw.pick(["\udcff\udcfe\n", "\ufeff", "\x00", "\u2028"]))
    return "".join(lines)


def run_case(case: Case, work: Path) -> Outcome:
    """Run the CLI in a forked child limited to MEMORY_LIMIT more bytes and TIME_LIMIT seconds."""
    from xen_dom0less.cli import main

    err_path = work / "stderr.txt"
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 3
        try:
            os.environ.update(case.environ)
            limit = _address_space() + MEMORY_LIMIT
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            err = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
            os.dup2(err, 2)
            # whatever the parent put there (pytest's capture), the child writes to these
            sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
            sys.stderr = open(2, "w", errors="backslashreplace", closefd=False)  # noqa: SIM115
            code = main(case.argv)
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os._exit(code)
    code = _wait(pid, start + TIME_LIMIT)
    stderr = err_path.read_text(errors="replace") if err_path.exists() else ""
    return Outcome(code, stderr, time.monotonic() - start)


def _wait(pid: int, deadline: float) -> int:
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return -1
        time.sleep(0.005)


def _address_space() -> int:
    """This process's virtual size in bytes (the child's limit is counted from it)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
