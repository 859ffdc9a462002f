#!/bin/sh
# cloudburstd's command line: --help/--version, usage errors, --check-config.
. "$top_srcdir/tests/daemon/lib.sh"

"$CLOUDBURSTD" --version | grep -q '^cloudburstd [0-9]' || fail "--version"
"$CLOUDBURSTD" --help > "$T/help.log" || fail "--help exit status"
for opt in --config --once --dry-run --check-config --log-level --provider-dir --stderr; do
    grep -q -- "$opt" "$T/help.log" || fail "--help does not mention $opt"
done
# Every option in --help is documented in cloudburstd(8).
for opt in $(grep -o -- '--[a-z-]*' "$T/help.log" | sort -u); do
    grep -q -- "Fl Fl ${opt#--}" "$top_srcdir/man/cloudburstd.8" || fail "$opt is not in cloudburstd(8)"
done

set +e
"$CLOUDBURSTD" --bogus 2> "$T/usage.log"; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "unknown option: exit $rc, expected 2"
set +e
"$CLOUDBURSTD" --log-level loud 2> "$T/usage.log"; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "bad --log-level: exit $rc"
grep -q "unknown level 'loud'" "$T/usage.log" || fail "bad --log-level message"

# --check-config: effective settings, secrets redacted, exit 0.
"$CLOUDBURSTD" --check-config -c "$T/cb.conf" --provider-dir "$PROVIDERS" > "$T/check.log" 2> "$T/check-err.log" \
    || fail "--check-config on a valid file"
grep -q 'configuration OK (1 cloud(s))' "$T/check-err.log" || fail "no OK line"
grep -q 'cycle_interval = 5;' "$T/check.log" || fail "effective config lacks cycle_interval"
grep -q 'idle_timeout_max = ' "$T/check.log" || fail "defaults not filled in"
! grep -q 'test.token' "$T/check.log" || fail "the token leaked into --check-config output"

# An invalid file: exit 1, one line naming file, line and setting.
sed 's/cycle_interval = 5;/cycle_interval = 1;/' "$T/cb.conf" > "$T/bad.conf"
set +e
"$CLOUDBURSTD" --check-config -c "$T/bad.conf" --provider-dir "$PROVIDERS" > /dev/null 2> "$T/bad.log"; rc=$?
set -e
[ "$rc" -eq 1 ] || fail "invalid config: exit $rc, expected 1"
grep -q "bad.conf:[0-9]*: controller.cycle_interval" "$T/bad.log" || fail "error does not name file:line and setting"
[ "$(wc -l < "$T/bad.log")" -eq 1 ] || fail "error is not one line"
echo "cli: ok"
