"""Stages 2-4, check: everything Xen would otherwise panic on, fault on or silently ignore.

``rules`` holds the rules on the description and the board as tables of small functions
(``board_rules``, ``domain_rules``, ``sharing_rules``, over a ``rule_context``); the input
files are checked against Xen's limits and ``.config`` (``xen_checks``), the console UART
against the release's drivers (``consoles``), passed-through devices and user-written
partial trees (``passthrough``), and the boot formats (``fit``, ``uefi``, ``signing_key``).
Every problem is collected, each naming its key and the fix, and reported together.
"""
