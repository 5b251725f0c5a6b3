#!/usr/bin/env bash
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Builds the kernel + initramfs that nodes PXE-boot to be imaged, from the
# distribution's packages only: the kernel and modules of a Debian kernel
# package, busybox-static for the userland, udpcast's udp-receiver (and the
# operator's frisbee client, when given) with the shared libraries ldd names.
#
# Reproducible: the same inputs give the same bytes (sorted cpio, fixed owner,
# times and inode numbers, gzip -n). Cached: the inputs (package versions and
# their archive checksums, this script, the init, the module list, the frisbee
# client) make a fingerprint; when the outputs on disk match it, nothing is
# rebuilt. The last line on stdout is a JSON summary with "changed".
set -euo pipefail
umask 022
export LC_ALL=C

OUTPUT='' WORK='' KERNEL_PACKAGE=linux-image-amd64 MODULES='' INIT='' UDHCPC_SCRIPT='' FRISBEE_CLIENT='' DEB_DIR=
EPOCH=${SOURCE_DATE_EPOCH:-0} FORCE=0 KERNEL_NAME=vmlinuz INITRD_NAME=initramfs.gz

usage() {
    cat <<'EOF'
usage: build-imaging-ramdisk.sh --output DIR --work DIR --init FILE --udhcpc-script FILE
           [--kernel-package PKG] [--modules "virtio_net e1000e ..."] [--frisbee-client FILE]
           [--kernel-name NAME] [--initrd-name NAME] [--epoch SECONDS] [--deb-dir DIR] [--force]

Packages come from apt (apt-cache show + apt-get download) unless --deb-dir
names a directory of .deb files, for consoles without a route to a mirror.
EOF
}

while [[ $# -gt 0 ]]; do
    case $1 in
        --output) OUTPUT=$2; shift 2 ;;
        --work) WORK=$2; shift 2 ;;
        --kernel-package) KERNEL_PACKAGE=$2; shift 2 ;;
        --modules) MODULES=$2; shift 2 ;;
        --init) INIT=$2; shift 2 ;;
        --udhcpc-script) UDHCPC_SCRIPT=$2; shift 2 ;;
        --frisbee-client) FRISBEE_CLIENT=$2; shift 2 ;;
        --deb-dir) DEB_DIR=$2; shift 2 ;;
        --kernel-name) KERNEL_NAME=$2; shift 2 ;;
        --initrd-name) INITRD_NAME=$2; shift 2 ;;
        --epoch) EPOCH=$2; shift 2 ;;
        --force) FORCE=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done

die() { echo "build-imaging-ramdisk: $*" >&2; exit 1; }
log() { echo "build-imaging-ramdisk: $*" >&2; }

[[ -n $OUTPUT && -n $WORK && -n $INIT && -n $UDHCPC_SCRIPT ]] || { usage >&2; exit 2; }
[[ -r $INIT ]] || die "init script $INIT is not readable"
[[ -r $UDHCPC_SCRIPT ]] || die "udhcpc script $UDHCPC_SCRIPT is not readable"
[[ -z $FRISBEE_CLIENT || -x $FRISBEE_CLIENT ]] || die "frisbee client $FRISBEE_CLIENT is not an executable file"
[[ $EPOCH =~ ^[0-9]+$ ]] || die "--epoch must be a number of seconds"
[[ $KERNEL_NAME =~ ^[A-Za-z0-9._-]+$ && $INITRD_NAME =~ ^[A-Za-z0-9._-]+$ ]] || die "output names must be plain file names"
[[ -z $DEB_DIR || -d $DEB_DIR ]] || die "--deb-dir $DEB_DIR is not a directory"
tools=(dpkg-deb dpkg depmod modprobe cpio gzip ldd sha256sum mknod)
[[ -n $DEB_DIR ]] || tools+=(apt-cache apt-get)
for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null || die "$tool is missing on the build host"
done

sha() { sha256sum "$1" | cut -d' ' -f1; }

# Package name -> "name version sha256" of the archive's candidate. A kernel
# metapackage (linux-image-amd64) is followed to the versioned image package.
resolve_package() {
    local package=$1 record version checksum depends
    record=$(apt-cache show --no-all-versions "$package" 2>/dev/null) ||
        die "package $package is unknown to apt (run apt-get update?)"
    version=$(awk -F': ' '$1 == "Version" {print $2; exit}' <<<"$record")
    checksum=$(awk -F': ' '$1 == "SHA256" {print $2; exit}' <<<"$record")
    if [[ $package == linux-image-* && ! $package =~ ^linux-image-[0-9] ]]; then
        depends=$(awk -F': ' '$1 == "Depends" {print $2; exit}' <<<"$record" |
            tr ',' '\n' | sed 's/^ *//; s/ .*//' | grep -E '^linux-image-[0-9]' | head -n 1 || true)
        [[ -n $depends ]] || die "$package does not depend on a versioned linux-image package"
        resolve_package "$depends"
        return
    fi
    [[ -n $version && -n $checksum ]] || die "apt-cache show $package gives no version or SHA256"
    echo "$package $version $checksum"
}

