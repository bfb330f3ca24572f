"""The generator: a system description in, every boot artefact out, one stage after another.

The data flows one way through three records: ``model.System`` (what the user asked for),
``hostdt.HostTree`` (what the board is) and ``plan.Plan`` (where everything goes). The
stages, each a package that imports only the data and the stages before it:

- ``facts``: what Xen, U-Boot and the binary formats are, release by release: knowledge
  every stage consults, no decisions;
- ``read``: the YAML description, the board's device tree and every input file read,
  strictly, into the model;
- ``check``: every rule Xen would otherwise break at boot, collected and reported together;
- ``place``: every blob put in free RAM, the guests' RAM fitted around it;
- ``render``: one renderer per artefact turns the plan into files.

``pipeline`` runs them in that order for ``check``, ``plan`` and ``build``;
``output_dir`` writes what was rendered, all or nothing.
"""
