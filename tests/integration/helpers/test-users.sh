#!/usr/bin/env bash
# tests/integration/helpers/test-users.sh - the Unix users and groups that
# tests of several users run their processes as.
#
#   test-users.sh ensure     create what is missing (idempotent); root only
#   test-users.sh check      exit 0 when all exist, 1 otherwise
#
# Users ipcnt_a, ipcnt_b, ipcnt_c (system users, no home, no login shell),
# groups ipcnt_robot (members ipcnt_a, ipcnt_b) and ipcnt_ops (ipcnt_b).
# Each user also has a primary group of its own name.  A test runs a process
# as one of them with
#   setpriv --reuid=ipcnt_a --regid=ipcnt_a --init-groups CMD...
# Exit status: 0 done, 1 failed, 77 not root (or no useradd): tests that
# need these users skip then.
set -u

USERS="ipcnt_a ipcnt_b ipcnt_c"
# group:members
GROUPS_WANTED="ipcnt_robot:ipcnt_a,ipcnt_b ipcnt_ops:ipcnt_b"

have_all() {
    local u g
    for u in $USERS; do getent passwd "$u" >/dev/null || return 1; done
    for g in $GROUPS_WANTED; do
        local name=${g%%:*} members=${g#*:} m
        getent group "$name" >/dev/null || return 1
        for m in ${members//,/ }; do
            id -nG "$m" 2>/dev/null | tr ' ' '\n' | grep -qx "$name" || return 1
        done
    done
    return 0
}

ensure() {
    if have_all; then return 0; fi
    if [ "$(id -u)" != 0 ]; then
        echo "test-users: SKIP: creating test users needs root" >&2
        exit 77
    fi
    command -v useradd >/dev/null && command -v groupadd >/dev/null || {
        echo "test-users: SKIP: no useradd/groupadd" >&2
        exit 77
    }
    local u g
    for u in $USERS; do
        getent group "$u" >/dev/null || groupadd --system "$u" || return 1
        getent passwd "$u" >/dev/null ||
            useradd --system --no-create-home --home-dir /nonexistent \
                --shell /usr/sbin/nologin --gid "$u" "$u" || return 1
    done
    for g in $GROUPS_WANTED; do
        local name=${g%%:*} members=${g#*:}
        getent group "$name" >/dev/null || groupadd --system "$name" || return 1
        for u in ${members//,/ }; do
            id -nG "$u" | tr ' ' '\n' | grep -qx "$name" ||
                usermod --append --groups "$name" "$u" || return 1
        done
    done
    have_all
}

case "${1:-}" in
ensure) ensure || { echo "test-users: could not create the test users" >&2; exit 1; } ;;
check) have_all ;;
*) echo "usage: $0 ensure|check" >&2; exit 2 ;;
esac
