"""Which release-dependent features a description uses, and the YAML key of each use.

Validation refuses a use the target Xen predates, and the Kconfig fragment
enables the options the uses need: both read this one list, so a feature
added to the description is wired once.
"""

from __future__ import annotations

from ..model import System
from .xen_versions import MAX_SPIS


def uses(system: System) -> list[tuple[str, str]]:
    """(feature of xen_versions.FEATURES, key where the description uses it), in key order."""
    found: list[tuple[str, str]] = []

    def use(feature: str, where: str, used: bool = True) -> None:
        if used:
            found.append((feature, where))

    xen = system.xen
    for index in range(len(xen.static_heap)):
        use("static_heap", f"xen.static_heap[{index}]")
    use("llc_coloring", "xen.llc_coloring", xen.llc_coloring is not None)
    use("xsm_policy", "xen.xsm_policy", xen.xsm_policy is not None)
    if system.dom0 is not None:
        use("llc_coloring", "dom0.llc_colors", system.dom0.llc_colors is not None)
    use("dom0less_boot", "domains", bool(system.domains))
    for domain in system.domains:
        key = domain.key
        use("vpl011", f"{key}.vpl011", domain.vpl011)
        use("static_memory", f"{key}.static_memory", bool(domain.static_memory))
        use("direct_map", f"{key}.direct_map", domain.direct_map)
        use("llc_coloring", f"{key}.llc_colors", domain.llc_colors is not None)
        use("xenstore", f"{key}.xenstore", domain.xenstore is not None)
        use("xenstore_legacy", f"{key}.xenstore", domain.xenstore == "legacy")
        for feature, used in (
            ("p2m_mem_mb", domain.p2m_mem_mb is not None),
            ("grant", domain.grant is not None),
            ("sve", domain.sve not in (None, False)),
            ("iommu", domain.iommu is not None),
            ("capabilities", bool(domain.capabilities)),
            ("trap_unmapped_accesses", domain.trap_unmapped_accesses is not None),
            ("event_channels", bool(domain.event_channels)),
            ("shared_memory", bool(domain.shared_memory)),
            ("vcpu_affinity", bool(domain.vcpu_affinity)),
            ("sci_type", domain.sci_type is not None),
            ("v8r_el1_msa", domain.v8r_el1_msa is not None),
        ):
            use(feature, f"{key}.{feature}", used)
        use("espi", f"{key}.nr_spis", (domain.nr_spis or 0) > MAX_SPIS)
        use("scmi_smc", f"{key}.sci_type", domain.sci_type == "scmi_smc")
    use("cpupools", "cpupools", bool(system.cpupools))
    for index, region in enumerate(system.shared_memory):
        use(
            "shared_memory_auto_host",
            f"shared_memory[{index}] ({region.id}).host_address",
            region.host_address is None,
        )
    return found
