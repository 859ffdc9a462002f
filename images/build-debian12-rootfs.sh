#!/bin/sh
# build-debian12-rootfs.sh OUTPUT
#
# Builds a Debian 12 (bookworm) cloudburst worker root file system with
# mmdebstrap: cloud-init, OpenSSH server, systemd, CVMFS and HTCondor from
# their upstream repositories, and the node files (bootstrap script, the
# controller lease check in /usr/libexec/cloudburst, private directories,
# cloud-init snippet), so that bootstrap only writes the site configuration. OUTPUT is a directory, or a file name ending in .tar/.tar.gz
# /.squashfs (mmdebstrap picks the format from the name). Needs root (or
# mmdebstrap's unshare mode) and access to a Debian mirror.
#
# Environment:
#   CB_MIRROR               Debian mirror (default http://deb.debian.org/debian)
#   CB_VARIANT              mmdebstrap variant (default minbase)
#   CB_EXTRA_PACKAGES       more packages, comma separated (e.g. a kernel:
#                           linux-image-cloud-amd64 for a bootable image)
#   CB_SKIP_UPSTREAM_REPOS  1 = do NOT add the HTCondor and CVMFS repositories
#                           and do not install condor/cvmfs. The image then
#                           relies on cloudburst-bootstrap.sh installing them at
#                           first boot. CI sets this because those repositories
#                           are not reachable from CI; the image records it in
#                           /usr/share/cloudburst/image-info.
#   CB_CONDOR_REPO_URL      HTCondor repository base
#                           (default https://research.cs.wisc.edu/htcondor/repo)
#   CB_CVMFS_REPO_URL       CVMFS repository base
#                           (default https://cvmrepo.s3.cern.ch/cvmrepo)
set -eu

out=${1:?usage: build-debian12-rootfs.sh OUTPUT}
here=$(cd "$(dirname "$0")" && pwd)
mirror=${CB_MIRROR:-http://deb.debian.org/debian}
variant=${CB_VARIANT:-minbase}
skip=${CB_SKIP_UPSTREAM_REPOS:-0}
condor_repo=${CB_CONDOR_REPO_URL:-https://research.cs.wisc.edu/htcondor/repo}
cvmfs_repo=${CB_CVMFS_REPO_URL:-https://cvmrepo.s3.cern.ch/cvmrepo}

command -v mmdebstrap >/dev/null 2>&1 || {
    echo "build-debian12-rootfs: mmdebstrap is not installed (apt-get install mmdebstrap)" >&2
    exit 1
}

packages=systemd,systemd-sysv,openssh-server,cloud-init,ca-certificates,curl,gnupg,sudo,autofs
[ -n "${CB_EXTRA_PACKAGES:-}" ] && packages="$packages,$CB_EXTRA_PACKAGES"

# Hooks get the root as $1; they read these from the environment.
CB_SRC_SCRIPT="$here/cloudburst-bootstrap.sh"
CB_SRC_LEASE="$here/cloudburst-lease-check"
CB_SRC_CLOUDCFG="$here/90-cloudburst.cfg"
export CB_SRC_SCRIPT CB_SRC_LEASE CB_SRC_CLOUDCFG CB_CONDOR_REPO="$condor_repo" CB_CVMFS_REPO="$cvmfs_repo"

CB_IMAGE_INFO="built: $(date -u +%Y-%m-%dT%H:%M:%SZ) by build-debian12-rootfs.sh"
export CB_IMAGE_INFO

# mmdebstrap with the node files; "$@" = extra options, suite, target, mirrors.
# shellcheck disable=SC2016 # the hooks are expanded by mmdebstrap's shell
run_mmdebstrap() {
    mmdebstrap --variant="$variant" \
        --customize-hook='install -D -m 0755 -o 0 -g 0 "$CB_SRC_SCRIPT" "$1/usr/share/cloudburst/cloudburst-bootstrap.sh"' \
        --customize-hook='install -D -m 0755 -o 0 -g 0 "$CB_SRC_LEASE" "$1/usr/libexec/cloudburst/cloudburst-lease-check"' \
        --customize-hook='install -D -m 0644 -o 0 -g 0 "$CB_SRC_CLOUDCFG" "$1/etc/cloud/cloud.cfg.d/90-cloudburst.cfg"' \
        --customize-hook='install -d -m 0700 -o 0 -g 0 "$1/etc/condor/tokens.d" "$1/var/lib/cloudburst/bootstrap"' \
        --customize-hook='install -d -m 0755 -o 0 -g 0 "$1/etc/condor/config.d" "$1/etc/cvmfs/config.d"' \
        --customize-hook='printf "%s\n" "$CB_IMAGE_INFO" > "$1/usr/share/cloudburst/image-info"' \
        --customize-hook='if [ -e "$1/lib/systemd/system/condor.service" ]; then systemctl --root="$1" enable condor.service; fi' \
        --customize-hook='systemctl --root="$1" enable ssh.service' \
        "$@"
}

if [ "$skip" = 1 ]; then
    echo "build-debian12-rootfs: CB_SKIP_UPSTREAM_REPOS=1: HTCondor and CVMFS are NOT installed;" \
        "the bootstrap script installs them at first boot" >&2
    CB_IMAGE_INFO="$CB_IMAGE_INFO
htcondor: skipped (CB_SKIP_UPSTREAM_REPOS=1)
cvmfs: skipped (CB_SKIP_UPSTREAM_REPOS=1)"
    run_mmdebstrap --include="$packages" bookworm "$out" "$mirror"
else
    CB_IMAGE_INFO="$CB_IMAGE_INFO
htcondor: $condor_repo/debian/24.x bookworm
cvmfs: $cvmfs_repo/apt bookworm-prod"
    # The upstream repositories' keys are fetched before apt runs.
    # shellcheck disable=SC2016
    run_mmdebstrap --include="$packages,condor,cvmfs" \
        --setup-hook='mkdir -p "$1/usr/share/keyrings"' \
        --setup-hook='curl -fsSL "$CB_CONDOR_REPO/keys/HTCondor-24.x-Key" | gpg --dearmor > "$1/usr/share/keyrings/htcondor.gpg"' \
        --setup-hook='curl -fsSL "$CB_CVMFS_REPO/apt/cernvm.gpg" > "$1/usr/share/keyrings/cernvm.gpg"' \
        bookworm "$out" \
        "deb $mirror bookworm main" \
        "deb [signed-by=/usr/share/keyrings/htcondor.gpg] $condor_repo/debian/24.x bookworm main" \
        "deb [signed-by=/usr/share/keyrings/cernvm.gpg] $cvmfs_repo/apt/ bookworm-prod main"
fi
echo "build-debian12-rootfs: wrote $out"
