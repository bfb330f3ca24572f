"""Which Xen release knows which dom0less feature, and which Kconfig it needs.

This table is the single place that encodes Xen's
``docs/misc/arm/device-tree/booting.txt`` history: validation refuses a feature
the target release does not have, and the Kconfig fragment is computed from it.
"""

# NamedTuples: annotations evaluated, not `from __future__` strings (see model.py).
from typing import NamedTuple, Optional

Version = tuple[int, int]


def parse_version(text: str) -> Version:
    major, minor = text.split(".")[:2]
    return int(major), int(minor)


class Feature(NamedTuple):
    """One description feature: the first Xen release with it and the options it needs.

    ``kconfig_since`` is the release that made those options optional; before
    it the feature was always built in and needs nothing.
    """

    title: str
    since: Version
    kconfig: tuple[str, ...] = ()
    kconfig_since: Version = (0, 0)


FEATURES: dict[str, Feature] = {
    "dom0less_boot": Feature("domUs created at boot", (4, 12), ("DOM0LESS_BOOT",), (4, 19)),
    "vpl011": Feature("vpl011 console", (4, 12), ("SBSA_VUART_CONSOLE",)),
    "static_memory": Feature("static memory (xen,static-mem)", (4, 16), ("STATIC_MEMORY",)),
    "direct_map": Feature("direct-map", (4, 17), ("STATIC_MEMORY",)),
    "cpupools": Feature("boot-time cpupools", (4, 17), ("BOOT_TIME_CPUPOOLS",)),
    "xenstore": Feature("xenstore for domUs (xen,enhanced)", (4, 17)),
    "p2m_mem_mb": Feature("xen,domain-p2m-mem-mb", (4, 17)),
    "static_heap": Feature("static heap (xen,static-heap)", (4, 17)),
    "event_channels": Feature("static event channels", (4, 17), ("STATIC_EVTCHN",), (4, 19)),
    "shared_memory": Feature("static shared memory", (4, 17), ("STATIC_SHM",)),
    "grant": Feature("grant-table limits", (4, 18), ("GRANT_TABLE",)),
    "sve": Feature("SVE vector length", (4, 18), ("ARM64_SVE",)),
    "iommu": Feature("passthrough (IOMMU) property", (4, 19)),
    "shared_memory_auto_host": Feature("static shared memory without a host address", (4, 19)),
    "llc_coloring": Feature("LLC cache colouring (llc-colors)", (4, 20), ("LLC_COLORING",)),
    "capabilities": Feature("domain capabilities", (4, 21)),
    "trap_unmapped_accesses": Feature("trap-unmapped-accesses", (4, 21)),
    "vcpu_affinity": Feature("vCPU hard affinity (xen,vcpu nodes)", (4, 21)),
    "xenstore_legacy": Feature('xen,enhanced = "legacy"', (4, 21)),
    "xenstore_without_dom0": Feature("xenstore without a dom0", (4, 21)),
    "espi": Feature("nr_spis above 960 (GICv3.1 extended SPIs)", (4, 21), ("GICV3_ESPI",)),
    "sci_type": Feature("Arm SCI type (xen,sci_type)", (4, 21)),
    "scmi_smc": Feature('SCMI over SMC (xen,sci_type = "scmi_smc")', (4, 21), ("SCMI_SMC",)),
    "v8r_el1_msa": Feature("Armv8-R EL1 memory system (v8r_el1_msa)", (4, 22), ("MPU",)),
    "xsm_policy": Feature("XSM policy module", (4, 4), ("XSM", "XSM_FLASK")),
}

#: Rules of Xen's that changed between releases, with the first release applying them.
RULES_SINCE: dict[str, Version] = {
    # static-shmem.c refuses a direct-mapped domain's region whose guest and host
    # addresses differ, or that has no host address
    "shm_direct_map_identity": (4, 19),
    # dom0less-build.c numbers its own nodes of a guest's tree from the partial tree's
    # highest phandle up and refuses (-EOVERFLOW) a partial tree whose next one would
    # reach GUEST_PHANDLE_GIC
    "partial_tree_phandles_below_gic": (4, 22),
    # a domain with Xen's PV interfaces gets its xenstore page at boot: from Xen itself
    # (4.21+, "enabled") or later from init-dom0less through populate_physmap (<= 4.20
    # and "legacy"), which a static-memory domain (no spare page: its pages are all
    # given at boot) or a direct-mapped one (the magic page's gfn is not its own) fails
    "xenstore_page_from_xen": (4, 21),
    # "legacy" sets no xenstore at all: dom0less-build.c's late-allocation branch asks for
    # DOM0LESS_XENSTORE | DOM0LESS_XS_LEGACY, which "legacy" (DOM0LESS_ENHANCED_LEGACY =
    # ENHANCED_NO_XS | XS_LEGACY) never has, so the guest's HVM_PARAM_STORE_PFN and
    # _EVTCHN stay 0 and init-dom0less skips it ('no xen,enhanced; nothing to do'). Read
    # in 4.22.0 and booted there (tests/e2e/test_xen_422.py); 4.21's source is not at hand
    "xenstore_legacy_dead": (4, 22),
    # time.c init_dt_xen_time looks the timer's interrupts up by interrupt-names
    # (read in 4.20.4 and 4.22.0; 4.17 takes them by position and ignores the names)
    "timer_interrupt_names": (4, 20),
}

