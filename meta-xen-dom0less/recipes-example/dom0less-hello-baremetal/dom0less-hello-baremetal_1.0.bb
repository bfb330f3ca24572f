SUMMARY = "A tiny bare-metal Xen domU printing one line on its console"
DESCRIPTION = "An arm64 Image-format binary for a dom0less domU, written to \
               Xen's emulated PL011; the example of a small non-Linux domU built in its own \
               multiconfig (conf/multiconfig/domu-baremetal.conf)."
HOMEPAGE = "https://github.com/meta-xen-dom0less/meta-xen-dom0less"
LICENSE = "MIT"
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/MIT;md5=0835ade698e0bcf8506ecda2f7b4f302"

# subdir=${BP} unpacks it where S defaults to on every supported release
# (${WORKDIR}/${BP} on scarthgap, ${UNPACKDIR}/${BP} from walnascar on).
SRC_URI = "file://hello.S;subdir=${BP}"

inherit deploy nopackages

# Freestanding: of the default dependencies only the cross compiler, no C
# library (virtual/compilerlibs from walnascar on, prefixed before).
BASE_DEFAULT_DEPS:remove = "virtual/libc virtual/compilerlibs virtual/${HOST_PREFIX}compilerlibs"

COMPATIBLE_HOST = "aarch64.*-.*"

B = "${WORKDIR}/build"

do_configure[noexec] = "1"
do_install[noexec] = "1"

do_compile() {
    ${CC} -nostdlib -ffreestanding -static -no-pie -Wl,--build-id=none \
        -Wl,-Ttext=0 -Wl,-e,_head -o hello.elf ${S}/hello.S
    ${OBJCOPY} -O binary hello.elf hello.bin
}

do_deploy() {
    install -m 0644 ${B}/hello.bin ${DEPLOYDIR}/dom0less-hello-baremetal.bin
}
addtask deploy after do_compile before do_build
