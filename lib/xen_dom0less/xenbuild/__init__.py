"""Build only the Xen hypervisor, configured for a dom0less system description."""

from .cached import build_release
from .hypervisor import BuildResult, build_hypervisor, check_config, description_fragment
from .release import ReleaseSource, locate

__all__ = [
    "BuildResult",
    "ReleaseSource",
    "build_hypervisor",
    "build_release",
    "check_config",
    "description_fragment",
    "locate",
]
