# tests/interop/mcap_npm.sh - sourced by the recording tests: installs the
# npm packages @mcap/core (the independent MCAP reader) and
# @foxglove/wasm-zstd (the zstd decompressor Foxglove pairs with it) into $NPM_DIR (in the build tree) when they
# are not there, and exports NODE_PATH.  mcap_npm_ready returns 0 when they
# can be used; its log is $W/npm.log.
MCAP_CORE_VERSION=2.2.2
WASM_ZSTD_VERSION=1.0.1

mcap_npm_installed() {
    [ "$(node -p "require('$NPM_DIR/node_modules/@mcap/core/package.json').version" 2>/dev/null)" \
        = "$MCAP_CORE_VERSION" ] &&
    [ "$(node -p "require('$NPM_DIR/node_modules/@foxglove/wasm-zstd/package.json').version" \
        2>/dev/null)" = "$WASM_ZSTD_VERSION" ]
}

mcap_npm_ready() {
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || {
        echo "no node or npm (scripts/deps.sh installs nodejs and npm)" >"$W/npm.log"; return 1; }
    export NODE_PATH="$NPM_DIR/node_modules"
    mcap_npm_installed && return 0
    mkdir -p "$NPM_DIR" || return 1
    (
        flock 9 # several builds may run this at once
        mcap_npm_installed || timeout 240 npm install --prefix "$NPM_DIR" --no-audit \
            --no-fund --no-save "@mcap/core@$MCAP_CORE_VERSION" "@foxglove/wasm-zstd@$WASM_ZSTD_VERSION"
    ) 9>"$NPM_DIR/.lock" >"$W/npm.log" 2>&1
    mcap_npm_installed
}
