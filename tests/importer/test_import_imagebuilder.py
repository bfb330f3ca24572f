"""``dom0less import imagebuilder``: configs written from ImageBuilder's README import, check,
and every setting without a counterpart is named; the config is parsed, never run."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from xen_dom0less.cli import main
from xen_dom0less.errors import InputFileError, UserError
from xen_dom0less.generator.pipeline import check
from xen_dom0less.importer import shell_config

from ..conftest import QEMU_DTB

#: The README's example (its uboot-script-gen section), with this project's file names and
#: QEMU virt's RAM and node paths, so the result can be checked against a real board DTB.
README_EXAMPLE = """\
MEMORY_START="0x40000000"
MEMORY_END="0xC0000000"
LOAD_CMD="tftpb"
BOOT_CMD="booti"

DEVICE_TREE="virt.dtb"
XEN="xen"
XEN_CMD="console=dtuart dtuart=/pl011@9000000 dom0_mem=1G dom0_max_vcpus=1 bootscrub=0"
DOM0_KERNEL="Image"
DOM0_CMD="console=hvc0 earlycon=xen earlyprintk=xen clk_ignore_unused"
DOM0_RAMDISK="initrd.cpio"
DOM0_MEM=1024
DOM0_VCPUS=1

NUM_DT_OVERLAY=1
DT_OVERLAY[0]="host_dt_overlay.dtbo"

NUM_DOMUS=2
DOMU_KERNEL[0]="Image"
DOMU_PASSTHROUGH_PATHS[0]="/pl061@9030000"
DOMU_CMD[0]="console=ttyAMA0 rdinit=/sbin/init root=/dev/ram0 init=/bin/sh"
DOMU_RAMDISK[0]="initrd.cpio"
DOMU_KERNEL[1]="rtos.bin"
DOMU_MEM[1]=16
DOMU_VCPUS[1]=1

BITSTREAM=download.bit

UBOOT_SOURCE="boot.source"
UBOOT_SCRIPT="boot.scr"
APPEND_EXTRA_CMDS="extra.txt"
FIT="boot.fit"
"""

#: True dom0less with the README's partitioning options: static memory and direct map,
#: boot-time cpupools, static shared memory, no-xenstore, grant limits, a disabled vpl011.
PARTITIONED = """\
# comments and quoting as bash reads them
MEMORY_START=0x40000000
MEMORY_END=0xC0000000
LOAD_CMD='load virtio 0:1'
DEVICE_TREE=virt.dtb
XEN="xen"
INPUTS="."
NUM_CPUPOOLS=1
CPUPOOL[0]="cpu@2,cpu@3 credit"
NUM_DOMUS=3
DOMU_KERNEL[0]="${INPUTS}/rtos-direct.bin"   # the critical one
DOMU_STATIC_MEM[0]="0x60000000 0x1000000"
DOMU_KERNEL[1]="$INPUTS/rtos.bin"
DOMU_MEM[1]=16
DOMU_CPUPOOL[1]=0
DOMU_SHARED_MEM[1]="shm-1 0x70000000 0x9000000 0x100000"
DOMU_ENHANCED[1]=2
DOMU_GRANT_FRAMES[1]=32
DOMU_KERNEL[2]=rtos.bin
DOMU_MEM[2]=16
DOMU_VPL011[2]=0
DOMU_SHARED_MEM[2]="shm-1 0x70000000 0x8000000 0x100000"
DOMU_NOBOOT[3]=1
"""


def write_config(directory: Path, text: str, inputs: Path) -> Path:
    """The config beside copies of the inputs it names, as ImageBuilder's -d folder holds them."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("xen", "Image", "initrd.cpio", "rtos.bin", "rtos-direct.bin"):
        shutil.copy(inputs / name, directory / name)
    shutil.copy(QEMU_DTB, directory / "virt.dtb")
    config = directory / "config"
    config.write_text(text)
    return config


