"""Boot what ``dom0less build`` wrote under QEMU's ``virt`` machine, through real U-Boot.

The proof that generated artefacts work is a real boot: U-Boot sources our
script, Xen reads our device tree, every guest prints its marker.
"""
