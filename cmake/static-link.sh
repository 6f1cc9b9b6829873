#!/bin/bash
# Link launcher (RULE_LAUNCH_LINK) for binaries whose start-up time matters:
# links them fully static. Every shared library on the link line that has a
# static archive beside it (Debian ships libabsl_*.a, libseccomp.a, libcap.a)
# is swapped for that archive; archives are grouped so their order does not matter.
# Usage (by CMake): static-link.sh <compiler> <link arguments...>
set -euo pipefail
args=()
grouped=0
for arg in "$@"; do
  if [[ $arg =~ ^(/.+/lib[^/]+)\.so(\.[0-9.]+)?$ && -f ${BASH_REMATCH[1]}.a ]]; then
    arg=${BASH_REMATCH[1]}.a
  fi
  if [[ $grouped == 0 && $arg == *.a ]]; then
    args+=("-Wl,--start-group")
    grouped=1
  fi
  args+=("$arg")
done
[[ $grouped == 1 ]] && args+=("-Wl,--end-group")
exec "${args[@]}" -static -Wl,--gc-sections
