"""The FIT format: what boot.itb holds, signing, determinism, and refused input.

The boots (signed, tampered, unsigned against a required key) are in tests/e2e/test_release.py.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import fdt
import pytest

from xen_dom0less.errors import UserError
from xen_dom0less.generator.model import Region
from xen_dom0less.generator.pipeline import SigningOverride, build, check
from xen_dom0less.generator.render import memory_map, plan_picture

from ...conftest import QEMU_DTB, kernel_like

needs_signing_tools = pytest.mark.skipif(
    shutil.which("mkimage") is None or shutil.which("openssl") is None,
    reason="signing needs mkimage (u-boot-tools) and openssl: run `dom0less setup`",
)


@functools.cache
def _pem(bits: int) -> bytes:
    """One RSA key of each size per session: openssl genrsa takes seconds on 2 busy cores."""
    return subprocess.run(["openssl", "genrsa", str(bits)], check=True, capture_output=True).stdout


def rsa_key(directory: Path, bits: int, name: str = "dev") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    key = directory / f"{name}.key"
    key.write_bytes(_pem(bits))
    return key


def as_fit(signing: dict | None = None, **boot):
    def change(doc: dict) -> None:
        doc["boot"].update({"format": "fit", **boot})
        if signing is not None:
            doc["boot"]["signing"] = signing

    return change


def raw(prop) -> bytes:
    """A property's bytes, however the fdt package guessed its type."""
    if isinstance(prop, fdt.PropWords):
        return b"".join(word.to_bytes(4, "big") for word in prop.data)
    if isinstance(prop, fdt.PropStrings):
        return b"".join(text.encode() + b"\0" for text in prop.data)
    return bytes(prop.data)


def cell(node: fdt.Node, name: str) -> int:
    """A one-cell property's value (an address can look like a string to the fdt package)."""
    return int.from_bytes(raw(node.get_property(name)), "big")


def image_nodes(path: Path) -> dict[str, fdt.Node]:
    tree = fdt.parse_dtb(path.read_bytes())
    return {node.name: node for node in tree.get_node("/images").nodes}


def packed_data(itb: bytes, node: fdt.Node) -> tuple[int, bytes]:
    """An image's data where boot.itb keeps it (outside the structure) and its position."""
    position = cell(node, "data-position")
    return position, itb[position : position + cell(node, "data-size")]


def assert_used_where_it_lies(out: Path, fit_address: int) -> None:
    """Every image's load address is where its data lies once U-Boot loaded boot.itb at
    ``fit_address``, so bootm copies nothing; Xen's is 2 MiB-aligned, the rest on pages."""
    itb = (out / "boot.itb").read_bytes()
    for node in image_nodes(out / "boot.itb").values():
        assert node.get_property("data") is None, node.name  # no copy inside the structure
        position, data = packed_data(itb, node)
        assert cell(node, "load") == fit_address + position, node.name
        assert position % (4 << 10) == 0 and position >= len(itb[: 4 << 10]), node.name
        assert raw(node.get_subnode("hash-1").get_property("value")) == (
            hashlib.sha256(data).digest()
        )
    xen = image_nodes(out / "boot.itb")["xen"]
    assert cell(xen, "load") % (2 << 20) == 0


