#!/usr/bin/env bash
# Regenerate the betterproto2 code for proto/yahoo/pricing.proto, or check it is current.
#
#   bash scripts/gen_proto.sh           # rewrite packages/lib_common/.../yahoo/_generated/
#   bash scripts/gen_proto.sh --check   # exit 1 if the committed code differs
#
# protoc comes from grpcio-tools (`python -m grpc_tools.protoc`) and the plugin from
# betterproto2-compiler, both in lib-common's dev group, so no system protoc is needed.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,8s/^# \{0,1\}//p' "$0"; }
check=0
case "${1:-}" in
  "") ;;
  --check) check=1 ;;
  -h|--help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac

out_dir=packages/lib_common/src/lib_common/ingestors/yahoo/_generated
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --package lib-common: the generator lives in that member's dev group. The plugin chats
# ("Writing ...") on stderr, so its output is shown only when protoc fails.
if ! uv run --quiet --package lib-common python -m grpc_tools.protoc \
  --proto_path=proto \
  --python_betterproto2_out="$tmp" \
  proto/yahoo/pricing.proto >"$tmp.log" 2>&1; then
  cat "$tmp.log" >&2
  rm -f "$tmp.log"
  exit 1
fi
rm -f "$tmp.log"

if [ "$check" -eq 1 ]; then
  if ! diff -r -x __pycache__ "$out_dir" "$tmp"; then
    echo "generated protobuf code is stale: run bash scripts/gen_proto.sh" >&2
    exit 1
  fi
  echo "generated protobuf code is current"
  exit 0
fi

rm -rf "$out_dir"
mkdir -p "$out_dir"
cp -R "$tmp"/. "$out_dir"/
echo "wrote $out_dir"
