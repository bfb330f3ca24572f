"""Plan, validate and generate Xen dom0less boot artefacts.

Packages, lowest layer first (an import only ever goes down this list; tests/core/
test_import_layers checks it):

- ``errors``, ``units``, ``hosttools``, ``cache``, ``atomic``: what every layer shares;
  ``outputs``: the names and manifest format of what the generator writes, for its readers;
  ``files``: the one place input files are resolved and read (regular files only, streamed).
  ``diskimage``: a partitioned disk image of a build (``dom0less image``, the harness's disks).
- ``generator``: the product: description -> model -> checks -> plan -> renderers -> outputs;
  ``generator.pipeline`` runs it, every check in one fixed order. ``importer`` (beside it):
  other tools' configurations (ImageBuilder's) turned into descriptions.
- ``xenbuild``: the hypervisor build, configured from a description.
- ``harness``: developer and test tooling (QEMU, guests, example inputs); it reads what the
  generator wrote (the manifest), never the generator's code.
- ``cli``: the ``dom0less`` command, one thin module per subcommand.
"""

__version__ = "0.1.0"
