#!/usr/bin/env bash
# mailroom's entry point: ./run.sh test | ./run.sh demo | ./run.sh [mailroom ARGS…]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
VENV=.venv

die() { echo "run.sh: $*" >&2; exit 1; }

ensure_venv() {  # $1: the pip extra to install ("" or "[test]")
  command -v python3 >/dev/null || die "python3 is missing: install it with 'apt-get install python3 python3-venv'"
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "Python 3.11 or newer is needed"
  if [[ ! -x $VENV/bin/python ]]; then
    rm -rf "$VENV"  # a half-made venv must not keep the stamp that skips the install
    python3 -m venv "$VENV" || die "cannot create $VENV: install python3-venv"
  fi
  local stamp="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)${1:+-test}"
  if [[ ! -f $stamp ]]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".$1"
    touch "$stamp"
  fi
}

need() {  # $1: a program, $2: the Debian package that brings it
  command -v "$1" >/dev/null 2>&1 || [[ -x /usr/sbin/$1 || -x /usr/bin/$1 ]] && return 0
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "run.sh: installing $2" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2") >/dev/null \
      || die "could not install $2: install it with 'apt-get install $2'"
  else
    die "$1 is missing: install it with 'sudo apt-get install $2'"
  fi
}

case "${1-}" in
  test)
    shift
    ensure_venv "[test]"
    need dovecot dovecot-imapd
    need openssl openssl
    need chromium chromium
    # The checks that keep the code's shape: style, the import contracts, the types.
    "$VENV/bin/ruff" check mailroom tests bench
    "$VENV/bin/lint-imports" --no-cache
    "$VENV/bin/mypy"
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  demo)
    shift
    ensure_venv "[test]"
    need dovecot dovecot-imapd
    exec "$VENV/bin/python" -m mailroom.demo "$@"
    ;;
  "")
    ensure_venv ""
    exec "$VENV/bin/mailroom" run
    ;;
  *)
    ensure_venv ""
    exec "$VENV/bin/mailroom" "$@"
    ;;
esac