#: SPIs a vGIC has without GICv3.1 extended SPIs: Xen rounds nr_spis up to 32 and
#: allows 1020 - 32 interrupt ids (vgic.c), so at most 960 can be asked for.
MAX_SPIS = 960
#: With CONFIG_GICV3_ESPI (4.21+), larger values must land, rounded up to 32 and plus
#: the 32 local ids, in the eSPI ids 4096-5119 (vgic.c domain_vgic_register).
ESPI_NR_SPIS = (4096 - 32 - 31, 5119 + 1 - 32)

#: Options that Kconfig hides unless these are also enabled (checked in .config).
KCONFIG_DEPENDS: dict[str, tuple[str, ...]] = {
    "DOM0LESS_BOOT": ("EXPERT",),
    "MPU": ("UNSUPPORTED",),
    "STATIC_MEMORY": ("UNSUPPORTED",),
    "STATIC_SHM": ("UNSUPPORTED", "STATIC_MEMORY"),
    "LLC_COLORING": ("EXPERT",),
    "ARM64_SVE": ("UNSUPPORTED",),
    "XSM_FLASK": ("XSM",),
    "SCHED_RTDS": ("UNSUPPORTED",),
    "SCHED_ARINC653": ("UNSUPPORTED",),
    "SCHED_NULL": ("UNSUPPORTED",),
}

#: Scheduler names accepted by ``cpupool-sched`` and the option that builds each.
SCHEDULERS: dict[str, str] = {
    "credit": "SCHED_CREDIT",
    "credit2": "SCHED_CREDIT2",
    "rtds": "SCHED_RTDS",
    "arinc653": "SCHED_ARINC653",
    "null": "SCHED_NULL",
}


class Limits(NamedTuple):
    """What a release hard-codes that a description can exceed, read from its source.

    Xen checks none of these with a message the user sees in time: too many
    modules are dropped before its console exists, the rest panic or fail to
    build a domain.
    """

    #: MAX_MODULES (asm/setup.h; xen/bootinfo.h from 4.21): Xen, its DTB and every
    #: distinct module (Xen merges modules of one kind at one address)
    boot_modules: int
    #: MAX_MODULES again: the module nodes that carry ``bootargs``
    boot_cmdlines: int
    #: BOOTMOD_MAX_CMDLINE: longer module bootargs panic "command line too long"
    cmdline_length: int
    #: MAX_FDT_SIZE: a bigger host DTB is "Invalid device tree blob"
    fdt_size: int
    #: vCPUs of a domU per GIC version: min(vgic_max_vcpus(), MAX_VIRT_CPUS)
    vcpus: dict[int, int]
    #: DOMU_DTB_SIZE: the buffer a domU's device tree is built in (a vCPU node each)
    domu_fdt: int = 4096
    #: whether the buffer grows by the size of the domU's partial device tree (4.18+)
    domu_fdt_adds_partial: bool = True


#: What 4.12 to 4.17 hard-code; later entries change only what their release changed.
_LIMITS_4_12 = Limits(
    boot_modules=32,
    boot_cmdlines=32,
    cmdline_length=1024,
    fdt_size=2 * 1024 * 1024,
    vcpus={2: 8, 3: 128},
    domu_fdt_adds_partial=False,
)
#: Limits by the first release they apply to (the nr_spis bounds are MAX_SPIS and
#: ESPI_NR_SPIS).
LIMITS: dict[Version, Limits] = {
    (4, 12): _LIMITS_4_12,
    (4, 18): _LIMITS_4_12._replace(domu_fdt_adds_partial=True),
    # 2048 + MAX_VIRT_CPUS * 128: room for every vCPU the vGIC allows
    (4, 22): _LIMITS_4_12._replace(domu_fdt_adds_partial=True, domu_fdt=2048 + 128 * 128),
}
#: A domU's device tree as Xen builds it, measured on Xen 4.17 and 4.20 (a domU with vpl011,
#: no partial tree): 2973 bytes with 20 vCPUs, 4095 with 32; 33 fail 'Device tree
#: generation failed (-3)'.
DOMU_FDT_BASE = 1100
DOMU_FDT_PER_VCPU = 93


