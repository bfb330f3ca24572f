"""Plan, validate and generate Xen dom0less boot artefacts."""

__version__ = "0.1.0"

#: Modules BitBake imports when the layer's ``addpylib`` adds this package, so
#: that tasks calling ``xen_dom0less.build.build(...)`` get those functions in
#: their signatures and re-run when the library changes.
BBIMPORTS = ["build", "errors", "xenbuild"]