def test_fit_holds_every_module_once_at_its_address_with_its_sha256(describe, tmp_path):
    out = tmp_path / "out"
    plan = build(describe(as_fit()), out)
    manifest = json.loads((out / "manifest.json").read_text())
    packed = [a for a in manifest["artefacts"] if a.get("in") == "boot.itb"]
    images = image_nodes(out / "boot.itb")
    assert len(images) == len(packed) == len(plan.blobs) - 2  # all but the script and the FIT
    by_description = {n.get_property("description").value.split()[0]: n for n in images.values()}
    itb = (out / "boot.itb").read_bytes()
    for artefact in packed:
        node = by_description[artefact["file"]]
        position, data = packed_data(itb, node)
        assert cell(node, "load") == int(artefact["address"], 16)
        assert plan.fit.address + position == int(artefact["address"], 16)
        # The DTB is carried at its full room: the file, then zeros it can grow into.
        assert hashlib.sha256(data[: artefact["size"]]).hexdigest() == artefact["sha256"]
        assert not data[artefact["size"] :].strip(b"\0")
    assert_used_where_it_lies(out, plan.fit.address)
    # Xen comes last: its BSS runs into free room, over no other image.
    assert max(images.values(), key=lambda n: cell(n, "load")).name == "xen"
    # Only the FIT, its loader and the readable extras are written: no loose binaries.
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["boot.itb", "boot.cmd", "boot.scr", "manifest.json", "xen-kconfig.cfg", "xen.dtb"]
    )
    config = fdt.parse_dtb((out / "boot.itb").read_bytes()).get_node("/configurations/dom0less")
    assert config.get_property("kernel").value == "xen"
    assert len(config.get_property("loadables").data) == len(packed) - 2
    script = (out / "boot.cmd").read_text()
    assert f"bootm 0x{plan.fit.address:x}#dom0less" in script
    assert script.count("load virtio") == 1


def test_fit_is_byte_reproducible(describe, tmp_path):
    path = describe(as_fit())
    build(path, tmp_path / "a")
    build(path, tmp_path / "b")
    for file in (tmp_path / "a").iterdir():
        assert file.read_bytes() == (tmp_path / "b" / file.name).read_bytes(), file.name


@needs_signing_tools
def test_signed_fit_is_reproducible_and_the_key_stays_out(describe, tmp_path):
    key = rsa_key(tmp_path / "keys", 2048)
    path = describe(as_fit({"key": str(key), "uboot_dtb": str(QEMU_DTB)}))
    plan = build(path, tmp_path / "a")
    build(path, tmp_path / "b")
    for file in (tmp_path / "a").iterdir():
        assert file.read_bytes() == (tmp_path / "b" / file.name).read_bytes(), file.name
    control = fdt.parse_dtb((tmp_path / "a" / "u-boot.dtb").read_bytes())
    node = control.get_node("/signature/key-dev")
    assert node.get_property("required").value == "conf"
    assert node.get_property("algo").value == "sha256,rsa2048"
    image_key = control.get_node("/signature/key-dev-image")
    assert image_key.get_property("required").value == "image"
    # Signed, the data stays outside the structure, each image where it is loaded.
    assert_used_where_it_lies(tmp_path / "a", plan.fit.address)
    fit = fdt.parse_dtb((tmp_path / "a" / "boot.itb").read_bytes())
    signature = fit.get_node("/configurations/dom0less/signature-1")
    assert len(raw(signature.get_property("value"))) == 256
    for image in fit.get_node("/images").nodes:
        signed_image = image.get_subnode("signature-1")
        assert signed_image.get_property("key-name-hint").value == "dev-image", image.name
        assert len(raw(signed_image.get_property("value"))) == 256, image.name
    # boot.scr is a signed FIT script: no legacy image U-Boot would run unchecked.
    script = fdt.parse_dtb((tmp_path / "a" / "boot.scr").read_bytes())
    node = script.get_node("/images/script")
    assert node.get_property("type").value == "script"
    assert raw(node.get_property("data")) == (tmp_path / "a" / "boot.cmd").read_bytes()
    assert len(raw(node.get_subnode("signature-1").get_property("value"))) == 256
    configuration = script.get_node("/configurations/dom0less")
    assert configuration.get_property("script").value == "script"
    assert raw(configuration.get_subnode("signature-1").get_property("value"))
    secret = key.read_bytes().splitlines()[1]  # a line of the private key's PEM body
    assert not any(secret in f.read_bytes() for f in (tmp_path / "a").iterdir())


