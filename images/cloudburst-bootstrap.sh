#!/bin/sh
# cloudburst-bootstrap.sh STAGING_DIR
#
# Makes this VM a verified HTCondor execute node of the site pool, with CVMFS.
# cloudburstd uploads STAGING_DIR over SSH (or cloud-init writes it) holding
# the files rendered from the site configuration:
#   50-cloudburst.conf  HTCondor execute-node configuration
#   default.local       CVMFS client configuration (absent: no CVMFS)
#   cms.cern.ch.local   CMS_LOCAL_SITE (CMS sites only)
#   cloudburst.token    the pool IDTOKEN (secret)
#   node.env            settings for this script (shell-quoted assignments)
#
# Idempotent: files are replaced only when their content changes, and HTCondor
# is restarted only then (a second run on a working node changes nothing and
# interrupts no job). Works on EL9 and Debian 12. Installs CVMFS and HTCondor
# from their repositories when the image lacks them. Ends by verifying: each
# CVMFS repository probes, and the local startd answers and advertises the
# cloud attribute. Exit 0 only for a verified node; otherwise the last line on
# stderr says what failed.
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
mkdir -p "$R/var/log"

log() {
    printf 'cloudburst-bootstrap: %s\n' "$*"
    printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$LOG"
}
die() {
    printf '%s ERROR %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$LOG"
    printf 'cloudburst-bootstrap: ERROR: %s\n' "$*" >&2
    exit 1
}

[ -r "$staging/node.env" ] || die "$staging/node.env is missing"
CB_NODE_ID='' CB_CLOUD_ATTRIBUTE='IsCloudNode' CB_CVMFS_REPOSITORIES=''
CB_CMS_LOCAL_SITE='' CB_CVMFS_REPO_URL='' CB_CONDOR_REPO_URL=''
# shellcheck source=/dev/null
. "$staging/node.env"
log "node $CB_NODE_ID: bootstrap started"

changed=0
# install_file SRC DEST MODE: replace DEST atomically when its content differs.
install_file() {
    src=$1 dest=$2 mode=$3
    mkdir -p "$(dirname "$dest")"
    if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
        chmod "$mode" "$dest"
        return 0
    fi
    tmp="$dest.cloudburst-new"
    rm -f "$tmp"
    (umask 077 && cp "$src" "$tmp")
    chmod "$mode" "$tmp"
    if [ "$(id -u)" = 0 ] && [ -z "$R" ]; then chown root:root "$tmp"; fi
    mv -f "$tmp" "$dest"
    changed=1
    log "wrote ${dest#"$R"}"
}

# ---- packages ------------------------------------------------------------
os_id=unknown
if [ -r "$R/etc/os-release" ]; then
    # shellcheck source=/dev/null
    os_id=$(. "$R/etc/os-release" && printf '%s %s' "${ID:-}" "${ID_LIKE:-}")
fi

install_packages() {
    # $1: cvmfs|condor
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
mkdir -p "$R/etc/condor/tokens.d"
chmod 0700 "$R/etc/condor/tokens.d"
install_file "$staging/cloudburst.token" "$R/etc/condor/tokens.d/cloudburst.token" 0600
if [ -f "$staging/default.local" ]; then
    install_file "$staging/default.local" "$R/etc/cvmfs/default.local" 0644
fi
if [ -f "$staging/cms.cern.ch.local" ]; then
    log "CMS local site: $CB_CMS_LOCAL_SITE"
    install_file "$staging/cms.cern.ch.local" "$R/etc/cvmfs/config.d/cms.cern.ch.local" 0644
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
if [ "$changed" = 1 ]; then
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
while :; do
    adv=$(condor_status -direct "$host" -startd -af "$attr" 2>/dev/null | head -n 1 || true)
    case "$adv" in
    [Tt]rue) break ;;
    esac
    if [ "$waited" -ge "$timeout" ]; then
        die "the local startd does not answer or does not advertise $attr = True after ${timeout}s"
    fi
    sleep 2
    waited=$((waited + 2))
done
log "node $CB_NODE_ID: verified (startd advertises $attr = True)"
exit 0
