"""Plan, validate and generate Xen dom0less boot artefacts."""

__version__ = "0.1.0"
