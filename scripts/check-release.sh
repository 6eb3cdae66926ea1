#!/usr/bin/env bash
# After "make release": prove what dist/ holds is what users install. The checksums match, every
# archive carries the binary, README, LICENSE, man pages and completions and has its SBOM, the
# Homebrew cask was written, and the .deb installs a working pleoauth with its man page and
# completions, then removes cleanly. Needs root (dpkg -i); .ci/run runs it.
set -euo pipefail
cd "$(dirname "$0")/../dist"

echo "== checksums"
sha256sum --check --strict checksums.txt

echo "== archives"
shopt -s nullglob
archives=(pleoauth_*.tar.gz pleoauth_*.zip)
[ ${#archives[@]} -eq 6 ] || { echo "want 6 archives, found ${#archives[@]}: ${archives[*]}"; exit 1; }
for a in "${archives[@]}"; do
  case "$a" in
    *.zip) list=$(unzip -Z1 "$a") bin=pleoauth.exe ;;
    *) list=$(tar tzf "$a") bin=pleoauth ;;
  esac
  for want in "$bin" README.md LICENSE man/man1/pleoauth.1.gz man/man1/pleoauth-token.1.gz \
              completions/pleoauth.bash completions/pleoauth.zsh completions/pleoauth.fish; do
    grep -qx "$want" <<<"$list" || { echo "$a lacks $want"; exit 1; }
  done
  [ -s "$a.cdx.json" ] || { echo "$a has no SBOM ($a.cdx.json)"; exit 1; }
  grep -q '"bomFormat": *"CycloneDX"' "$a.cdx.json" || { echo "$a.cdx.json is not a CycloneDX SBOM"; exit 1; }
  grep -q 'github.com/spf13/cobra' "$a.cdx.json" || { echo "$a.cdx.json does not list pleoauth's modules"; exit 1; }
  echo "ok $a ($(du -h "$a" | cut -f1), SBOM $(du -h "$a.cdx.json" | cut -f1))"
done

# Each SBOM is of its own platform's build: go-keyring's D-Bus client is linked on Linux only.
grep -q godbus pleoauth_*_linux_amd64.tar.gz.cdx.json || { echo "the linux SBOM lacks godbus"; exit 1; }
! grep -q godbus pleoauth_*_windows_amd64.zip.cdx.json || { echo "the windows SBOM lists godbus"; exit 1; }

echo "== Homebrew cask"
grep -q 'binary "pleoauth"' homebrew/Casks/pleoauth.rb
grep -q 'zsh_completion "completions/pleoauth.zsh"' homebrew/Casks/pleoauth.rb
echo "ok homebrew/Casks/pleoauth.rb"

echo "== .deb"
deb=$(ls pleoauth_*_amd64.deb)
ls pleoauth_*_arm64.deb pleoauth-*.x86_64.rpm pleoauth-*.aarch64.rpm
if dpkg-query -W pleoauth >/dev/null 2>&1; then
  echo "a pleoauth package is installed already; not touching it"; exit 1
fi
dpkg -i "$deb"
trap 'dpkg -r pleoauth >/dev/null' EXIT
[ "$(command -v pleoauth)" = /usr/bin/pleoauth ] || { echo "pleoauth is not /usr/bin/pleoauth"; exit 1; }
/usr/bin/pleoauth version
man -w pleoauth
man -w pleoauth-token
man -w pleoauth-exit-codes
# Each page is titled with its own command, not all PLEOAUTH(1).
title=$(man -P cat pleoauth-token 2>/dev/null | sed -n 1p)
[[ $title == *"PLEOAUTH-TOKEN(1)"* ]] || { echo "man pleoauth-token is titled \"$title\", not PLEOAUTH-TOKEN(1)"; exit 1; }
for f in /usr/share/bash-completion/completions/pleoauth /usr/share/zsh/site-functions/_pleoauth \
         /usr/share/fish/vendor_completions.d/pleoauth.fish; do
  [ -s "$f" ] || { echo "the package did not install $f"; exit 1; }
done
dpkg -r pleoauth
trap - EXIT
[ ! -e /usr/bin/pleoauth ] || { echo "dpkg -r left /usr/bin/pleoauth"; exit 1; }
echo "ok $deb installs, runs, has its man pages and completions, and removes"
