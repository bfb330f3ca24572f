"""Turn the files a description names into blobs: identified, sized, shared.

A file used by several domains (same content) becomes one blob loaded once, except
a compressed kernel, which Xen decompresses into new memory and drops (one copy per
domain, images.decompressed_by_xen); ``.dts`` inputs are compiled with dtc here so the
layout knows their size.
"""

from __future__ import annotations

import hashlib
import itertools
import shutil
from pathlib import Path
from typing import Optional, Union

from ... import files
from ...errors import InputFileError, Problems, article
from ...files import Probe
from ..facts import images, text
from ..plan import Blob
from . import dtb_check

#: Bytes of a file's start that identify its format (images.classify).
HEAD = 64
#: A .dts compiles in milliseconds; longer means dtc is stuck reading something.
DTC_TIMEOUT = 60
_FORMATS = {
    "xen": images.XEN_FORMATS,
    "kernel": images.KERNEL_FORMATS,
    "ramdisk": images.RAMDISK_FORMATS,
    "device-tree": frozenset({images.DTB}),
    "xsm-policy": frozenset({images.FLASK}),
}


class BlobCollector:
    """Creates blobs for input files, merging identical contents."""

    def __init__(self, problems: Problems, reserved: set[str]):
        self.problems = problems
        self.blobs: list[Blob] = []
        #: (role, size) -> the blobs read from files: the only candidates for merging
        self._by_size: dict[tuple[str, int], list[Blob]] = {}
        #: (path, role) -> its blob, or the problem that makes it unusable.
        self._by_path: dict[tuple[Path, str], Union[Blob, str]] = {}
        self._names: set[str] = set(reserved)

    def add(self, where: str, role: str, path: Path, user: str) -> Optional[Blob]:
        """Blob for ``path`` used as ``role`` by ``user``; None (and a problem) if unusable.

        Each path is probed once, however many domains name it (a compressed kernel once
        per domain), and read whole only to compare it with another of the same size; an
        unusable one is reported under every key that names it.
        """
        key = (path, role)
        known = self._by_path.get(key)
        if known is None:
            read = self._read(path, role)
            known = read if isinstance(read, str) else self._blob(role, path, *read, user)
            if isinstance(read, str) or not own_copy(role, read[0], read[2]):
                self._by_path[key] = known
        elif isinstance(known, Blob):
            known.users.append(user)
        if isinstance(known, str):
            self.problems.add(where, known)
            return None
        return known

    def add_generated(self, role: str, name: str, data: bytes, user: str) -> Blob:
        """A blob made here (a generated partial device tree), written out as is."""
        blob = Blob(
            role=role,
            file=self._claim(name, user),
            source=None,
            size=len(data),
            span=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            users=[user],
            data=data,
            kind=images.DTB,
        )
        self.blobs.append(blob)
        return blob

    def _claim(self, name: str, user: str) -> str:
        return claim(name, user, self._names)

    def _read(self, path: Path, role: str) -> Union[tuple[Probe, Optional[bytes], str], str]:
        """What the file's start and size tell (and its bytes if generated here) and its
        format, or why it cannot be used: decided before the file is read whole."""
        problem = text.not_script_word(path.name)
        if problem:  # its name goes into the output directory and the boot script
            return f"the file name {text.printable(path.name)!r} {problem}: rename the file"
        try:
            if role == "device-tree" and path.suffix == ".dts":
                compiled = compile_dts(path)
                if isinstance(compiled, str):
                    return compiled
                return Probe(len(compiled), compiled[:HEAD]), compiled, images.DTB
            probe = files.probe(path, HEAD)
            kind = images.classify(probe.head)
            if kind not in _FORMATS[role]:
                wanted = ", ".join(sorted(_FORMATS[role]))
                return f"{path} is {article(kind)} file, not a usable {role} ({wanted})"
            if kind == images.DTB:
                data = files.read(path, dtb_check.MAX_DTB, "a partial device tree")
                invalid = dtb_check.problem(data)
                if invalid:
                    return f"{path} is not a valid device tree blob: {invalid}"
        except files.UnusableFile as error:
            return str(error)
        return probe, None, kind

    def _blob(
        self,
        role: str,
        path: Path,
        probe: Probe,
        generated: Optional[bytes],
        kind: str,
        user: str,
    ) -> Union[Blob, str]:
        """A new blob, or the earlier one with the same content; a sentence if the file
        cannot be read after all."""
        blob = Blob(
            role=role,
            file="",
            source=path,
            size=probe.size,
            span=images.memory_size(probe.head, probe.size, kind),
            users=[user],
            data=generated,
            kind=kind,
        )
        # a kernel Xen decompresses is merged with none, nor offered to later files
        shared = not own_copy(role, probe, kind)
        same_size = self._by_size.setdefault((role, probe.size), []) if shared else []
        try:  # only files of one size can be equal: only they are read whole here
            known = next((b for b in same_size if b.digest() == blob.digest()), None)
        except InputFileError as error:
            return error.lines[0]
        if known is not None:
            known.users.append(user)
            return known
        name = path.name[:-4] + ".dtb" if path.suffix == ".dts" else path.name
        blob.file = self._claim(name, user)
        same_size.append(blob)
        self.blobs.append(blob)
        return blob


def claim(name: str, user: str, taken: set[str]) -> str:
    """``name`` in the output directory, or ``user-name`` (``user-2-name``, ...) if another
    file took it (``taken``, which this adds it to): that too may be taken, by a file of that
    very name."""
    others = (f"{user}-{n}-{name}" for n in itertools.count(2))
    name = next(c for c in itertools.chain((name, f"{user}-{name}"), others) if c not in taken)
    taken.add(name)
    return name


def own_copy(role: str, probe: Probe, kind: str) -> bool:
    """Whether each domain gets its own copy of this file: a kernel Xen decompresses."""
    return role == "kernel" and images.decompressed_by_xen(probe.head, kind)


def compile_dts(path: Path) -> Union[bytes, str]:
    """Compile a .dts with dtc (its include directory is the file's own), or say why not.

    files.UnusableFile if ``path`` is no regular file.
    """
    files.check_regular(path)  # dtc would wait forever on a FIFO
    dtc = shutil.which("dtc")
    if dtc is None:
        return f"{path} needs dtc to compile: install device-tree-compiler or give a .dtb"
    import subprocess  # here, not at the top: most builds compile no .dts (3 ms of start-up)

    try:
        result = subprocess.run(
            [dtc, "-q", "-I", "dts", "-O", "dtb", "-i", str(path.parent), str(path)],
            capture_output=True,
            check=False,
            timeout=DTC_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return f"dtc did not finish compiling {path} in {DTC_TIMEOUT} s (does it include a pipe?)"
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip().splitlines()
        return (
            f"dtc cannot compile {path}: "
            f"{message[0] if message else 'exit ' + str(result.returncode)}"
        )
    return result.stdout