def import_config(capsys, config: Path, output: Path, *extra: str) -> tuple[dict, list[str]]:
    code = main(["import", "imagebuilder", str(config), "-o", str(output), *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return yaml.safe_load(output.read_text()), captured.err.splitlines()


def test_readme_example_imports_and_checks(capsys, tmp_path, inputs):
    config = write_config(tmp_path / "ib", README_EXAMPLE, inputs)
    output = tmp_path / "out" / "system.yaml"
    output.parent.mkdir()
    document, notes = import_config(capsys, config, output)

    assert document["xen"] == {
        "image": "../ib/xen",
        "version": "4.20",  # the default: the oldest release under security support
        "bootargs": "console=dtuart dtuart=/pl011@9000000 dom0_mem=1G dom0_max_vcpus=1 bootscrub=0",
    }
    assert document["dom0"]["cmdline"].endswith("clk_ignore_unused root=/dev/ram0")
    assert document["dom0"]["memory"] == "1024M"
    first, second = document["domains"]
    assert first["name"] == "domU0" and first["memory"] == "512M"  # ImageBuilder's default
    assert first["passthrough"] == ["/pl061@9030000"]
    assert first["xenstore"] == "enabled"  # DOMU_ENHANCED defaults to 1 with a dom0
    assert second["cmdline"] == "console=ttyAMA0" and second["memory"] == "16M"
    assert document["boot"] == {
        "load": "tftp",
        "command": "booti",
        "format": "fit",
        "load_region": {"address": "0x40000000", "size": "0x80000000"},
    }
    dropped = {line.split(":")[1].strip() for line in notes if line.startswith("not carried")}
    assert dropped == {
        "DOM0_MEM",  # XEN_CMD decides dom0_mem, as in ImageBuilder
        "DOM0_VCPUS",
        "NUM_DT_OVERLAY",
        "DT_OVERLAY[0]",
        "BITSTREAM",
        "UBOOT_SOURCE",
        "UBOOT_SCRIPT",
        "APPEND_EXTRA_CMDS",
    }
    assert "# Not carried over: BITSTREAM" in output.read_text()
    # ImageBuilder builds domU0's partial device tree from a repository; build generates it
    # from the host's node.
    plan = check(output)
    assert plan.domains["domU0"].device_tree.file == "domU0-passthrough.dtb"


def test_partitioning_options_import(capsys, tmp_path, inputs):
    config = write_config(tmp_path, PARTITIONED, inputs)
    document, notes = import_config(
        capsys, config, tmp_path / "system.yaml", "--xen-version", "4.19"
    )

    critical, pooled, quiet = document["domains"]
    assert critical["kernel"] == "rtos-direct.bin"
    assert critical["static_memory"] == [{"address": "0x60000000", "size": "0x1000000"}]
    assert critical["direct_map"] is True  # DOMU_DIRECT_MAP defaults to 1
    assert critical["memory"] == "0x1000000"  # the static banks' total
    assert "xenstore" not in critical  # no dom0: DOMU_ENHANCED defaults to 0
    assert pooled["cpupool"] == "pool0" and pooled["xenstore"] == "no-xenstore"
    assert pooled["grant"] == {"frames": 32}
    assert pooled["shared_memory"] == [{"id": "shm-1", "guest_address": "0x9000000"}]
    assert quiet["vpl011"] is False and "cmdline" not in quiet
    assert document["shared_memory"] == [
        {"id": "shm-1", "size": "0x100000", "host_address": "0x70000000"}
    ]
    assert document["cpupools"] == [
        {"name": "pool0", "cpus": ["/cpus/cpu@2", "/cpus/cpu@3"], "scheduler": "credit"}
    ]
    assert document["boot"]["load"] == "virtio 0:1"
    assert any("DOMU_NOBOOT[3]" in line for line in notes)
    assert any("XEN_CMD" in line for line in notes)
    plan = check(tmp_path / "system.yaml")
    assert [d.name for d in plan.system.domains] == ["domU0", "domU1", "domU2"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('XEN="$(find / -name xen)"', "shell expansion import does not run"),
        ("XEN=`which xen`", "shell syntax"),
        ('XEN="`which xen`"', "command substitution"),
        ("source other.cfg", "not a plain assignment"),
        ("if true; then XEN=xen; fi", "not a plain assignment"),
        ('XEN="$HOME/xen"', "$HOME is not set earlier in the file"),
        ('XEN="xen', 'unterminated " quote'),
        ("XEN=xen; reboot", "shell syntax"),
        ("XEN=xen reboot", "after the value"),
        ("XEN=xe\\", "a backslash at the end of the line continues it"),
        ("DOMU_KERNEL=(Image rtos.bin)", "write one DOMU_KERNEL[0]=..., DOMU_KERNEL[1]=..."),
    ],
)
def test_config_is_parsed_never_run(tmp_path, text, expected):
    path = tmp_path / "config"
    path.write_text(f"# header\n{text}\n")
    with pytest.raises(UserError) as caught:
        shell_config.read(path)
    message = caught.value.lines[0]
    assert message.startswith(f"{path}:2: ") and expected in message, message


def test_quoting_as_bash_reads_it(tmp_path):
    path = tmp_path / "config"
    path.write_text(
        "A=plain # comment\n"
        "B='single $A \"kept\"'\n"
        'C="double $A ${A}x \\"q\\""\n'
        "export D[2]=a\\ b\n"
    )
    config = shell_config.read(path)
    assert config.scalars == {"A": "plain", "B": 'single $A "kept"', "C": 'double plain plainx "q"'}
    assert config.arrays == {"D": {2: "a b"}}


def test_bad_config_writes_nothing(capsys, tmp_path, inputs):
    config = write_config(tmp_path, "DEVICE_TREE=virt.dtb\nXEN=xen\nNUM_DOMUS=1\n", inputs)
    output = tmp_path / "system.yaml"
    code = main(["import", "imagebuilder", str(config), "-o", str(output)])
    err = capsys.readouterr().err
    assert code == 1 and "DOMU_KERNEL[0] is not set" in err, err
    assert not output.exists()
    assert list(tmp_path.glob(".system.yaml*")) == []


def test_only_a_regular_file_is_read(tmp_path):
    """A FIFO given as the config is refused at once, not read (reading it blocks forever)."""
    fifo = tmp_path / "config"
    os.mkfifo(fifo)
    with pytest.raises(UserError) as caught:
        shell_config.read(fifo)
    assert "is a FIFO (named pipe)" in caught.value.lines[0]
    with pytest.raises(UserError) as caught:
        shell_config.read(tmp_path)
    assert "is a directory" in caught.value.lines[0]


def test_bytes_not_utf8_are_named_by_line(tmp_path):
    path = tmp_path / "config"
    path.write_bytes(b"XEN=xen\nDEVICE_TREE=caf\xe9.dtb\n")
    with pytest.raises(UserError) as caught:
        shell_config.read(path)
    assert caught.value.lines[0] == (f"{path}:2: byte 0xe9 is not UTF-8: save the config as UTF-8")


@pytest.mark.parametrize(
    ("line", "key", "word"),
    [
        ('DOMU_STATIC_MEM[0]="0x60000000 16M"', "DOMU_STATIC_MEM[0]", "16M"),
        ('DOMU_SHARED_MEM[0]="shm-1 0x70000000 guest 0x1000"', "DOMU_SHARED_MEM[0]", "guest"),
        ('DOMU_SHARED_MEM[0]="shm-1 0x9000000 4k"', "DOMU_SHARED_MEM[0]", "4k"),
        ("DOMU_VCPUS[0]=1_0", "DOMU_VCPUS[0]", "1_0"),  # Python's int() took it as 10
        ("DOMU_MEM[0]=010", "DOMU_MEM[0]", "010"),  # bash reads it as octal 8
    ],
)
def test_a_word_that_is_not_a_number_is_named(capsys, tmp_path, inputs, line, key, word):
    text = f"DEVICE_TREE=virt.dtb\nXEN=xen\nNUM_DOMUS=1\nDOMU_KERNEL[0]=rtos.bin\n{line}\n"
    config = write_config(tmp_path, text, inputs)
    code = main(["import", "imagebuilder", str(config), "-o", str(tmp_path / "system.yaml")])
    err = capsys.readouterr().err
    assert code == 1, err
    assert err == (
        f"error: {config}:5: {key}: {word!r} is not a number: write it in decimal or 0x hex\n"
    )


def test_output_is_not_the_config(capsys, tmp_path, inputs):
    """-o naming the config itself (here through a symbolic link) would replace it."""
    config = write_config(tmp_path, README_EXAMPLE, inputs)
    (tmp_path / "system.yaml").symlink_to(config)
    code = main(["import", "imagebuilder", str(config), "-o", str(tmp_path / "system.yaml")])
    err = capsys.readouterr().err
    assert code == 1 and "is the input" in err, err
    assert config.read_text() == README_EXAMPLE


@pytest.mark.parametrize(
    ("memory", "expected"),
    [
        ("MEMORY_START=0x40000000\n", ":5: MEMORY_START is set but MEMORY_END is not"),
        ("MEMORY_END=0xC0000000\n", ":5: MEMORY_END is set but MEMORY_START is not"),
        (
            "MEMORY_START=0x40000000\nMEMORY_END=0x40000000\n",
            ":6: MEMORY_END 0x40000000 is not above MEMORY_START 0x40000000",
        ),
    ],
)
def test_ram_bounds_are_both_given_and_in_order(capsys, tmp_path, inputs, memory, expected):
    """Before, such a config imported without a load region and without saying so."""
    text = f"DEVICE_TREE=virt.dtb\nXEN=xen\nNUM_DOMUS=1\nDOMU_KERNEL[0]=rtos.bin\n{memory}"
    config = write_config(tmp_path, text, inputs)
    code = main(["import", "imagebuilder", str(config), "-o", str(tmp_path / "system.yaml")])
    err = capsys.readouterr().err
    assert code == 1 and f"error: {config}{expected}" in err, err


def test_a_scalar_is_element_zero_as_in_bash(capsys, tmp_path, inputs):
    """DOMU_KERNEL=rtos.bin is ${DOMU_KERNEL[0]} to ImageBuilder's bash; it is used, not unknown."""
    text = "DEVICE_TREE=virt.dtb\nXEN=xen\nNUM_DOMUS=1\nDOMU_KERNEL=rtos.bin\nDOMU_MEM=16\n"
    config = write_config(tmp_path, text, inputs)
    document, notes = import_config(capsys, config, tmp_path / "system.yaml")
    assert document["domains"][0]["kernel"] == "rtos.bin"
    assert document["domains"][0]["memory"] == "16M"
    assert not any("DOMU_" in line for line in notes), notes


def test_missing_kernel_names_num_domus(capsys, tmp_path, inputs):
    text = "DEVICE_TREE=virt.dtb\nXEN=xen\nNUM_DOMUS=2\nDOMU_KERNEL[0]=rtos.bin\n"
    config = write_config(tmp_path, text, inputs)
    code = main(["import", "imagebuilder", str(config), "-o", str(tmp_path / "system.yaml")])
    assert code == 1
    assert capsys.readouterr().err == (
        f"error: {config}:3: NUM_DOMUS counts domU 1 but DOMU_KERNEL[1] is not set: "
        "name its kernel or lower NUM_DOMUS\n"
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # imported as a domain without xenstore, and said nothing
        ("DOMU_ENHANCED[0]=yes", "DOMU_ENHANCED[0]='yes': write 0"),
        ("DOMU_CAPS[0]='control|root'", "DOMU_CAPS[0]: unknown capability 'root'"),
    ],
    ids=["enhanced-yes", "unknown-capability"],
)
def test_a_bad_domain_value_is_refused_naming_the_line(capsys, tmp_path, inputs, line, expected):
    text = f"DEVICE_TREE=virt.dtb\nXEN=xen\nNUM_DOMUS=1\nDOMU_KERNEL[0]=rtos.bin\n{line}\n"
    config = write_config(tmp_path, text, inputs)
    code = main(["import", "imagebuilder", str(config), "-o", str(tmp_path / "system.yaml")])
    err = capsys.readouterr().err
    assert code == 1 and f"error: {config}:5: {expected}" in err, err


