#!/bin/sh
# cloudburst-bootstrap.sh STAGING_DIR
#
# Makes this VM a verified HTCondor execute node of the site pool, with CVMFS.
# cloudburstd uploads STAGING_DIR over SSH (or cloud-init writes it) holding
# the files rendered from the site configuration:
#   50-cloudburst.conf      HTCondor execute-node configuration
#   default.local           CVMFS client configuration (absent: no CVMFS)
#   cms.cern.ch.local       CMS_LOCAL_SITE (CMS sites only)
#   cloudburst.token        the pool IDTOKEN (secret)
#   node.env                settings for this script (shell-quoted assignments)
#   cloudburst-lease-check  the node side of the controller lease (optional:
#                           images carry it too)
#
# Idempotent: files are replaced only when their content changes, and HTCondor
# is restarted only then (a second run on a working node changes nothing and
# interrupts no job). Works on EL9 and Debian 12. Installs CVMFS and HTCondor
# from their repositories when the image lacks them. Ends by verifying: each
# CVMFS repository probes, and the local startd answers and advertises the
# cloud attribute. Exit 0 only for a verified node; otherwise the last line on
# stderr says what failed.
#
# Every node pays for this script's processes while the controller waits, so
# it forks little: shell builtins where they do, one mkdir for all
# directories, one timestamp per run in the log.
#
# CB_ROOT (environment, default empty): a root prefix for every path, so the
# script can be tested against a private tree or run on a mounted image; with
# a prefix, its sbin/bin directories come first in PATH (the node's tools).
# CB_VERIFY_TIMEOUT: seconds to wait for the startd (default 120).
set -eu

staging=${1:?usage: cloudburst-bootstrap.sh STAGING_DIR}
R=${CB_ROOT:-}
if [ -n "$R" ]; then
    PATH="$R/usr/local/sbin:$R/usr/local/bin:$R/usr/sbin:$R/usr/bin:$PATH"
    export PATH
fi
umask 022
LOG="$R/var/log/cloudburst-bootstrap.log"
LIBEXEC="$R/usr/libexec/cloudburst"
# One mkdir for all directories, and none when the image has them.
for d in "$R/var/log" "$R/etc/condor/config.d" "$R/etc/condor/tokens.d" \
    "$R/etc/cvmfs/config.d" "$LIBEXEC"; do
    if [ ! -d "$d" ]; then
        mkdir -p "$R/var/log" "$R/etc/condor/config.d" "$R/etc/condor/tokens.d" \
            "$R/etc/cvmfs/config.d" "$LIBEXEC"
        break
    fi
done

log() {
    printf 'cloudburst-bootstrap: %s\n' "$*"
    printf '  %s\n' "$*" >>"$LOG"
}
die() {
    printf '%s ERROR %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$LOG"
    printf 'cloudburst-bootstrap: ERROR: %s\n' "$*" >&2
    exit 1
}

[ -r "$staging/node.env" ] || die "$staging/node.env is missing"
CB_NODE_ID='' CB_CLOUD_ATTRIBUTE='IsCloudNode' CB_CVMFS_REPOSITORIES=''
CB_CMS_LOCAL_SITE='' CB_CVMFS_REPO_URL='' CB_CONDOR_REPO_URL=''
CB_LEASE=0 CB_CONTROLLER=''
# shellcheck source=/dev/null
. "$staging/node.env"
printf '%s node %s: bootstrap started\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$CB_NODE_ID" >>"$LOG"
printf 'cloudburst-bootstrap: node %s: bootstrap started\n' "$CB_NODE_ID"
# Files are chowned to root when this runs as root on the node itself.
chown_root=0
if [ -z "$R" ] && [ "$(id -u)" = 0 ]; then chown_root=1; fi

