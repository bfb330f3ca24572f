# Sourced by scripts/demo and scripts/test (not run by itself): the project's own Python.
#
# Debian 12+ and Ubuntu 23.04+ mark their python3 EXTERNALLY-MANAGED (PEP 668), so pip may
# not install into it; the project gets a virtual environment instead, .venv in the checkout,
# made by `python3 -m venv` (apt installs python3-venv if it is missing). Everything pip
# installs goes there; `rm -rf .venv` removes it. apt runs through sudo for a user, and
# nothing else does.

# Run a command as root: directly for root, through sudo for anyone else.
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Install Debian packages (apt-get update first: a fresh machine may have no package lists).
apt_install() {
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

# Make .venv (once), install the product editable with the extras named (e.g. "[test]") and
# the QEMU harness (lib/harness, a distribution of its own); then put .venv/bin first on PATH.
project_venv() {
    local extras=${1:-}
    if ! .venv/bin/python -c '' 2>/dev/null; then
        rm -rf .venv
        if ! python3 -m venv .venv >/dev/null 2>&1; then
            # Debian's python3 has no ensurepip (so no venv) without python3-venv.
            apt_install python3 python3-venv
            rm -rf .venv
            python3 -m venv .venv
        fi
    fi
    .venv/bin/python -m pip install --quiet --disable-pip-version-check \
        -e ".$extras" -e ./lib/harness
    use_venv
}

# Put .venv/bin first on PATH when the checkout has one (else the python on PATH serves).
use_venv() {
    if [ -x .venv/bin/python ]; then
        PATH="$PWD/.venv/bin:$PATH"
        export PATH
        hash -r
    fi
}

# Where `dom0less setup` put the arm64 inputs the examples name as ${DOM0LESS_INPUTS}.
inputs_dir() {
    python3 -c 'import sys; sys.path.insert(0, "lib"); \
from xen_dom0less.cache import cache_dir; print(cache_dir("inputs"))'
}