def limits(version: str) -> Limits:
    """The limits of ``version``: those of the newest table entry not after it."""
    wanted = parse_version(version)
    return LIMITS[max(v for v in LIMITS if v <= wanted)]


class UartDriver(NamedTuple):
    """A console driver in xen/drivers/char: its Kconfig option and compatibles per release.

    ``compatibles`` maps the first release with a list to that list; before the
    first key the driver does not exist on arm64. Xen takes a UART as its console
    when any of the node's compatibles is in the list.
    """

    source: str
    option: str
    compatibles: dict[Version, tuple[str, ...]]

    def matches(self, version: str) -> tuple[str, ...]:
        wanted = parse_version(version)
        known = [v for v in self.compatibles if v <= wanted]
        return self.compatibles[max(known)] if known else ()


_NS16550 = ("ns16550", "ns16550a", "snps,dw-apb-uart")
_MESON = (
    "amlogic,meson-uart",
    "amlogic,meson6-uart",
    "amlogic,meson8-uart",
    "amlogic,meson8b-uart",
    "amlogic,meson-gx-uart",
)
#: Read from each release's xen/drivers/char/*.c (DT_MATCH_COMPATIBLE, .compatible), Makefile
#: and Kconfig. Left out: exynos4210-uart (ARM_32 only in every release).
UART_DRIVERS: tuple[UartDriver, ...] = (
    UartDriver(
        "cadence-uart.c", "HAS_CADENCE_UART", {(4, 12): ("cdns,uart-r1p8", "cdns,uart-r1p12")}
    ),
    UartDriver(
        "imx-lpuart.c",
        "HAS_IMX_LPUART",
        {(4, 17): ("fsl,imx8qm-lpuart",), (4, 19): ("fsl,imx8qxp-lpuart",)},
    ),
    UartDriver(
        "linflex-uart.c",
        "HAS_LINFLEX",
        {(4, 20): ("nxp,s32g2-linflexuart", "nxp,s32g3-linflexuart", "fsl,s32v234-linflexuart")},
    ),
    UartDriver(
        "meson-uart.c",
        "HAS_MESON",
        {(4, 13): _MESON},
    ),
    UartDriver("mvebu-uart.c", "HAS_MVEBU", {(4, 12): ("marvell,armada-3700-uart",)}),
    UartDriver(
        "ns16550.c",
        "HAS_NS16550",
        {(4, 12): _NS16550, (4, 13): (*_NS16550, "brcm,bcm2835-aux-uart")},
    ),
    # HAS_OMAP depended on ARM_32 until 4.19
    UartDriver("omap-uart.c", "HAS_OMAP", {(4, 19): ("ti,omap4-uart", "ti,am654-uart")}),
    UartDriver(
        "pl011.c", "HAS_PL011", {(4, 12): ("arm,pl011",), (4, 18): ("arm,pl011", "arm,sbsa-uart")}
    ),
    UartDriver(
        "scif-uart.c",
        "HAS_SCIF",
        {
            (4, 12): ("renesas,scif",),
            (4, 13): ("renesas,scif", "renesas,scifa"),
            (4, 17): ("renesas,scif", "renesas,scifa", "renesas,hscif"),
        },
    ),
)


def uart_driver(version: str, compatibles: list[str]) -> Optional[UartDriver]:
    """The driver ``version`` would bind to a UART with these compatibles, if any."""
    return next(
        (d for d in UART_DRIVERS if any(c in d.matches(version) for c in compatibles)), None
    )


def has(version: str, feature: str) -> bool:
    return parse_version(version) >= FEATURES[feature].since


def applies(version: str, rule: str) -> bool:
    """Whether Xen ``version`` enforces ``rule`` of RULES_SINCE."""
    return parse_version(version) >= RULES_SINCE[rule]


def since_text(feature: str) -> str:
    major, minor = FEATURES[feature].since
    return f"{major}.{minor}"