changed=0
# install_file SRC DEST MODE: replace DEST atomically when its content differs
# (the new file is private until it is complete, then renamed over DEST).
install_file() {
    src=$1 dest=$2 mode=$3
    if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
        chmod "$mode" "$dest"
        return 0
    fi
    tmp="$dest.cloudburst-new"
    umask 077
    if [ "$chown_root" = 1 ]; then
        install -m "$mode" -o root -g root -T "$src" "$tmp"
    else
        install -m "$mode" -T "$src" "$tmp"
    fi
    umask 022
    mv -f "$tmp" "$dest"
    changed=1
    log "wrote ${dest#"$R"}"
}

# ---- packages ------------------------------------------------------------
install_packages() {
    # $1: cvmfs|condor
    os_id=unknown
    if [ -r "$R/etc/os-release" ]; then
        # shellcheck source=/dev/null
        os_id=$(. "$R/etc/os-release" && printf '%s %s' "${ID:-}" "${ID_LIKE:-}")
    fi
    case "$os_id" in
    *rhel* | *centos* | *fedora* | *rocky* | *alma*)
        if [ "$1" = cvmfs ]; then
            dnf -y install "${CB_CVMFS_REPO_URL:-https://cvmrepo.s3.cern.ch/cvmrepo}/yum/cvmfs-release-latest.noarch.rpm"
            dnf -y install cvmfs
        else
            dnf -y install "${CB_CONDOR_REPO_URL:-https://research.cs.wisc.edu/htcondor/repo}/24.x/htcondor-release-current.el9.noarch.rpm"
            dnf -y install condor
        fi
        ;;
    *debian* | *ubuntu*)
        export DEBIAN_FRONTEND=noninteractive
        tmpd=$(mktemp -d)
        if [ "$1" = cvmfs ]; then
            curl -fsSL -o "$tmpd/cvmfs-release.deb" \
                "${CB_CVMFS_REPO_URL:-https://cvmrepo.s3.cern.ch/cvmrepo}/apt/cvmfs-release-latest_all.deb"
            dpkg -i "$tmpd/cvmfs-release.deb"
            apt-get update
            apt-get install -y cvmfs
        else
            base=${CB_CONDOR_REPO_URL:-https://research.cs.wisc.edu/htcondor/repo}
            curl -fsSL -o "$tmpd/htcondor.key" "$base/keys/HTCondor-24.x-Key"
            gpg --dearmor <"$tmpd/htcondor.key" >/usr/share/keyrings/htcondor.gpg
            echo "deb [signed-by=/usr/share/keyrings/htcondor.gpg] $base/debian/24.x bookworm main" \
                >/etc/apt/sources.list.d/htcondor.list
            apt-get update
            apt-get install -y condor
        fi
        rm -rf "$tmpd"
        ;;
    *) die "cannot install $1: unknown OS '$os_id' (need EL9 or Debian 12)" ;;
    esac
}

if [ -n "$CB_CVMFS_REPOSITORIES" ] && ! command -v cvmfs_config >/dev/null 2>&1; then
    log "installing CVMFS"
    install_packages cvmfs || die "installing CVMFS failed"
fi
if ! command -v condor_master >/dev/null 2>&1; then
    log "installing HTCondor"
    install_packages condor || die "installing HTCondor failed"
fi

# ---- configuration -------------------------------------------------------
install_file "$staging/50-cloudburst.conf" "$R/etc/condor/config.d/50-cloudburst.conf" 0644
chmod 0700 "$R/etc/condor/tokens.d"
install_file "$staging/cloudburst.token" "$R/etc/condor/tokens.d/cloudburst.token" 0600
if [ -f "$staging/default.local" ]; then
    install_file "$staging/default.local" "$R/etc/cvmfs/default.local" 0644
fi
if [ -f "$staging/cms.cern.ch.local" ]; then
    log "CMS local site: $CB_CMS_LOCAL_SITE"
    install_file "$staging/cms.cern.ch.local" "$R/etc/cvmfs/config.d/cms.cern.ch.local" 0644
