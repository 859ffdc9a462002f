#!/bin/sh
# virt-customize-worker.sh el9|debian12 IMAGE
#
# Turns an upstream cloud image (qcow2) into a cloudburst worker image in
# place, with virt-customize (Debian/EL package libguestfs-tools): CVMFS and
# HTCondor from their repositories, cloud-init and sshd enabled, the node
# files installed (the bootstrap script, and the controller lease check in
# /usr/libexec/cloudburst). Site configuration (central manager, token, proxies) is
# NOT baked in: cloudburst writes it at bootstrap. Work on a copy:
#
#   cp debian-12-genericcloud-amd64.qcow2 worker-debian12.qcow2
#   images/virt-customize-worker.sh debian12 worker-debian12.qcow2
#
#   cp Rocky-9-GenericCloud.latest.x86_64.qcow2 worker-el9.qcow2   (or AlmaLinux 9)
#   images/virt-customize-worker.sh el9 worker-el9.qcow2
#
# Environment: CB_CONDOR_REPO_URL, CB_CVMFS_REPO_URL (repository bases, as in
# build-debian12-rootfs.sh), CB_SKIP_UPSTREAM_REPOS=1 (leave HTCondor/CVMFS
# out; the bootstrap script installs them at first boot).
set -eu

os=${1:?usage: virt-customize-worker.sh el9|debian12 IMAGE}
image=${2:?usage: virt-customize-worker.sh el9|debian12 IMAGE}
here=$(cd "$(dirname "$0")" && pwd)
condor_repo=${CB_CONDOR_REPO_URL:-https://research.cs.wisc.edu/htcondor/repo}
cvmfs_repo=${CB_CVMFS_REPO_URL:-https://cvmrepo.s3.cern.ch/cvmrepo}
skip=${CB_SKIP_UPSTREAM_REPOS:-0}

command -v virt-customize >/dev/null 2>&1 || {
    echo "virt-customize-worker: virt-customize not found (apt-get install libguestfs-tools)" >&2
    exit 1
}
[ -f "$image" ] || { echo "virt-customize-worker: $image: no such image" >&2; exit 1; }

case "$os" in
el9)
    base="dnf -y install cloud-init openssh-server autofs curl"
    upstream="dnf -y install $cvmfs_repo/yum/cvmfs-release-latest.noarch.rpm && dnf -y install cvmfs && dnf -y install $condor_repo/24.x/htcondor-release-current.el9.noarch.rpm && dnf -y install condor && systemctl enable condor autofs"
    ;;
debian12)
    base="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y cloud-init openssh-server autofs curl gnupg ca-certificates"
    upstream="curl -fsSL -o /tmp/cvmfs-release.deb $cvmfs_repo/apt/cvmfs-release-latest_all.deb && dpkg -i /tmp/cvmfs-release.deb && rm -f /tmp/cvmfs-release.deb && curl -fsSL $condor_repo/keys/HTCondor-24.x-Key | gpg --dearmor > /usr/share/keyrings/htcondor.gpg && echo 'deb [signed-by=/usr/share/keyrings/htcondor.gpg] $condor_repo/debian/24.x bookworm main' > /etc/apt/sources.list.d/htcondor.list && apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y cvmfs condor && systemctl enable condor autofs"
    ;;
*)
    echo "virt-customize-worker: unknown OS '$os' (el9 or debian12)" >&2
    exit 1
    ;;
esac
if [ "$skip" = 1 ]; then
    echo "virt-customize-worker: CB_SKIP_UPSTREAM_REPOS=1: HTCondor and CVMFS are NOT installed" >&2
    upstream="echo 'htcondor, cvmfs: skipped (CB_SKIP_UPSTREAM_REPOS=1)' >> /usr/share/cloudburst/image-info"
fi

virt-customize -a "$image" \
    --run-command "$base" \
    --mkdir /usr/share/cloudburst \
    --copy-in "$here/cloudburst-bootstrap.sh:/usr/share/cloudburst" \
    --chmod "0755:/usr/share/cloudburst/cloudburst-bootstrap.sh" \
    --mkdir /usr/libexec/cloudburst \
    --copy-in "$here/cloudburst-lease-check:/usr/libexec/cloudburst" \
    --chmod "0755:/usr/libexec/cloudburst/cloudburst-lease-check" \
    --copy-in "$here/90-cloudburst.cfg:/etc/cloud/cloud.cfg.d" \
    --run-command "install -d -m 0700 /etc/condor/tokens.d /var/lib/cloudburst/bootstrap && install -d -m 0755 /etc/condor/config.d /etc/cvmfs/config.d" \
    --run-command "echo 'built: $(date -u +%Y-%m-%dT%H:%M:%SZ) by virt-customize-worker.sh $os' > /usr/share/cloudburst/image-info" \
    --run-command "$upstream" \
    --run-command "systemctl enable sshd 2>/dev/null || systemctl enable ssh" \
    --run-command "cloud-init clean --logs --machine-id || true" \
    --selinux-relabel
echo "virt-customize-worker: $image is a cloudburst $os worker image"