def test_dom0_options_leave_xen_cmd_without_a_dom0(capsys, tmp_path, inputs):
    """As uboot-script-gen does when DOM0_KERNEL is not set (and names what it left out)."""
    text = (
        "DEVICE_TREE=virt.dtb\nXEN=xen\nNUM_DOMUS=1\nDOMU_KERNEL[0]=rtos.bin\n"
        'XEN_CMD="console=dtuart dom0_mem=1G  bootscrub=0 dom0_max_vcpus=1"\n'
    )
    config = write_config(tmp_path, text, inputs)
    document, notes = import_config(capsys, config, tmp_path / "system.yaml")
    assert document["xen"]["bootargs"] == "console=dtuart bootscrub=0"
    assert any("XEN_CMD: dom0_mem=1G dom0_max_vcpus=1 left out" in line for line in notes), notes


def test_every_line_the_config_reader_refuses_is_named_at_once(tmp_path):
    """It stopped at the first: fixing a config took one run per bad line. A refused line's
    variable stands in, so a later line naming it is not blamed for it."""
    path = tmp_path / "config"
    path.write_bytes(b"XEN=`which xen`\nA=ok\nsource other.cfg\nB=$XEN/y\nC=caf\xe9\n")
    with pytest.raises(InputFileError) as caught:
        shell_config.read(path)
    assert caught.value.lines == [
        f"{path}:1: '`' in an unquoted value is shell syntax: quote it",
        f"{path}:3: 'source other.cfg' is not a plain assignment: import reads NAME=value "
        "and NAME[n]=value lines only (it never runs the file); write the value literally",
        f"{path}:5: byte 0xe9 is not UTF-8: save the config as UTF-8",
    ]
    assert [(p.source, p.line) for p in caught.value.problems] == [
        (str(path), 1),
        (str(path), 3),
        (str(path), 5),
    ]


