"""What Xen, U-Boot and the binary formats are, release by release: knowledge, no decisions.

Xen's features and limits by release (``xen_versions``), the description keys that use
them (``features``), the Kconfig they need (``kconfig``), the magic numbers of the images
users hand us (``images``) and which strings may reach a device tree or a boot script
(``text``). Every other stage consults these; they consult nothing but the model.
"""
