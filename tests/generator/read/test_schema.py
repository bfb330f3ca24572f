"""The JSON Schema file is valid, and our fast checker agrees with jsonschema.

The loader walks the schema itself to keep start-up lean; jsonschema (the
reference implementation) must accept and refuse the same documents.
"""

from __future__ import annotations

import json

import jsonschema
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from xen_dom0less.generator.read import schema_check

from ...conftest import EXAMPLES

SCHEMA = schema_check.load_schema()


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_examples_are_valid_for_both():
    for path in EXAMPLES.glob("*.yaml"):
        document = yaml.safe_load(path.read_text())
        assert schema_check.check(document) == []
        jsonschema.validate(document, SCHEMA)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 3000),
    st.sampled_from(
        [
            "",
            "16M",
            "0x40000000",
            "4.17",
            "4.9",
            "virtio 0:1",
            "credit",
            "null",
            "owner",
            "a" * 40,
            "/cpus/cpu@1",
            "patched",
            "0-3,8",
            "linux",
            "booti",
            "enabled",
        ]
    ),
)
keys = st.sampled_from(
    [
        "version",
        "xen",
        "host",
        "domains",
        "image",
        "dtb",
        "name",
        "kernel",
        "memory",
        "vcpus",
        "boot",
        "load",
        "cpupools",
        "cpus",
        "scheduler",
        "vpl011",
        "sve",
        "static_memory",
        "address",
        "size",
        "bogus",
        "vcpu_affinity",
        "0",
        "x",
    ]
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(keys, children, max_size=5)
    ),
    max_leaves=25,
)


BASES = [yaml.safe_load(p.read_text()) for p in sorted(EXAMPLES.glob("*.yaml"))]


def mutated_examples():
    return st.tuples(st.sampled_from(BASES), st.lists(st.tuples(keys, documents), max_size=3))


@given(documents)
def test_agrees_with_jsonschema_on_random_documents(document):
    ours = schema_check.check(document) == []
    theirs = jsonschema.Draft202012Validator(SCHEMA).is_valid(document)
    assert ours == theirs, json.dumps(document)


@given(mutated_examples())
@example((BASES[0], [("version", True)]))  # failed about 1 run in 25: True == 1 in Python
def test_agrees_with_jsonschema_on_mutated_examples(case):
    base, edits = case
    document = json.loads(json.dumps(base))
    for key, value in edits:
        domains = document.get("domains")
        first = domains[0] if isinstance(domains, list) and domains else None
        target = (
            first if isinstance(first, dict) and key in ("memory", "vcpus", "sve") else document
        )
        target[key] = value
    ours = schema_check.check(document) == []
    theirs = jsonschema.Draft202012Validator(SCHEMA).is_valid(document)
    assert ours == theirs, json.dumps(document)


def test_reference_page_is_generated_from_schema():
    from xen_dom0less.generator.read import schema_doc

    page = (EXAMPLES.parent / "docs" / "description.md").read_text()
    assert page == schema_doc.render(), (
        "docs/description.md is stale: "
        "python3 -m xen_dom0less.generator.read.schema_doc > docs/description.md"
    )


def test_defaults_are_stated_only_in_the_schema(describe):
    """Each key with a schema ``default`` has none in the model, and a description leaving the
    key out gets the schema's value (``describe`` leaves out boot and every vcpus)."""
    from xen_dom0less.generator import model
    from xen_dom0less.generator.read import description
    from xen_dom0less.units import parse_size

    classes = {"xen": model.Xen, "host": model.Host, "dom0": model.Dom0}
    classes |= {"domains": model.Domain, "boot": model.Boot}
    defaulted = []
    for section, cls in classes.items():
        node = schema_check.resolve(SCHEMA["properties"][section], SCHEMA)
        node = schema_check.resolve(node.get("items", node), SCHEMA)
        for key, child in node["properties"].items():
            default = schema_check.resolve(child, SCHEMA).get("default")
            if default is not None:
                assert key not in cls._field_defaults, f"{cls.__name__}.{key} has its own default"
                defaulted.append((section, key, default))
    assert ("boot", "align", "2M") in defaulted

    def strip(document: dict) -> None:
        document.pop("boot", None)
        document["host"].pop("uboot_reserve", None)
        for domain in document["domains"]:
            domain.pop("vcpus", None)

    system = description.load(describe(strip))
    assert system.boot.align == parse_size("2M")
    assert system.boot.load == "virtio 0:1"
    assert system.host.uboot_reserve == parse_size("64M")
    assert {d.vcpus for d in system.domains} == {1}