def test_every_problem_of_the_conversion_is_named_at_once(capsys, tmp_path, inputs):
    """The converter stopped at the first problem; a NUM_DOMUS that is no number is named
    once, not again as 'no domU is created at boot'."""
    text = "NUM_DOMUS=two\nNUM_CPUPOOLS=1\nMEMORY_START=0x40000000\n"
    config = write_config(tmp_path, text, inputs)
    code = main(["import", "imagebuilder", str(config), "-o", str(tmp_path / "system.yaml")])
    assert code == 1
    assert capsys.readouterr().err.splitlines() == [
        f"error: {config}: XEN is not set: name the Xen binary (a config for Linux without "
        "Xen is not a dom0less system)",
        f"error: {config}: DEVICE_TREE is not set: name the board's DTB",
        f"error: {config}:2: NUM_CPUPOOLS is 1 but CPUPOOL[0] is not set",
        f"error: {config}:1: NUM_DOMUS: 'two' is not a number: write it in decimal or 0x hex",
        f"error: {config}:3: MEMORY_START is set but MEMORY_END is not: ImageBuilder needs "
        "both (the start and end of RAM); set both or neither",
    ]
    assert not (tmp_path / "system.yaml").exists()


def test_bad_options_and_a_bad_config_are_named_together(capsys, tmp_path):
    config = tmp_path / "config"
    config.write_text("XEN=`which xen`\n")
    output = tmp_path / "absent" / "system.yaml"
    code = main(
        ["import", "imagebuilder", str(config), "-o", str(output), "--root", "/nonexistent"]
    )
    assert code == 1
    assert capsys.readouterr().err.splitlines() == [
        f"error: {config}:1: '`' in an unquoted value is shell syntax: quote it",
        "error: --root /nonexistent: not a directory",
        f"error: -o {output}: directory {output.parent} does not exist",
    ]


