"""Build only the Xen hypervisor, configured for a dom0less system description."""

from .hypervisor import BuildResult, build_hypervisor

__all__ = ["BuildResult", "build_hypervisor"]
