"""Stage 1, read: the description, the board's device tree and every input file, read strictly.

The YAML is read with one meaning per text (``yaml_reader``), checked against the JSON
Schema and filled with its defaults (``schema_check``, ``schema_defaults``) into the model
(``description``); the board's DTB is checked whole before it is parsed (``dtb_check``,
``host_input``); each file the description names becomes a sized, identified blob
(``blobs``, ``collect``), and each passed-through device its host facts (``devices``).
Nothing here judges whether Xen can boot the result: that is the check stage's job.
"""