# The same, from a directory of .deb files: the highest version of the package.
resolve_package_offline() {
    local package=$1 file name version best='' best_version='' depends
    for file in "$DEB_DIR"/*.deb; do
        [[ -f $file ]] || continue
        name=$(dpkg-deb -f "$file" Package 2>/dev/null) || continue
        [[ $name == "$package" ]] || continue
        version=$(dpkg-deb -f "$file" Version)
        if [[ -z $best ]] || dpkg --compare-versions "$version" gt "$best_version"; then
            best=$file best_version=$version
        fi
    done
    [[ -n $best ]] || die "no .deb of $package in $DEB_DIR"
    if [[ $package == linux-image-* && ! $package =~ ^linux-image-[0-9] ]]; then
        depends=$(dpkg-deb -f "$best" Depends | tr ',' '\n' | sed 's/^ *//; s/ .*//' |
            grep -E '^linux-image-[0-9]' | head -n 1 || true)
        [[ -n $depends ]] || die "$package does not depend on a versioned linux-image package"
        resolve_package_offline "$depends"
        return
    fi
    echo "$package $best_version $(sha "$best")"
}

# Downloads (once) and checks the archive checksum; prints the .deb path.
fetch_deb() {
    local package=$1 version=$2 checksum=$3 debs=${DEB_DIR:-$WORK/debs} file
    mkdir -p "$debs"
    file=$(find "$debs" -maxdepth 1 -name "${package}_*.deb" -print | while read -r candidate; do
        [[ $(sha "$candidate") == "$checksum" ]] && echo "$candidate"; done | head -n 1)
    if [[ -z $file ]]; then
        [[ -z $DEB_DIR ]] || die "$package $version ($checksum) vanished from $DEB_DIR"
        log "downloading $package=$version"
        (cd "$debs" && apt-get download -q -o APT::Sandbox::User=root "$package=$version" >&2) ||
            die "apt-get download $package=$version failed"
        file=$(find "$debs" -maxdepth 1 -name "${package}_*.deb" -print | while read -r candidate; do
            [[ $(sha "$candidate") == "$checksum" ]] && echo "$candidate"; done | head -n 1)
        [[ -n $file ]] || die "downloaded $package does not match the archive's SHA256 $checksum"
    fi
    echo "$file"
}

resolver=resolve_package
[[ -z $DEB_DIR ]] || resolver=resolve_package_offline
read -r KPKG KVER KSUM < <($resolver "$KERNEL_PACKAGE")
read -r BPKG BVER BSUM < <($resolver busybox-static)
read -r UPKG UVER USUM < <($resolver udpcast)
[[ -n $KSUM && -n $BSUM && -n $USUM ]] || die "could not resolve the packages"

FINGERPRINT_INPUT=$(
    echo "format 1"
    echo "script $(sha "$0")"
    echo "init $(sha "$INIT")"
    echo "udhcpc $(sha "$UDHCPC_SCRIPT")"
    echo "modules $MODULES"
    echo "package $KPKG $KVER $KSUM"
    echo "package $BPKG $BVER $BSUM"
    echo "package $UPKG $UVER $USUM"
    echo "frisbee ${FRISBEE_CLIENT:+$(sha "$FRISBEE_CLIENT")}"
    echo "epoch $EPOCH"
    echo "names $KERNEL_NAME $INITRD_NAME"
)
FINGERPRINT=$(sha256sum <<<"$FINGERPRINT_INPUT" | cut -d' ' -f1)
INFO=$OUTPUT/build-info.json

summary() {
    # $1 changed (true/false)
    printf '{"changed": %s, "fingerprint": "%s", "kernel": "%s", "initrd": "%s", "kernel_package": "%s", "kernel_version": "%s", "kernel_sha256": "%s", "initrd_sha256": "%s", "initrd_size": %s}\n' \
        "$1" "$FINGERPRINT" "$OUTPUT/$KERNEL_NAME" "$OUTPUT/$INITRD_NAME" "$KPKG" "$KVER" \
        "$(sha "$OUTPUT/$KERNEL_NAME")" "$(sha "$OUTPUT/$INITRD_NAME")" "$(stat -c %s "$OUTPUT/$INITRD_NAME")"
}

if [[ $FORCE == 0 && -f $INFO && -f $OUTPUT/$KERNEL_NAME && -f $OUTPUT/$INITRD_NAME ]]; then
    recorded=$(sed -n 's/.*"fingerprint": "\([0-9a-f]*\)".*/\1/p' "$INFO")
    recorded_initrd=$(sed -n 's/.*"initrd_sha256": "\([0-9a-f]*\)".*/\1/p' "$INFO")
    recorded_kernel=$(sed -n 's/.*"kernel_sha256": "\([0-9a-f]*\)".*/\1/p' "$INFO")
    if [[ $recorded == "$FINGERPRINT" && $recorded_initrd == "$(sha "$OUTPUT/$INITRD_NAME")" &&
          $recorded_kernel == "$(sha "$OUTPUT/$KERNEL_NAME")" ]]; then
        summary false
        exit 0
    fi
fi

