# The system description shared by the hypervisor and boot-files recipes, and
# how their tasks run the library (lib/xen_dom0less next to this layer): in
# oe-core's native Python with native PyYAML and fdt, never in BitBake's own
# interpreter. Parsing this layer imports nothing outside Python's standard
# library, so the host needs nothing beyond oe-core's own requirements.

inherit python3native

DEPENDS:append = " python3-pyyaml-native python3-fdt-native"

# This layer's directory: where BitBake found this class on BBPATH.
XEN_DOM0LESS_LAYERDIR := "${@os.path.dirname(os.path.dirname(bb.utils.which(d.getVar('BBPATH'), 'classes/xen_dom0less_system.bbclass')))}"
# The directory holding the library's package, put on the tasks' PYTHONPATH.
XEN_DOM0LESS_LIBDIR ?= "${@os.path.normpath(d.getVar('XEN_DOM0LESS_LAYERDIR') + '/../lib')}"

# The YAML system description; its relative paths are relative to the file.
XEN_DOM0LESS_SYSTEM ?= "${XEN_DOM0LESS_LAYERDIR}/systems/${MACHINE}.yml"
# Further local files the description names (partial device trees, ...), so a
# change to them re-runs the tasks; the description itself is always tracked.
XEN_DOM0LESS_SYSTEM_FILES ?= ""

# Where the library and the description are on this builder is no input of any
# task: what the tasks read there enters their signatures through file-checksums
# (contents, and the library's paths below XEN_DOM0LESS_LIBDIR), so builders
# with the layer at other places share sstate and hash equivalence.
XEN_DOM0LESS_LIBDIR[vardepvalue] = "${@os.path.basename(d.getVar('XEN_DOM0LESS_LIBDIR'))}"
XEN_DOM0LESS_SYSTEM[vardepvalue] = "${@os.path.basename(d.getVar('XEN_DOM0LESS_SYSTEM'))}"

# The domU multiconfigs: "NAME:RECIPE" entries, e.g.
# "domu-linux:core-image-minimal domu-baremetal:dom0less-hello-baremetal".
# The description reaches NAME's deploy directory as ${MC_DEPLOY_NAME} (with
# "-" written "_": ${MC_DEPLOY_domu_linux}).
XEN_DOM0LESS_MULTICONFIGS ?= ""
# The task of RECIPE the boot files wait for.
XEN_DOM0LESS_MC_TASK ?= "do_deploy"
XEN_DOM0LESS_MC_TASK[core-image-minimal] ?= "do_image_complete"
# NAME's deploy directory, by default that of a multiconfig file setting
# TMPDIR = "${TOPDIR}/tmp-${BB_CURRENT_MC}" and keeping this MACHINE; set
# XEN_DOM0LESS_MC_DEPLOY_DIR[NAME] for any other layout. A relative path is
# relative to TOPDIR, which never enters a signature (see xen_dom0less_multiconfigs).
XEN_DOM0LESS_MC_DEPLOY_DIR ?= "tmp-{name}/deploy/images/${MACHINE}"

def xen_dom0less_multiconfigs(d):
    """(name, recipe, task, deploy directory) for each domU multiconfig."""
    found = []
    for entry in (d.getVar("XEN_DOM0LESS_MULTICONFIGS") or "").split():
        name, _, recipe = entry.partition(":")
        if not name or not recipe:
            bb.fatal("XEN_DOM0LESS_MULTICONFIGS: '%s' is not NAME:RECIPE" % entry)
        task = d.getVarFlag("XEN_DOM0LESS_MC_TASK", recipe) or d.getVar("XEN_DOM0LESS_MC_TASK")
        deploy = (d.getVarFlag("XEN_DOM0LESS_MC_DEPLOY_DIR", name)
                  or d.getVar("XEN_DOM0LESS_MC_DEPLOY_DIR").replace("{name}", name))
        found.append((name, recipe, task, os.path.join(d.getVar("TOPDIR"), deploy)))
    return found
# The build directory's place on this builder: the tasks read below it what the
# mcdepends tasks made, and their hashes already stand for that.
xen_dom0less_multiconfigs[vardepsexclude] = "TOPDIR"

def xen_dom0less_environ(d):
    """What the description's ${VAR}s expand from, as shell words: never the task's own environment."""
    import shlex
    environ = [("DEPLOY_DIR_IMAGE", d.getVar("DEPLOY_DIR_IMAGE")),
               ("MACHINE", d.getVar("MACHINE"))]
    for name, _, _, deploy in xen_dom0less_multiconfigs(d):
        environ.append(("MC_DEPLOY_" + name.replace("-", "_"), deploy))
    return " ".join("%s=%s" % (name, shlex.quote(value)) for name, value in environ)

def xen_dom0less_system_checksums(d):
    """file-checksums entries for the description and the files it names.

    Files in the description's directory or below it are written "DIR/./PATH":
    their path relative to the description enters the signature, where the
    directory is on this builder does not.
    """
    system = d.getVar("XEN_DOM0LESS_SYSTEM")
    base = os.path.dirname(system)
    entries = []
    for path in [system] + (d.getVar("XEN_DOM0LESS_SYSTEM_FILES") or "").split():
        relative = os.path.relpath(path, base)
        if not relative.startswith(".."):
            path = "%s/./%s" % (base, relative)
        entries.append("%s:%s" % (path, os.path.exists(path)))
    return " ".join(entries)