def test_static_heap_and_capabilities_import(capsys, tmp_path, inputs):
    """ImageBuilder's XEN_STATIC_HEAP (address/size pairs) and DOMU_CAPS ('|'-joined words,
    'dom0' for all three, or Xen's bit mask) were dropped as unknown variables."""
    text = (
        "DEVICE_TREE=virt.dtb\nXEN=xen\nNUM_DOMUS=3\nXEN_STATIC_HEAP='0x80000000 0x4000000'\n"
        "DOMU_KERNEL[0]=rtos.bin\nDOMU_CAPS[0]='hardware|xenstore'\n"
        "DOMU_KERNEL[1]=rtos.bin\nDOMU_CAPS[1]=1\n"
        "DOMU_KERNEL[2]=rtos.bin\nDOMU_CAPS[2]=none\n"
    )
    config = write_config(tmp_path, text, inputs)
    document, notes = import_config(
        capsys, config, tmp_path / "system.yaml", "--xen-version", "4.21"
    )
    assert document["xen"]["static_heap"] == [{"address": "0x80000000", "size": "0x4000000"}]
    assert [d.get("capabilities") for d in document["domains"]] == [
        ["hardware", "xenstore"],
        ["control"],
        [],
    ]
    assert not any("XEN_STATIC_HEAP" in n or "DOMU_CAPS" in n for n in notes), notes


