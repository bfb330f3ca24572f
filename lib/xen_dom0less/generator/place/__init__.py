"""Stage 5, place: where every blob goes in RAM, and whether the guests' RAM still fits.

What must be left alone is gathered first (``placement.excluded_regions``), then each
blob is put in the first free, aligned range (``free_ram``); the generated files are
placed from an estimate of their size (``sizing``, ``fit_room``) and measured again by
the pipeline after rendering. ``capacity`` checks the guests' RAM against what is left;
``xen_cmdline`` is Xen's command line for the planned system.
"""
