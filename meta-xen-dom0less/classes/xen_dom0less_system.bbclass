# The system description shared by the hypervisor and boot-files recipes, and
# the variables its ${VAR}s expand from. Everything else is in the library
# (lib/xen_dom0less), which the tasks call by full dotted name.

# The YAML system description; its relative paths are relative to the file.
XEN_DOM0LESS_SYSTEM ?= "${XEN_DOM0LESS_LAYERDIR}/systems/${MACHINE}.yml"
# Further local files the description names (partial device trees, ...), so a
# change to them re-runs the tasks; the description itself is always tracked.
XEN_DOM0LESS_SYSTEM_FILES ?= ""

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
# XEN_DOM0LESS_MC_DEPLOY_DIR[NAME] for any other layout.
XEN_DOM0LESS_MC_DEPLOY_DIR ?= "${TOPDIR}/tmp-{name}/deploy/images/${MACHINE}"

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
        found.append((name, recipe, task, deploy))
    return found

def xen_dom0less_environ(d):
    """What the description's ${VAR}s expand from: never the task's own environment."""
    environ = {
        "DEPLOY_DIR_IMAGE": d.getVar("DEPLOY_DIR_IMAGE"),
        "MACHINE": d.getVar("MACHINE"),
        "SOURCE_DATE_EPOCH": d.getVar("SOURCE_DATE_EPOCH") or "0",
        "PATH": d.getVar("PATH"),
    }
    for name, _, _, deploy in xen_dom0less_multiconfigs(d):
        environ["MC_DEPLOY_" + name.replace("-", "_")] = deploy
    return environ
xen_dom0less_environ[vardeps] += "XEN_DOM0LESS_MULTICONFIGS XEN_DOM0LESS_MC_DEPLOY_DIR"

def xen_dom0less_system_checksums(d):
    """file-checksums entries for the description and the files it names."""
    files = [d.getVar("XEN_DOM0LESS_SYSTEM")] + (d.getVar("XEN_DOM0LESS_SYSTEM_FILES") or "").split()
    return " ".join("%s:True" % f for f in files)

# The library's sources: BitBake follows a called function's own body only,
# so its checksums make every task calling the library re-run when lib/ changes.
XEN_DOM0LESS_LIB_CHECKSUMS = "${XEN_DOM0LESS_LIBDIR}/*.py:True ${XEN_DOM0LESS_LIBDIR}/*/*.py:True ${XEN_DOM0LESS_LIBDIR}/schema/*.json:True"
