"""Plan, validate and generate Xen dom0less boot artefacts.

Packages, lowest layer first (an import only ever goes down this list; tests/project/
test_import_layers checks it):

- ``errors`` (problems as records, the kinds of user error, the one place they are printed),
  ``units``, ``hosttools``, ``cache``, ``atomic``: what every layer shares;
  ``outputs``: the names of what the generator writes, for its readers; ``manifest``:
  manifest.json as one typed record, written by the generator and read by the harness;
  ``files``: the one place input files are resolved and read (regular files only, streamed).
  ``diskimage``: a partitioned disk image of a build (``dom0less image``, the harness's disks).
  ``svg``: what the plan picture and the timeline picture share (font, page).
- ``generator``: the product: description -> model -> checks -> plan -> renderers -> outputs,
  one package per stage (``read``, ``check``, ``place``, ``render``, over ``facts``);
  ``generator.pipeline`` runs it, every check in one fixed order. ``importer`` (beside it):
  other tools' configurations (ImageBuilder's) turned into descriptions; ``timeline`` (beside
  it too): a boot's serial capture read into milestones (``dom0less timeline``).
- ``xenbuild``: the hypervisor build, configured from a description.
- ``cli``: the ``dom0less`` command, one thin module per subcommand; other distributions add
  subcommands through the ``xen_dom0less.commands`` entry points.

The QEMU harness (``xen_dom0less_harness``, in lib/harness) is a distribution of its own:
developer and test tooling that reads what the generator wrote, never the generator's code,
and adds ``run-qemu`` and ``setup`` to the command.
"""

__version__ = "0.1.0"
