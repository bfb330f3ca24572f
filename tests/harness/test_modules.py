"""The unpacked kernel has no modules.dep: each module's own ``depends=`` orders the loads."""

from __future__ import annotations

from xen_dom0less_harness.guests import modules


def _module(root, path: str, depends: str) -> None:
    ko = root / "lib/modules/6.1.0-arm64/kernel" / path
    ko.parent.mkdir(parents=True, exist_ok=True)
    ko.write_bytes(b"\x7fELF\0license=GPL\0depends=" + depends.encode() + b"\0intree=Y\0")


def test_each_module_comes_after_those_it_needs_and_once(tmp_path):
    kernel = tmp_path / "boot" / "vmlinuz-6.1.0-arm64"
    for path, depends in (
        ("net/bridge/bridge.ko", "llc,stp"),
        ("net/802/stp.ko", "llc"),
        ("net/llc/llc.ko", ""),
        ("crypto/crc32c_generic.ko", ""),
        ("drivers/net/xen-netback/xen-netback.ko", ""),
    ):
        _module(tmp_path, path, depends)
    loaded = modules.ordered(kernel, ("xen-netback", "bridge", "stp", "crc32c_generic"))
    assert [path.stem for path in loaded] == [
        "xen-netback",
        "llc",
        "stp",
        "bridge",
        "crc32c_generic",
    ]
