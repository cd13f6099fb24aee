#!/usr/bin/env bash
# scripts/deps.sh - make sure the Debian packages IPCNet needs are installed.
#
# Checks each package below with dpkg-query.  If some are missing: as root,
# runs `apt-get update` and `apt-get install -y --no-install-recommends` for
# them; otherwise prints the exact command to run and exits 1.
#
#   scripts/deps.sh          check, and install what is missing (as root)
#   scripts/deps.sh --check  check only; exit 1 and print the command if missing
#   scripts/deps.sh --list   print the package list, one per line
set -euo pipefail

# The packages, one per line.  To add one, add a line.
PACKAGES=(
    build-essential     # gcc, make, binutils (nm, readelf), libc headers
    cmake
    pkg-config
    clang               # the fuzz build (libFuzzer)
    libclang-rt-14-dev  # clang's libFuzzer and sanitizer runtimes
    libxxhash-dev       # frame checksums (used header-only)
    libcmocka-dev       # unit and integration tests
    python3             # test helpers
    libdlpack-dev       # dlpack.h: ipcn_tensor_to_dlpack() (include/ipcnet_dlpack.h)
    python3-cbor2       # tests/value: cbor2 <-> C CBOR interop (run with /usr/bin/python3)
    python3-numpy       # tests/value: tensors decoded with NumPy
    python3-pytest      # tests/value: runs test_cbor2_interop.py
    libcbor-dev         # tests/value/bench_cbor.c: the comparison (not linked by the library)
    graphviz            # `ipcnet graph --png`; the CLI test parses `graph --dot` with dot
    libzmq3-dev         # ipcnet-bench: the ZeroMQ peer (benchmark only; optional to build)
    libnng-dev          # ipcnet-bench: the NNG peer (benchmark only; optional to build)
    libiceoryx-binding-c-dev  # ipcnet-bench: the iceoryx peer (benchmark only; optional)
    iceoryx             # ipcnet-bench: iox-roudi, the daemon the iceoryx peer needs
    libsodium-dev       # the file service's content hash (BLAKE2b)
    libssl-dev          # libcrypto: the cipher of TCP links' large records (optional, faster)
    libyaml-dev         # the network's policy file (src/policy/policy_load.c)
    ffmpeg              # `ipcnet stream-recv` of an image stream (a video); media tests: make an H.264 clip, ffprobe
    sox                 # media tests: make WAV audio
    espeak-ng           # media tests: make spoken WAV audio
    python3-dev         # the Python binding (a CPython extension module)
    python3-torch       # Python binding tests: torch.from_dlpack()
    nodejs              # tests/interop: the npm package noise-protocol, our Noise's peer
    python3-venv        # tests/python/test_pip_install.py: pip install into a venv, offline
    python3-setuptools  # ... the package's build backend (setup.py), no build isolation
    python3-wheel       # ... which setuptools needs to build a wheel
    python3-mypy        # tests/python/test_api_docs.py: mypy's stubtest checks the type stubs
    libmosquitto-dev    # bridges/mqtt: ipcnet-bridge-mqtt (optional: not built without it)
    mosquitto           # tests/bridges/test_mqtt.sh: the broker the test starts
    mosquitto-clients   # ... mosquitto_sub, mosquitto_pub: the independent MQTT clients
    cyclonedds-dev      # bridges/dds: the DDS bridge (optional to build; libipcnet does not link it)
    cyclonedds-tools    # bridges/dds: idlc, which compiles the ROS 2 message IDL
    iproute2            # bridges/dds test: ip netns, a loopback-only namespace
    libzstd-dev         # ipcnet record/play/info: MCAP chunks (src/mcap/, the tool only)
    zstd                # the zstd command (checking recordings by hand)
)

mode=install
case "${1:-}" in
    "") ;;
    --check) mode=check ;;
    --list) printf '%s\n' "${PACKAGES[@]}"; exit 0 ;;
    -h|--help) sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "scripts/deps.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "scripts/deps.sh: no dpkg-query: not a Debian system, so the packages cannot be checked." >&2
    echo "scripts/deps.sh: make sure the equivalents of these are installed: ${PACKAGES[*]}" >&2
    exit 0
fi

missing_packages() {
    local p
    for p in "${PACKAGES[@]}"; do
        if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" != installed ]; then
            echo "$p"
        fi
    done
    # npm (tests/interop installs noise-protocol with it): Debian's package,
    # unless the nodejs installed brings its own (NodeSource's does).
    if ! command -v npm >/dev/null 2>&1; then
        echo npm
    fi
}

mapfile -t missing < <(missing_packages)
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

echo "scripts/deps.sh: missing Debian packages: ${missing[*]}" >&2
if [ "$mode" = check ] || [ "$(id -u)" -ne 0 ]; then
    echo "scripts/deps.sh: install them with:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_opts=(-o DPkg::Lock::Timeout=300)
echo "+ apt-get update" >&2
apt-get "${apt_opts[@]}" update
echo "+ apt-get install -y --no-install-recommends ${missing[*]}" >&2
apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}"

mapfile -t still < <(missing_packages)
if [ "${#still[@]}" -ne 0 ]; then
    echo "scripts/deps.sh: still not installed after apt-get: ${still[*]}" >&2
    exit 1
fi
echo "scripts/deps.sh: installed ${missing[*]}" >&2
