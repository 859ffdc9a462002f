#!/bin/sh
# Builds the Debian 12 worker root file system with the image recipe
# (images/build-debian12-rootfs.sh, minbase, CB_SKIP_UPSTREAM_REPOS=1 because
# HTCondor's and CVMFS's repositories are not reachable from CI) and checks
# the node files, their permissions and the enabled units in it.
# SKIP (77) when not root, when mmdebstrap is absent, or when the Debian
# mirror cannot be reached.
set -eu
: "${top_srcdir:?}"
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: building a root file system needs root" >&2
    exit 77
fi
if ! command -v mmdebstrap >/dev/null 2>&1; then
    echo "SKIP: mmdebstrap is not installed" >&2
    exit 77
fi
mirror=${CB_MIRROR:-http://deb.debian.org/debian}
if ! curl -fsS -o /dev/null --max-time 20 "$mirror/dists/bookworm/Release"; then
    echo "SKIP: the Debian mirror $mirror cannot be reached" >&2
    exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/cb-image-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
CB_SKIP_UPSTREAM_REPOS=1 CB_MIRROR=$mirror \
    sh "$top_srcdir/images/build-debian12-rootfs.sh" "$root" >"$work/build.log" 2>&1 || {
    tail -n 40 "$work/build.log" >&2
    echo "FAIL: the image recipe failed" >&2
    exit 1
}

fails=0
check() { # check DESCRIPTION COMMAND...
    what=$1
    shift
    if "$@"; then
        echo "ok: $what"
    else
        echo "FAIL: $what" >&2
        fails=$((fails + 1))
    fi
}
mode_owner() { # mode_owner PATH MODE: octal mode and root:root
    [ "$(stat -c '%a %u %g' "$1")" = "$2 0 0" ]
}
enabled() { # enabled UNIT: a wants/ symlink for it under etc/systemd/system
    find "$root/etc/systemd/system" -name "$1" -path '*.wants/*' | grep -q .
}

script="$root/usr/share/cloudburst/cloudburst-bootstrap.sh"
check "bootstrap script installed, 0755 root" mode_owner "$script" 755
check "bootstrap script is the shipped one" cmp -s "$script" "$top_srcdir/images/cloudburst-bootstrap.sh"
check "bootstrap script parses in the image's sh" chroot "$root" sh -n /usr/share/cloudburst/cloudburst-bootstrap.sh
lease="$root/usr/libexec/cloudburst/cloudburst-lease-check"
check "lease check installed, 0755 root" mode_owner "$lease" 755
check "lease check is the shipped one" cmp -s "$lease" "$top_srcdir/images/cloudburst-lease-check"
check "lease check parses in the image's sh" chroot "$root" sh -n /usr/libexec/cloudburst/cloudburst-lease-check
check "tokens.d is 0700 root" mode_owner "$root/etc/condor/tokens.d" 700
check "staging directory is 0700 root" mode_owner "$root/var/lib/cloudburst/bootstrap" 700
check "condor config.d exists" mode_owner "$root/etc/condor/config.d" 755
check "cvmfs config.d exists" mode_owner "$root/etc/cvmfs/config.d" 755
check "cloud-init snippet 0644 root" mode_owner "$root/etc/cloud/cloud.cfg.d/90-cloudburst.cfg" 644
check "image records the skipped repositories" grep -q '^htcondor: skipped (CB_SKIP_UPSTREAM_REPOS=1)' "$root/usr/share/cloudburst/image-info"
check "cloud-init installed" test -x "$root/usr/bin/cloud-init"
check "sshd installed" test -x "$root/usr/sbin/sshd"
check "ssh.service enabled" enabled ssh.service
check "cloud-final.service enabled" enabled cloud-final.service
check "no condor without its repository" test ! -e "$root/usr/sbin/condor_master"
check "no stray secrets in the image" test -z "$(ls -A "$root/etc/condor/tokens.d")"
if command -v cloud-init >/dev/null 2>&1; then
    check "cloud-init snippet is valid" cloud-init schema --config-file "$root/etc/cloud/cloud.cfg.d/90-cloudburst.cfg"
fi
[ "$fails" = 0 ] || exit 1
echo "image checks passed"
