"""Boot timelines from serial captures (``dom0less timeline``, bench/boot_time.py).

A user with a board has a serial log, not our QEMU harness: ``read`` turns
one (with or without the host time stamps grabserial or ``picocom | ts``
write) into when U-Boot, Xen and each domain first spoke; ``text`` prints
that as a table and ``picture`` draws it.
"""