mkdir -p "$WORK" "$OUTPUT"
KDEB=$(fetch_deb "$KPKG" "$KVER" "$KSUM")
BDEB=$(fetch_deb "$BPKG" "$BVER" "$BSUM")
UDEB=$(fetch_deb "$UPKG" "$UVER" "$USUM")

# The kernel tree is big (400 MB): extract once per package checksum.
KTREE=$WORK/kernel-$KSUM
if [[ ! -f $KTREE/.complete ]]; then
    log "extracting $KPKG $KVER"
    rm -rf "$WORK"/kernel-*
    mkdir -p "$KTREE"
    dpkg-deb -x "$KDEB" "$KTREE"
    touch "$KTREE/.complete"
fi
MODDIR=
for candidate in "$KTREE"/lib/modules/* "$KTREE"/usr/lib/modules/*; do
    [[ -d $candidate/kernel ]] && { MODDIR=$candidate; break; }
done
[[ -n $MODDIR ]] || die "$KPKG has no lib/modules/<version>/kernel"
KRELEASE=${MODDIR##*/}
MODROOT=${MODDIR%/lib/modules/*}
VMLINUZ=$KTREE/boot/vmlinuz-$KRELEASE
[[ -f $VMLINUZ ]] || die "$KPKG has no boot/vmlinuz-$KRELEASE"
depmod -b "$MODROOT" "$KRELEASE"

ROOT=$WORK/root
rm -rf "$ROOT" "$WORK/extract"
mkdir -p "$ROOT"/{bin,dev,etc,lib,proc,run,sys,tmp,var} "$WORK/extract"
ln -s bin "$ROOT/sbin"
mkdir -p "$ROOT/usr"
ln -s ../bin "$ROOT/usr/bin"
ln -s ../bin "$ROOT/usr/sbin"

# busybox: its --list names busybox itself, which must stay the real binary.
dpkg-deb -x "$BDEB" "$WORK/extract/busybox"
install -m 0755 "$WORK/extract/busybox/bin/busybox" "$ROOT/bin/busybox"
"$ROOT/bin/busybox" --list | while read -r applet; do
    [[ $applet == busybox || -e $ROOT/bin/$applet ]] && continue
    ln -s busybox "$ROOT/bin/$applet"
done

# A dynamic binary and the libraries (and loader) ldd resolves for it.
add_binary() {
    local source=$1 name=$2 line lib
    install -m 0755 "$source" "$ROOT/bin/$name"
    while read -r line; do
        lib=$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) { print $i; exit } }' <<<"$line")
        [[ -n $lib && -f $lib ]] || continue
        mkdir -p "$ROOT$(dirname "$lib")"
        cp -L "$lib" "$ROOT$lib"
    done < <(ldd "$source" 2>/dev/null || true)
}
dpkg-deb -x "$UDEB" "$WORK/extract/udpcast"
add_binary "$WORK/extract/udpcast/usr/bin/udp-receiver" udp-receiver
if [[ -n $FRISBEE_CLIENT ]]; then
    add_binary "$FRISBEE_CLIENT" frisbee
fi

# Modules in insmod order, each once.
: >"$ROOT/etc/modules.order"
if [[ -n $MODULES ]]; then
    for module in $MODULES; do
        modprobe -d "$MODROOT" -S "$KRELEASE" --show-depends "$module" ||
            die "module $module is not in $KPKG $KVER"
    done | awk '$1 == "insmod" && !seen[$2]++ {print $2}' | while read -r path; do
        relative=${path#"$MODROOT"}
        relative=/lib/modules/${relative#*/lib/modules/}
        mkdir -p "$ROOT$(dirname "$relative")"
        cp "$path" "$ROOT$relative"
        echo "$relative" >>"$ROOT/etc/modules.order"
    done
fi

install -m 0755 "$INIT" "$ROOT/init"
install -m 0755 "$UDHCPC_SCRIPT" "$ROOT/etc/udhcpc.script"
printf '%s\n' "$FINGERPRINT_INPUT" >"$ROOT/etc/cluster-netboot-imaging-ramdisk"
# The kernel opens /dev/console for init before devtmpfs is mounted.
mknod -m 0600 "$ROOT/dev/console" c 5 1
mknod -m 0666 "$ROOT/dev/null" c 1 3

find "$ROOT" -exec touch -h -d "@$EPOCH" {} +
log "packing the initramfs"
(cd "$ROOT" && find . -mindepth 1 | sort | cpio --quiet -o -H newc -R 0:0 --reproducible) |
    gzip -9 -n >"$OUTPUT/.$INITRD_NAME.tmp"
chmod 0644 "$OUTPUT/.$INITRD_NAME.tmp"
install -m 0644 "$VMLINUZ" "$OUTPUT/.$KERNEL_NAME.tmp"
mv -f "$OUTPUT/.$KERNEL_NAME.tmp" "$OUTPUT/$KERNEL_NAME"
mv -f "$OUTPUT/.$INITRD_NAME.tmp" "$OUTPUT/$INITRD_NAME"
summary true >"$OUTPUT/.build-info.json.tmp"
mv -f "$OUTPUT/.build-info.json.tmp" "$INFO"
chmod 0644 "$INFO"
rm -rf "$ROOT" "$WORK/extract"
summary true
