"""``dom0less plan --svg``: the picture, rendered by a real browser (Debian's Chromium, headless),
shows every domain, and its memory bar is to scale."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import fdt
import pytest

from xen_dom0less.cli import main
from xen_dom0less.generator import pipeline
from xen_dom0less.generator.model import Region
from xen_dom0less.generator.render import plan_picture

from ...conftest import PARTITIONED, QEMU_DTB
from ..check.test_rules import set_key

#: Runs in the page after the SVG is laid out: where each domain's box and text ended up.
PROBE = """<script>
const frame = document.querySelector('svg').getBoundingClientRect();
const found = {};
for (const group of document.querySelectorAll('[data-domain]')) {
  const box = group.getBoundingClientRect();
  found[group.dataset.domain] = {
    width: box.width, height: box.height, text: group.textContent,
    inside: box.left >= frame.left && box.right <= frame.right &&
            box.top >= frame.top && box.bottom <= frame.bottom,
  };
}
const out = document.createElement('pre');
out.id = 'probe';
out.textContent = JSON.stringify({frame: [frame.width, frame.height], domains: found});
document.body.appendChild(out);
</script>"""


def in_browser(svg: str, tmp_path: Path) -> dict:
    """Lay the picture out in headless Chromium and report where each domain was drawn."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail(
            "chromium is not installed: scripts/test installs it (apt-get install chromium)"
        )
    page = tmp_path / "plan.html"
    page.write_text(f"<!doctype html><html><body>{svg}{PROBE}</body></html>")
    dom = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    match = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert match, dom[-2000:]
    return json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def plan_svg(capsys, description: Path, tmp_path: Path) -> str:
    picture = tmp_path / "plan.svg"
    assert main(["plan", str(description), "--svg", str(picture)]) == 0
    capsys.readouterr()
    return picture.read_text()


@pytest.mark.slow  # starts Chromium
@pytest.mark.parametrize("system", ["partitioned", "dom0"])
def test_browser_shows_every_domain(capsys, tmp_path, inputs, describe, system):
    if system == "partitioned":
        description, names = PARTITIONED, ["rtos", "linux"]
    else:
        dom0 = {"kernel": str(inputs / "Image"), "memory": "512M"}
        description, names = describe(set_key("dom0", dom0)), ["dom0", "rtos", "linux"]
    shown = in_browser(plan_svg(capsys, description, tmp_path), tmp_path)

    assert shown["frame"] == [plan_picture.WIDTH, pytest.approx(shown["frame"][1])]
    assert sorted(shown["domains"]) == sorted(names)
    for name, box in shown["domains"].items():
        assert box["width"] > 0 and box["height"] > 0 and box["inside"], (name, box)
        assert name in box["text"]


def test_memory_bar_is_to_scale(capsys, tmp_path, inputs):
    """The first bar covers the 2 GiB bank exactly; the 16 MiB static bank is 1/128 of it."""
    svg = plan_svg(capsys, PARTITIONED, tmp_path)
    bars = svg.split("to scale</text>\n", 1)[1].split("stroke='#333'/>", 1)[0]
    widths = [float(w) for w in re.findall(r"width='([0-9.]+)' height='36' fill='#", bars)]
    assert sum(widths) == pytest.approx(plan_picture.BAR, abs=len(widths))
    static = re.search(r"width='([0-9.]+)' height='36' fill='#2ca02c'", bars)
    assert float(static.group(1)) == pytest.approx(plan_picture.BAR / 128, abs=0.01)


def test_same_plan_same_picture(capsys, tmp_path, inputs):
    assert plan_svg(capsys, PARTITIONED, tmp_path) == plan_svg(capsys, PARTITIONED, tmp_path)


def test_picture_is_not_written_over_the_description(capsys, tmp_path, describe):
    description = describe()
    before = description.read_bytes()
    assert main(["plan", str(description), "--svg", str(description)]) == 1
    assert "is the input" in capsys.readouterr().err
    assert description.read_bytes() == before


def board_with_cpus(count: int, directory: Path) -> Path:
    """QEMU's board with its CPU node copied up to ``count`` CPUs."""
    tree = fdt.parse_dtb(QEMU_DTB.read_bytes())
    present = [n for n in tree.get_node("/cpus").nodes if n.name.startswith("cpu@")]
    for index in range(len(present), count):
        node = copy.deepcopy(tree.get_node("/cpus/cpu@0"))
        node.set_name(f"cpu@{index}")
        node.set_property("reg", index)
        if node.exist_property("phandle"):
            node.remove_property("phandle")
        tree.get_node("/cpus").append(node)
    path = directory / f"board-{count}.dtb"
    path.write_bytes(tree.to_dtb(version=17))
    return path


@pytest.mark.parametrize(
    "count", [4, 16, *(pytest.param(n, marks=pytest.mark.slow) for n in (64, 128))]
)
def test_every_cpu_box_fits_and_is_apart(capsys, tmp_path, describe, count):
    """128 CPUs gave boxes of width -0.8 running off the right edge; 64 boxes too narrow for
    their label. Every box is inside the picture, wide enough, and overlaps no other."""
    board = board_with_cpus(count, tmp_path)
    picture = ElementTree.fromstring(
        plan_svg(capsys, describe(set_key("host.dtb", str(board))), tmp_path)
    )
    boxes = [
        (float(r.get("x")), float(r.get("y")), float(r.get("width")))
        for r in picture.iter("{http://www.w3.org/2000/svg}rect")
        if r.get("height") == str(plan_picture.CPU_H)
    ]
    assert len(boxes) == count
    for x, _, width in boxes:
        assert width >= plan_picture.CPU_MIN_W
        assert x >= plan_picture.MARGIN and x + width <= plan_picture.WIDTH - plan_picture.MARGIN
    for i, (x, y, width) in enumerate(boxes):
        for x2, y2, _ in boxes[i + 1 :]:
            assert y2 != y or x2 >= x + width, (x, y, x2, y2)


def test_the_staging_area_of_compressed_files_is_drawn_not_free(capsys, tmp_path, describe):
    """boot.compression: the RAM U-Boot stages compressed files in is taken until Xen starts,
    listed under its own colour, and no free segment covers it."""
    description = describe(lambda d: d["boot"].update(compression="gzip"))
    staging = pipeline.check(description).staging
    svg = plan_svg(capsys, description, tmp_path)
    colour = plan_picture.COLOURS["staging"]
    assert f"fill='{colour}'><title>compressed files, until Xen starts (u-boot)</title>" in svg
    texts = [t.text for t in ElementTree.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    # each legend row: the span, its size, its kind
    listed = [(t, texts[i + 2]) for i, t in enumerate(texts) if re.fullmatch(r"0x\w+-0x\w+", t)]
    assert (staging.region.span(), "staging") in listed
    free = [span for span, kind in listed if kind == "free"]
    for span in free:
        start, end = (int(x, 16) for x in span.split("-"))
        assert not staging.region.overlaps(Region(start, end - start))