def xen_dom0less_description_has(d, pattern):
    """Whether the description's text matches the regular expression, read without a YAML parser.

    BitBake's interpreter has no PyYAML: a match anywhere counts (comments, flow
    style), so at worst a task waits for, or a sysroot holds, what it does not need.
    """
    import re
    path = d.getVar("XEN_DOM0LESS_SYSTEM")
    bb.parse.mark_dependency(d, path)
    try:
        with open(path, encoding="utf-8") as description:
            text = description.read()
    except OSError:
        return False  # the task names the missing file
    return re.search(pattern, text, re.MULTILINE) is not None

def xen_dom0less_has_key(d, key, value=""):
    """Whether the description has the key at any depth (flow style included), set to
    ``value`` if one is given."""
    pattern = r"""(^|[{,])\s*["']?%s["']?\s*:""" % key
    if value:
        pattern += r"""\s*["']?%s\b""" % value
    return xen_dom0less_description_has(d, pattern)

def xen_dom0less_lib_checksums(d, task):
    """file-checksums entries for the library's files a task runs: signatures follow them.

    The modules are the ones the task's own code imports (import xen_dom0less.X
    lines) and everything of the library they import in turn, read with ast
    (nothing is imported here); a module importing by computed name brings in
    every module beside it. Files read as data (the schema) count with the
    modules beside them. A change elsewhere (the CLI, the QEMU harness) leaves the
    task alone; a changed import re-parses the recipe, as the set may change
    (every file read, and each directory listed, is a parse dependency).
    """
    import ast
    import re
    libdir = d.getVar("XEN_DOM0LESS_LIBDIR")
    body = d.getVar(task, False) or ""
    todo = re.findall(r"^\s*(?:import|from)\s+(xen_dom0less(?:\.\w+)*)", body, re.MULTILINE)

    def source(module):
        base = os.path.join(libdir, *module.split("."))
        for candidate in (base + ".py", os.path.join(base, "__init__.py")):
            if os.path.isfile(candidate):
                return candidate
        return None

    def imported(module, path):
        package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
        with open(path, encoding="utf-8") as handle:
            tree = ast.parse(handle.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "__import__"):
                # Imports by computed name (renderers, subcommands): any module beside
                # it, and a module added there re-parses the recipe.
                directory = os.path.dirname(path)
                bb.parse.mark_dependency(d, directory)
                yield from (package + "." + name[:-3] for name in os.listdir(directory)
                            if name.endswith(".py") and name != "__init__.py")
            elif isinstance(node, ast.Import):
                yield from (alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                yield base
                yield from (base + "." + alias.name for alias in node.names)

    seen, files = set(), set()
    while todo:
        module = todo.pop()
        if module in seen or not module.startswith("xen_dom0less"):
            continue
        seen.add(module)
        # Importing a.b.c runs a/__init__.py and a/b/__init__.py first.
        parent = module.rpartition(".")[0]
        if parent:
            todo.append(parent)
        path = source(module)
        if path is None:
            continue  # a name imported from a module, or a namespace package
        files.add(path)
        bb.parse.mark_dependency(d, path)
        todo.extend(imported(module, path))
    for directory in {os.path.dirname(path) for path in files}:
        for entry in sorted(os.listdir(directory)):
            data = os.path.join(directory, entry)
            if os.path.isdir(data) and entry != "__pycache__" and not any(
                    name.endswith(".py") for _, _, names in os.walk(data) for name in names):
                for root, _, names in os.walk(data):
                    bb.parse.mark_dependency(d, root)
                    files.update(os.path.join(root, name) for name in names)
    # "/./" makes the path below the library's directory part of the signature
    # (a module moved is a change), and nothing of where the library is.
    return " ".join("%s/./%s:True" % (libdir, os.path.relpath(path, libdir))
                    for path in sorted(files))

# nooelint: oelint.task.noanonpython - the file list must exist while the recipe is parsed
python __anonymous() {
    # Each task running the library follows the files it imports. They are listed
    # and marked as the recipe's parse dependencies here, while the recipe is
    # parsed: BitBake 2.8 and 2.18 copy those into the cache before a task's
    # file-checksums are expanded, so a list made there would miss a new import.
    for task in d.getVar("__BBTASKS", False) or []:
        files = xen_dom0less_lib_checksums(d, task)
        if files:
            d.appendVarFlag(task, "file-checksums", " " + files)
}

# Runs the Python code on standard input in oe-core's native Python with the
# library on its path, in an environment holding only PATH, SOURCE_DATE_EPOCH
# and the variables the description may name; arguments go to sys.argv[1:].
xen_dom0less_python() {
    env -i PATH="$PATH" SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH}" \
        PYTHONPATH="${XEN_DOM0LESS_LIBDIR}" PYTHONDONTWRITEBYTECODE=1 PYTHONNOUSERSITE=1 \
        ${@xen_dom0less_environ(d)} \
        ${PYTHON} - "$@"
}
xen_dom0less_python[vardeps] += "XEN_DOM0LESS_MULTICONFIGS XEN_DOM0LESS_MC_DEPLOY_DIR"
