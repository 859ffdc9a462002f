#!/bin/sh
# crosscheck.sh: our SigV4 signer against the official AWS JavaScript SDK signer.
# Installs @smithy/signature-v4 and @aws-crypto/sha256-js from the npm registry
# into $top_builddir/tests/node (never the source tree; once, then reused),
# lets the SDK sign generated requests (EC2 form POSTs, session tokens,
# presigned URLs, odd paths, queries and headers) and compares with
# tests/test_sigv4_crosscheck. Without node/npm or the registry: SKIP (77),
# except in CI (CI=true), where that is a failure.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
NODE=${NODE:-node}
NPM=${NPM:-npm}
COUNT=${SIGV4_CROSSCHECK_COUNT:-600}
SEED=${SIGV4_CROSSCHECK_SEED:-20261122}

unavailable() {
    echo "crosscheck: $1" >&2
    if [ "${CI:-}" = "true" ]; then
        echo "crosscheck: required in CI: FAIL" >&2
        exit 1
    fi
    exit 77
}

for tool in "$NODE" "$NPM"; do
    if [ "$tool" = "no" ] || ! command -v "$tool" >/dev/null 2>&1; then
        unavailable "${tool} not found (node and npm are needed)"
    fi
done

prefix="$top_builddir/tests/node"
mods="$prefix/node_modules"
if [ ! -f "$mods/@smithy/signature-v4/package.json" ] || [ ! -f "$mods/@aws-crypto/sha256-js/package.json" ]; then
    mkdir -p "$prefix" || exit 99
    if ! "$NPM" install --prefix "$prefix" --no-audit --no-fund --no-save --loglevel=error \
        @smithy/signature-v4@5 @aws-crypto/sha256-js@5 >"$prefix/npm-install.log" 2>&1; then
        cat "$prefix/npm-install.log" >&2
        unavailable "npm install of the AWS SDK signer failed (registry unreachable?)"
    fi
fi

work=$(mktemp -d) || exit 99
trap 'rm -rf "$work"' EXIT
if ! "$NODE" "$top_srcdir/tests/sigv4/crosscheck.js" "$mods" "$COUNT" "$SEED" >"$work/cases.jsonl"; then
    echo "crosscheck: the SDK side failed" >&2
    exit 99
fi
n=$(wc -l <"$work/cases.jsonl")
echo "crosscheck: $n requests signed by @smithy/signature-v4 $(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$mods/@smithy/signature-v4/package.json")"
"$top_builddir/tests/test_sigv4_crosscheck" "$work/cases.jsonl"
