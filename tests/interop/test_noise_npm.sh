#!/usr/bin/env bash
# tests/interop/test_noise_npm.sh - our Noise against the npm package
# noise-protocol run by Node.js, both ways (tests/interop/noise_npm.c).
#
#   bash test_noise_npm.sh path/to/ipcn-noise-npm NPM_DIR path/to/noise_peer.js
#
# The package is installed into NPM_DIR (in the build tree, never in the
# source tree) when it is not there yet.  Exit 77 (skipped) only when npm's
# registry cannot be reached; node or npm missing is a failure
# (scripts/deps.sh installs them).
set -u

BIN=${1:?usage: test_noise_npm.sh ipcn-noise-npm NPM_DIR noise_peer.js}
NPM_DIR=${2:?}
PEER=${3:?}
VERSION=3.0.2   # the version this test was written against

for tool in node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "test_noise_npm: no $tool (scripts/deps.sh installs nodejs and npm)" >&2
        exit 1
    fi
done

installed() {
    [ "$(node -p "require('$NPM_DIR/node_modules/noise-protocol/package.json').version" \
        2>/dev/null)" = "$VERSION" ]
}

if ! installed; then
    mkdir -p "$NPM_DIR" || exit 1
    # Several builds may run this at once: one installs, the others wait.
    exec 9>"$NPM_DIR/.lock"
    flock 9
    if ! installed; then
        echo "+ npm install --prefix $NPM_DIR noise-protocol@$VERSION" >&2
        if ! timeout 240 npm install --prefix "$NPM_DIR" --no-audit --no-fund \
                --no-save "noise-protocol@$VERSION" >&2; then
            if ! timeout 60 npm view noise-protocol version >/dev/null 2>&1; then
                echo "test_noise_npm: SKIPPED: npm's registry cannot be reached, so the" \
                     "npm package noise-protocol cannot be installed" >&2
                exit 77
            fi
            echo "test_noise_npm: npm install failed although the registry answers" >&2
            exit 1
        fi
    fi
    flock -u 9
fi

NODE_PATH="$NPM_DIR/node_modules" exec "$BIN" "$PEER"