def test_a_board_dtbs_free_space_is_not_carried(describe, tmp_path):
    """QEMU's dumped DTBs are 1 MiB, nearly all free space; the patched DTB is rendered
    packed, so its room (which the FIT carries, read and hashed) follows the board tree's
    content: not a megabyte of zeros to read from the card and hash before Xen."""
    board = bytearray(QEMU_DTB.read_bytes().ljust(1 << 20, b"\0"))
    board[4:8] = (1 << 20).to_bytes(4, "big")
    padded = tmp_path / "qemu-1m.dtb"
    padded.write_bytes(board)

    def padded_board(doc: dict) -> None:
        as_fit()(doc)
        doc["host"]["dtb"] = str(padded)

    out = tmp_path / "out"
    build(describe(padded_board), out)
    itb = (out / "boot.itb").read_bytes()
    fit = fdt.parse_dtb(itb[: int.from_bytes(itb[4:8], "big")])
    room = fit.get_node("/images/fdt").get_property("data-size").value
    assert len((out / "xen.dtb").read_bytes()) < room < len(QEMU_DTB.read_bytes()) + 256 * 1024


def test_the_plan_shows_the_fits_images_as_they_lie_in_it(describe):
    """An arm64 Image's span (BSS included) reaches past its bytes, and in boot.itb the next
    image follows its bytes: `dom0less plan` (its table and its picture) showed the Image
    overlapping the ramdisk although nothing overlaps (Xen copies the kernel out of its
    module)."""
    plan = check(describe(as_fit()))
    rows = [line.split() for line in memory_map.tables(plan).split("\n\n")[1].splitlines()[1:]]
    inside = {b.file for b in plan.packed_blobs()}
    packed = sorted((int(r[0], 16), int(r[1], 16), r[2]) for r in rows if r[2] in inside)
    assert len(packed) == len(inside)
    image = next(b for b in plan.packed_blobs() if b.role == "kernel" and b.span > b.size)
    svg = plan_picture.svg(plan)  # the picture's legend gives each file's range as well
    assert memory_map.room(plan, image).span() in svg and image.region.span() not in svg
    for (_, end, name), (start, _, after) in zip(packed, packed[1:]):
        assert end <= start, f"{name} ends at {end:#x}, after {after} starts at {start:#x}"


def hashed_nodes(fit: fdt.FDT, configuration: str) -> list[str]:
    """The nodes a configuration's signature covers, as mkimage recorded them."""
    signature = fit.get_node(f"/configurations/{configuration}/signature-1")
    return list(signature.get_property("hashed-nodes").data)


@needs_signing_tools
@pytest.mark.parametrize(
    ("version", "images_signed"),
    [(None, True), ("2023.01", True), ("2023.04", False), ("2026.10", False)],
)
def test_images_are_signed_only_for_a_u_boot_whose_source_checks_no_configuration(
    describe, tmp_path, version, images_signed
):
    """From 2023.04 on, `source ADDRESS#dom0less` verifies boot.scr's configuration, so the
    key is required for configurations alone and bootm hashes each image once; before, the
    image key protects boot.scr and is then required of boot.itb's images too. Either way
    the configurations' signatures cover each image node and its sha256."""
    key = rsa_key(tmp_path / "keys", 2048)
    signing = {"key": str(key), "uboot_dtb": str(QEMU_DTB)}
    if version is not None:
        signing["uboot_version"] = version
    out = tmp_path / "out"
    plan = build(describe(as_fit(signing)), out)
    control = fdt.parse_dtb((out / "u-boot.dtb").read_bytes())
    keys = {n.name: n.get_property("required").value for n in control.get_node("/signature").nodes}
    expected = {"key-dev": "conf", **({"key-dev-image": "image"} if images_signed else {})}
    assert keys == expected
    assert_used_where_it_lies(out, plan.fit.address)
    fit = fdt.parse_dtb((out / "boot.itb").read_bytes())
    covered = hashed_nodes(fit, "dom0less")
    for image in fit.get_node("/images").nodes:
        assert image.exist_subnode("signature-1") == images_signed, image.name
        path = f"/images/{image.name}"
        assert path in covered and f"{path}/hash-1" in covered, (path, covered)
    script = fdt.parse_dtb((out / "boot.scr").read_bytes())
    assert script.exist_node("/images/script/signature-1") == images_signed
    assert "/images/script/hash-1" in hashed_nodes(script, "dom0less")


