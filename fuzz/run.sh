#!/usr/bin/env bash
# Builds and runs kerascpp's libFuzzer targets, apart from the normal CMake build.
#
#   fuzz/run.sh read_csv 600      fuzz read_csv for 600 seconds
#   fuzz/run.sh load_model 600    fuzz load_model / load_weights for 600 seconds
#   fuzz/run.sh seeds             regenerate fuzz/corpus/load_model with make_model_seeds
#   fuzz/run.sh build             only build both targets
#
# Extra arguments after the time go to libFuzzer (e.g. -jobs=2, -only_ascii=1), and a file path
# instead of a time replays that one input (fuzz/run.sh load_model crash-0123abcd).
# Builds, the growing working corpus and crash artifacts live in $KERASCPP_FUZZ_DIR (default
# ${TMPDIR:-/tmp}/kerascpp-fuzz); the committed seeds in fuzz/corpus/ are only read.
# Needs clang++-14 (or $KERASCPP_FUZZ_CXX) with libFuzzer: Debian's clang-14 and libclang-rt-14-dev.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
work="${KERASCPP_FUZZ_DIR:-${TMPDIR:-/tmp}/kerascpp-fuzz}"
cxx="${KERASCPP_FUZZ_CXX:-clang++-14}"

eigen_flags="$(pkg-config --cflags eigen3 2>/dev/null || echo -I/usr/include/eigen3)"
common=(-std=c++20 -g -O1 -fno-omit-frame-pointer -I"$root/include" ${eigen_flags//-I/-isystem } '-DKERASCPP_FCCP_HEADER=<libfccp/csv.h>' -pthread)
sanitize=(-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all)

usage() {
  sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 2
}

# Rebuilds $work/fuzz_$1 when a header or the target's source is newer than the binary.
build() {
  local target="$1" binary="$work/fuzz_$1"
  mkdir -p "$work"
  if [[ -x "$binary" ]] && [[ -z "$(find "$root/include" "$here/fuzz_$target.cpp" -newer "$binary" -print -quit)" ]]; then
    return
  fi
  echo "building $binary" >&2
  "$cxx" "${common[@]}" "${sanitize[@]}" "$here/fuzz_$target.cpp" -o "$binary"
}

target="${1:-}"
case "$target" in
  read_csv | load_model) ;;
  build)
    build read_csv
    build load_model
    exit 0
    ;;
  seeds)
    mkdir -p "$work"
    "$cxx" "${common[@]}" -fsanitize=address,undefined "$here/make_model_seeds.cpp" -o "$work/make_model_seeds"
    rm -f "$here/corpus/load_model/"*
    "$work/make_model_seeds" "$here/corpus/load_model"
    ls -l "$here/corpus/load_model"
    exit 0
    ;;
  *) usage ;;
esac
shift
build "$target"
binary="$work/fuzz_$target"

if [[ $# -gt 0 && -f "$1" ]]; then
  exec "$binary" "$@"
fi
seconds="${1:-600}"
[[ $# -gt 0 ]] && shift
[[ "$seconds" =~ ^[0-9]+$ ]] || usage

corpus="$work/corpus/$target"
artifacts="$work/artifacts/$target"
mkdir -p "$corpus" "$artifacts"
exec "$binary" "$corpus" "$here/corpus/$target" \
  -dict="$here/dict/$target.dict" \
  -max_total_time="$seconds" \
  -timeout=10 \
  -rss_limit_mb=2048 \
  -max_len=8192 \
  -print_final_stats=1 \
  -artifact_prefix="$artifacts/" \
  "$@"