def test_a_signed_fit_imports_as_format_fit_and_signing(capsys, tmp_path, inputs):
    """FIT, FIT_ENC_KEY_DIR (DIR/HINT: HINT.key in DIR) and FIT_ENC_UB_DTB were dropped as
    'FIT images are not generated', which has not been true since boot.format: fit."""
    text = (
        "DEVICE_TREE=virt.dtb\nXEN=xen\nNUM_DOMUS=1\nDOMU_KERNEL[0]=rtos.bin\n"
        'FIT="boot.fit"\nFIT_ENC_KEY_DIR="keys/dev"\nFIT_ENC_UB_DTB="u-boot.dtb"\n'
    )
    config = write_config(tmp_path / "ib", text, inputs)
    document, notes = import_config(capsys, config, tmp_path / "system.yaml")
    assert document["boot"] == {
        "format": "fit",
        "signing": {"key": "ib/keys/dev.key", "uboot_dtb": "ib/u-boot.dtb"},
    }
    assert not any("FIT" in note for note in notes), notes


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            'FIT_ENC_UB_DTB="u-boot.dtb"\n',
            "FIT_ENC_UB_DTB receives the public half of the signing key, but FIT_ENC_KEY_DIR "
            "is not set: set it (DIR/HINT of HINT.key) or remove the line",
        ),
        (
            'FIT_ENC_KEY_DIR="keys/dev"\n',
            "FIT_ENC_KEY_DIR signs a FIT image, but FIT is not set: set FIT or remove the line",
        ),
    ],
    ids=["dtb-without-key", "key-without-fit"],
)
def test_fit_signing_without_its_partner_is_refused_naming_the_line(
    capsys, tmp_path, inputs, lines, expected
):
    text = "DEVICE_TREE=virt.dtb\nXEN=xen\nNUM_DOMUS=1\nDOMU_KERNEL[0]=rtos.bin\n" + lines
    config = write_config(tmp_path, text, inputs)
    code = main(["import", "imagebuilder", str(config), "-o", str(tmp_path / "system.yaml")])
    assert code == 1
    assert capsys.readouterr().err.splitlines() == [f"error: {config}:5: {expected}"]
    assert not (tmp_path / "system.yaml").exists()
