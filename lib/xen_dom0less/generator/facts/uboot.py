"""What a U-Boot release checks of a signed boot chain (read in U-Boot's source)."""

from __future__ import annotations

from typing import Optional

#: The first release whose ``source ADDRESS#CONFIG`` verifies the script FIT's
#: configuration signature before it runs the script (cmd/source.c and
#: image_locate_script, v2023.04). Before it, ``source`` checks only the script image,
#: so only a key required for images protects boot.scr.
SOURCE_VERIFIES_CONFIGURATION = (2023, 4)


def source_verifies_configuration(version: Optional[str]) -> bool:
    """Whether U-Boot ``version`` (YYYY.MM, None: not said) verifies boot.scr's configuration."""
    if version is None:
        return False
    year, month = version.split(".")
    return (int(year), int(month)) >= SOURCE_VERIFIES_CONFIGURATION
