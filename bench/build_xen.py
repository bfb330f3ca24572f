#!/usr/bin/env python3
"""Hypervisor-only build time (clean, then after a one-option change) and the size of xen.

The point of dom0less: no Xen tools and no distribution, one make of the
hypervisor. The clean build starts from Xen's defconfig in an empty build
directory; later builds reuse it, unchanged and then with one option added
as a user enabling a feature for their description would. Defaults to Debian's Xen
source for this machine's suite (fetched once into the cache).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))

from xen_dom0less.xenbuild import BuildResult, build_hypervisor, debian
from xen_dom0less.xenbuild.hypervisor import default_jobs

#: The one-option change: a feature dom0less systems ask for, off in defconfig.
CHANGE = "CONFIG_BOOT_TIME_CPUPOOLS=y"


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--source", type=Path, help="Xen tree or tarball (default: Debian's)")
    options.add_argument("--arch", default="arm64")
    options.add_argument("-j", "--jobs", type=int, default=default_jobs())
    args = options.parse_args()
    source = args.source or debian.fetch()
    with tempfile.TemporaryDirectory(prefix="bench-xen-") as scratch:
        work = Path(scratch)
        (work / "change.cfg").write_text(CHANGE + "\n")

        def build(fragments: list[Path]) -> BuildResult:
            return build_hypervisor(
                source,
                work / "out",
                arch=args.arch,
                jobs=args.jobs,
                build_dir=work / "build",
                fragments=fragments,
                progress=lambda line: None,
            )

        clean = build([])
        unchanged = build([])
        changed = build([work / "change.cfg"])
        print(
            f"Xen {clean.version} {args.arch} hypervisor only, make -j{args.jobs}, source {source}"
        )
        print(f"  clean build (defconfig):        {clean.seconds:6.1f} s")
        print(f"  again, nothing changed:         {unchanged.seconds:6.1f} s")
        print(
            f"  after one option change:        {changed.seconds:6.1f} s  ({CHANGE}; "
            "xen/sched.h tests it, so most files recompile)"
        )
        for label, result in (("defconfig", clean), ("with the change", changed)):
            size = result.xen.stat().st_size
            print(f"  size of xen ({label + '):':17}{size:8} bytes ({size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
