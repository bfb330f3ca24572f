"""Build only the Xen hypervisor, configured for a dom0less system description."""

from .build import BuildResult, build_hypervisor

__all__ = ["BuildResult", "build_hypervisor"]
