"""What the Yocto layer's Python tasks call: plain functions BBIMPORTS can register.

BitBake registers the functions of a BBIMPORTS module by ``package.module``
name, so a task's signature names ``xen_dom0less.tasks.boot_files``; the
generator itself lives one package down, where BBIMPORTS cannot reach.
"""

from __future__ import annotations


def boot_files(description: str, outdir: str, environ: dict) -> None:
    """``dom0less build``: the boot files for ``description`` written into ``outdir``."""
    from .generator import pipeline

    pipeline.build(description, outdir, environ)