@needs_signing_tools
def test_the_command_line_key_keeps_the_descriptions_u_boot(describe, tmp_path):
    key = rsa_key(tmp_path / "keys", 2048, "release")
    out = tmp_path / "out"
    path = describe(as_fit({"key": str(key), "uboot_version": "2024.01"}))
    build(path, out, signing=SigningOverride(key=key, uboot_dtb=QEMU_DTB))
    control = fdt.parse_dtb((out / "u-boot.dtb").read_bytes())
    assert [n.name for n in control.get_node("/signature").nodes] == ["key-release"]


@needs_signing_tools
def test_key_on_the_command_line(describe, tmp_path):
    key = rsa_key(tmp_path / "keys", 2048, "release")
    out = tmp_path / "out"
    build(describe(as_fit()), out, signing=SigningOverride(key=key, uboot_dtb=QEMU_DTB))
    control = fdt.parse_dtb((out / "u-boot.dtb").read_bytes())
    assert control.exist_node("/signature/key-release")


def _garbage_key(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "junk.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("-----BEGIN RSA PRIVATE KEY-----\nnot a key\n-----END RSA PRIVATE KEY-----\n")
    return path


def _truncated_dtb(tmp_path: Path) -> Path:
    """A DTB cut short: its magic is right, its blocks lie past the end (mkimage -K fails)."""
    path = tmp_path / "cut.dtb"
    path.write_bytes(QEMU_DTB.read_bytes()[:100])
    return path


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "u-boot.dtb"
    os.mkfifo(path)
    return path


BAD = [
    ("missing-key", lambda t: as_fit({"key": str(t / "absent.key")}), "does not exist"),
    ("garbage-key", lambda t: as_fit({"key": str(_garbage_key(t))}), "not an unencrypted PEM"),
    ("short-key", lambda t: as_fit({"key": str(rsa_key(t / "k", 1024))}), "1024-bit RSA key"),
    (
        "dtb-not-a-dtb",
        lambda t: as_fit({"key": str(rsa_key(t / "k", 2048)), "uboot_dtb": str(_garbage_key(t))}),
        "is not a DTB file",
    ),
    (
        "dtb-truncated",
        lambda t: as_fit({"key": str(rsa_key(t / "k", 2048)), "uboot_dtb": str(_truncated_dtb(t))}),
        "is not a DTB file: ",
    ),
    (
        "dtb-fifo",
        lambda t: as_fit({"key": str(rsa_key(t / "k", 2048)), "uboot_dtb": str(_fifo(t))}),
        "is a FIFO (named pipe), not a regular file: give U-Boot's control DTB",
    ),
    (
        "key-without-a-name",
        lambda t: as_fit({"key": str(rsa_key(t / "k", 2048, name=""))}),
        "gives the key name '' (the file name without .key)",
    ),
    (
        "key-name-not-a-node-name",
        lambda t: as_fit({"key": str(rsa_key(t / "k", 2048, name="release key"))}),
        "gives the key name 'release key' (the file name without .key)",
    ),
    (
        "signing-a-script",
        lambda t: as_fit({"key": str(rsa_key(t / "k", 2048))}, format="script"),
        "only a FIT is signed",
    ),
    ("fit-fdt-commands", lambda t: as_fit(device_tree="fdt-commands"), "device_tree: patched"),
    (
        "fit-over-load-region",
        lambda t: as_fit(load_region={"address": 0x40000000, "size": "4M"}),
        "no room to load boot.itb",
    ),
]


@needs_signing_tools
@pytest.mark.parametrize(("make", "expected"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_release_input_is_one_line_and_writes_nothing(describe, tmp_path, make, expected):
    path = describe(make(tmp_path))
    out = tmp_path / "out"
    with pytest.raises(UserError) as caught:
        build(path, out)
    lines = [line for line in caught.value.lines if expected in line]
    assert len(lines) == 1, caught.value.lines
    assert "\n" not in lines[0] and lines[0].startswith(str(path))
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


@needs_signing_tools
@pytest.mark.parametrize("given", ["description", "command-line"])
def test_a_symlinked_key_is_named_after_the_link(describe, tmp_path, given):
    """oe-core names the key UBOOT_SIGN_KEYNAME.key; a key directory of links to the real
    files must still give key-NAME, not the target's name (paths are resolved)."""
    target = rsa_key(tmp_path / "store", 2048, "2026-rotation")
    link = tmp_path / "keys" / "dev.key"
    link.parent.mkdir()
    link.symlink_to(target)
    out = tmp_path / "out"
    if given == "description":
        build(describe(as_fit({"key": str(link), "uboot_dtb": str(QEMU_DTB)})), out)
    else:
        build(describe(as_fit()), out, signing=SigningOverride(key=link, uboot_dtb=QEMU_DTB))
    control = fdt.parse_dtb((out / "u-boot.dtb").read_bytes())
    assert [n.name for n in control.get_node("/signature").nodes] == ["key-dev", "key-dev-image"]
    fit = fdt.parse_dtb((out / "boot.itb").read_bytes())
    signature = fit.get_node("/configurations/dom0less/signature-1")
    assert signature.get_property("key-name-hint").value == "dev"
    assert json.loads((out / "manifest.json").read_text())["fit"]["key_name"] == "dev"


@needs_signing_tools
@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_a_structure_outgrowing_its_room_is_placed_again(describe, tmp_path, monkeypatch, signed):
    """The FIT's structure is placed from an estimate; one larger than that (here: no room
    estimated at all) is measured and placed again, the data still where it is loaded."""
    from xen_dom0less.generator.place import fit_room

    monkeypatch.setattr(fit_room, "OVERHEAD", 0)
    monkeypatch.setattr(fit_room, "PER_IMAGE", 0)
    key = rsa_key(tmp_path / "keys", 4096)
    out = tmp_path / "out"
    plan = build(describe(as_fit({"key": str(key)} if signed else None)), out)
    header = min(b.address for b in plan.packed_blobs()) - plan.fit.address
    assert header > 0
    assert_used_where_it_lies(out, plan.fit.address)


@needs_signing_tools
def test_configurations_signed_alone_warn_that_the_boot_command_must_name_one(describe, tmp_path):
    """From 2023.04 a script FIT without a configuration still runs on its hash alone under
    a plain ``source``: the user who signs configurations only is told so."""
    key = rsa_key(tmp_path / "keys", 2048)
    new = check(describe(as_fit({"key": str(key), "uboot_version": "2023.04"})))
    (warning,) = new.warnings
    assert warning.where == "boot.signing.uboot_version"
    assert "'source ${scriptaddr}#dom0less'" in warning.message
    old = {"key": str(key), "uboot_version": "2023.01"}
    assert check(describe(as_fit(old), name="old.yaml")).warnings == ()


def compressed_fit(inputs: Path, method: str, signing: dict | None = None):
    def change(doc: dict) -> None:
        as_fit(signing, compression=method)(doc)
        image = kernel_like(inputs / "Image-2to1", 3_000_000, 4_000_000)
        doc["domains"][1]["kernel"] = str(image)

    return change


def decompress(method: str, data: bytes) -> bytes:
    if method == "gzip":
        return gzip.decompress(data)
    run = subprocess.run(["lz4", "-d", "-c"], input=data, check=True, capture_output=True)
    return run.stdout


needs_lz4 = pytest.mark.skipif(shutil.which("lz4") is None, reason="lz4 is not installed")


@pytest.mark.parametrize("method", ["gzip", pytest.param("lz4", marks=needs_lz4)])
def test_a_compressed_image_is_decompressed_out_of_the_fit_to_its_own_room(
    describe, inputs, tmp_path, method
):
    """With boot.compression, boot.itb holds Xen and the kernel compressed: bootm checks
    the stored bytes' sha256 and decompresses each to its ``load``, a room of its own that
    the FIT (which U-Boot leaves in place, the DTB and the rest used where they lie) does
    not overlap; the same bytes as the input once decompressed."""
    out = tmp_path / "out"
    plan = build(describe(compressed_fit(inputs, method)), out)
    itb = (out / "boot.itb").read_bytes()
    fit = Region(plan.fit.address, plan.fit.span)
    assert plan.fit.span >= len(itb)
    images = image_nodes(out / "boot.itb")
    by_file = {b.file: b for b in plan.packed_blobs()}
    stored = {}
    for name, node in images.items():
        blob = by_file[node.get_property("description").value.split()[0]]
        position, data = packed_data(itb, node)
        assert raw(node.get_subnode("hash-1").get_property("value")) == (
            hashlib.sha256(data).digest()
        )
        assert node.get_property("compression").value == (blob.compression or "none"), name
        if not blob.compression:
            assert cell(node, "load") == plan.fit.address + position, name
            continue
        stored[blob.role] = blob
        assert cell(node, "load") == blob.address, name
        assert not blob.region.overlaps(fit), (blob, plan.fit)
        assert decompress(method, data) == blob.source.read_bytes(), name
        assert blob.size == blob.source.stat().st_size and len(data) < blob.size / 1.5
    assert sorted(stored) == ["kernel", "xen"]  # the fake ramdisk is too small to gain
    xen = images["xen"]
    assert cell(xen, "entry") == cell(xen, "load") == stored["xen"].address
    assert cell(xen, "load") % (2 << 20) == 0
    rooms = sorted([fit, *(b.region for b in stored.values())], key=lambda r: r.address)
    for before, after in zip(rooms, rooms[1:]):
        assert before.end <= after.address, (before, after)
    # The patched DTB gives Xen each module where bootm decompressed it, at its full size.
    tree = fdt.parse_dtb((out / "xen.dtb").read_bytes())
    kernel = stored["kernel"]
    (module,) = [n for n in tree.search(f"module@{kernel.address:x}", itype=fdt.ItemType.NODE)]
    assert raw(module.get_property("reg"))[-4:] == kernel.size.to_bytes(4, "big")
    rows = memory_map.tables(plan)
    assert f"{kernel.file}" in rows and f"({method}: " in rows
    assert memory_map.room(plan, kernel) == kernel.region


def test_a_module_shrinking_past_what_bootm_decompresses_stays_as_it_is(describe, tmp_path):
    """bootm gives a FIT's loadable 20 times its stored size to decompress into: the fake
    kernel of one repeated byte shrinks more, so the FIT stores it as it is, while the
    script path (unzip is told the size) stores it compressed; Xen, bootm's kernel, has
    U-Boot's larger limit and is compressed in both."""
    fit = check(describe(as_fit(compression="gzip")))
    script = check(describe(lambda d: d["boot"].update(compression="gzip"), name="script.yaml"))
    for plan, kernel in ((fit, ""), (script, "gzip")):
        assert plan.domains["linux"].kernel.compression == kernel
        assert plan.xen.compression == "gzip"


@needs_signing_tools
def test_a_signed_compressed_fit_covers_every_image(describe, inputs, tmp_path):
    """Signed configurations cover each compressed image's node (its ``compression`` and
    ``load`` among its properties) and its hash of the stored bytes."""
    key = rsa_key(tmp_path / "keys", 2048)
    signing = {"key": str(key), "uboot_dtb": str(QEMU_DTB), "uboot_version": "2023.04"}
    out = tmp_path / "out"
    build(describe(compressed_fit(inputs, "gzip", signing)), out)
    fit = fdt.parse_dtb((out / "boot.itb").read_bytes())
    covered = hashed_nodes(fit, "dom0less")
    nodes = fit.get_node("/images").nodes
    compressed = {n.name for n in nodes if n.get_property("compression").value != "none"}
    assert "xen" in compressed and len(compressed) == 2  # Xen and the Linux kernel
    for image in fit.get_node("/images").nodes:
        assert f"/images/{image.name}" in covered and f"/images/{image.name}/hash-1" in covered
