"""Cache colours in an ImageBuilder config: its ranges, Xen 4.20+'s lists, and the options
of Xen's colouring before it was upstream, carried over as Xen 4.20+ takes them; a colour
set Xen cannot read is refused naming its line."""

from __future__ import annotations

import pytest

from xen_dom0less.cli import main
from xen_dom0less.generator.pipeline import check

from .test_import_imagebuilder import import_config, write_config

BASE = "DEVICE_TREE=virt.dtb\nXEN=xen\nNUM_DOMUS=1\nDOMU_KERNEL[0]=rtos.bin\nDOMU_MEM[0]=16\n"


def test_a_coloured_domain_turns_colouring_on(capsys, tmp_path, inputs):
    """DOMU_COLORS alone imported a description Xen panics on ('llc-colors' found, but LLC
    coloring is disabled): colouring is on once anything is coloured."""
    config = write_config(tmp_path, BASE + 'DOMU_COLORS[0]="0-3,8"\n', inputs)
    document, _ = import_config(capsys, config, tmp_path / "system.yaml")
    assert document["domains"][0]["llc_colors"] == "0-3,8"
    assert document["xen"]["llc_coloring"] == {}


def test_pre_upstream_options_in_xen_cmd_become_the_descriptions(capsys, tmp_path, inputs):
    """xen_colors= and dom0_colors= (the colouring of Xen before 4.20) are ignored by Xen
    4.20+: they become xen.llc_coloring and dom0's colours, which the command line then
    carries as 4.20+ spells them; way_size, which has no successor, is named."""
    text = (
        BASE + 'DOM0_KERNEL=Image\nDOM0_MEM=256\nDOMU_COLORS[0]="6-14"\n'
        'XEN_CMD="console=dtuart dtuart=/pl011@9000000 dom0_mem=256M bootscrub=0 '
        'way_size=65536 xen_colors=0-1 dom0_colors=2-5"\n'
    )
    config = write_config(tmp_path, text, inputs)
    output = tmp_path / "system.yaml"
    document, notes = import_config(capsys, config, output, "--xen-version", "4.20")
    assert document["xen"]["bootargs"] == (
        "console=dtuart dtuart=/pl011@9000000 dom0_mem=256M bootscrub=0"
    )
    assert document["xen"]["llc_coloring"] == {"xen_colors": "0-1"}
    assert document["dom0"]["llc_colors"] == "2-5"
    assert any("XEN_CMD: way_size=65536 left out" in line for line in notes), notes
    assert check(output).xen_bootargs.endswith(
        "bootscrub=0 dom0-llc-colors=2-5 llc-coloring=on xen-llc-colors=0-1"
    )


@pytest.mark.parametrize(
    "line",
    ['DOMU_COLORS[0]="6..14"', 'XEN_COLORS="0-3 8"', 'DOM0_COLORS="a-b"\nDOM0_KERNEL=Image'],
    ids=["domu-dots", "xen-space", "dom0-letters"],
)
def test_a_colour_set_xen_cannot_read_is_refused_naming_the_line(capsys, tmp_path, inputs, line):
    config = write_config(tmp_path, f"{BASE}{line}\n", inputs)
    code = main(["import", "imagebuilder", str(config), "-o", str(tmp_path / "system.yaml")])
    err = capsys.readouterr().err
    key, value = line.split("\n")[0].split("=", 1)
    expected = f"error: {config}:6: {key}={value.strip(chr(34))!r} is not a colour set: write"
    assert code == 1 and expected in err, err
    assert not (tmp_path / "system.yaml").exists()


@pytest.mark.parametrize(
    "word", ["xen_colors=abc", "dom0_colors=", "dom0-llc-colors=1..3"], ids=["xen", "empty", "dom0"]
)
def test_a_colour_set_in_xen_cmd_xen_cannot_read_is_refused_naming_the_line(
    capsys, tmp_path, inputs, word
):
    """Colours taken from XEN_CMD are held to the same test as XEN_COLORS and DOM0_COLORS."""
    text = f'{BASE}DOM0_KERNEL=Image\nXEN_CMD="console=dtuart {word}"\n'
    config = write_config(tmp_path, text, inputs)
    code = main(["import", "imagebuilder", str(config), "-o", str(tmp_path / "system.yaml")])
    err = capsys.readouterr().err
    expected = f"error: {config}:7: XEN_CMD: {word!r} is not a colour set: write"
    assert code == 1 and expected in err, err
    assert not (tmp_path / "system.yaml").exists()
