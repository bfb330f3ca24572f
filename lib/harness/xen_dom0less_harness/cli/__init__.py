"""The harness's subcommands of ``dom0less``, added through the ``xen_dom0less.commands``
entry points: each module has SUMMARY, register() and run(), as the product's own."""