fi
# The controller lease (50-cloudburst.conf runs it as a startd cron job):
# the uploaded copy wins over the image's, so nodes follow the controller.
if [ -f "$staging/cloudburst-lease-check" ]; then
    install_file "$staging/cloudburst-lease-check" "$LIBEXEC/cloudburst-lease-check" 0755
fi
if [ "$CB_LEASE" != 0 ]; then
    [ -x "$LIBEXEC/cloudburst-lease-check" ] ||
        die "the controller lease is on (${CB_LEASE}s) but ${LIBEXEC#"$R"}/cloudburst-lease-check is missing"
    log "controller lease: ${CB_LEASE}s on $CB_CONTROLLER"
    # Startd cron jobs run as the condor user: allow it this one command.
    if [ -d "$R/etc/sudoers.d" ]; then
        printf '%s\n' '# cloudburst: the controller lease check (a startd cron job) powers the node off' \
            'condor ALL=(root) NOPASSWD: /usr/sbin/shutdown -h now, /sbin/shutdown -h now' \
            >"$staging/sudoers"
        # A rule sudo cannot parse would break sudo on the node for everyone.
        if command -v visudo >/dev/null 2>&1 && ! visudo -cqf "$staging/sudoers" >>"$LOG" 2>&1; then
            die "visudo rejects the lease check's sudoers rule (see $LOG); the node's sudo is not the one this bootstrap knows"
        fi
        c=$changed # not a reason to restart HTCondor
        install_file "$staging/sudoers" "$R/etc/sudoers.d/cloudburst-lease" 0440
        changed=$c
    fi
fi

# ---- CVMFS ---------------------------------------------------------------
if [ -n "$CB_CVMFS_REPOSITORIES" ]; then
    cvmfs_config setup >>"$LOG" 2>&1 || die "cvmfs_config setup failed"
    for repo in $CB_CVMFS_REPOSITORIES; do
        if ! cvmfs_config probe "$repo" >>"$LOG" 2>&1; then
            die "CVMFS repository $repo does not mount (cvmfs_config probe failed; see the proxy and cache settings)"
        fi
        log "CVMFS $repo: OK"
    done
fi

# ---- HTCondor ------------------------------------------------------------
systemd=0
if [ -z "$R" ] && [ -d /run/systemd/system ]; then systemd=1; fi
started=0
if [ "$changed" = 1 ]; then
    started=1
    log "configuration changed: restarting HTCondor"
    if [ "$systemd" = 1 ]; then
        systemctl enable condor >/dev/null 2>&1 || true
        systemctl restart condor || die "systemctl restart condor failed"
    else
        condor_restart -master >/dev/null 2>&1 || condor_master || die "condor_master failed to start"
    fi
else
    log "configuration unchanged"
    if [ "$systemd" = 1 ]; then
        systemctl start condor || die "systemctl start condor failed"
    else
        condor_master || die "condor_master failed to start"
    fi
fi

# ---- verification --------------------------------------------------------
attr=$CB_CLOUD_ATTRIBUTE
cfg=$(condor_config_val -startd "$attr" 2>/dev/null || true)
case "$cfg" in
[Tt]rue) ;;
*) die "HTCondor configuration does not set $attr = True (condor_config_val: '$cfg')" ;;
esac
host=$(hostname -f 2>/dev/null || hostname)
timeout=${CB_VERIFY_TIMEOUT:-120}
waited=0
# A startd that was just (re)started does not answer at once: do not ask yet.
if [ "$started" = 1 ]; then
    sleep 1
    waited=1
fi
while :; do
    # A partitionable slot answers with one line per slot: the first decides.
    adv=$(condor_status -direct "$host" -startd -af "$attr" 2>/dev/null) || adv=
    case "$adv" in
    [Tt]rue*) break ;;
    esac
    if [ "$waited" -ge "$timeout" ]; then
        die "the local startd does not answer or does not advertise $attr = True after ${timeout}s"
    fi
    sleep 1
    waited=$((waited + 1))
done
log "node $CB_NODE_ID: verified (startd advertises $attr = True)"
exit 0
