#!/usr/bin/env bash
# Installs with apt what the tests need and the machine lacks: Dovecot (private IMAP server), Postfix (smtp-sink and
# smtp-source for the benchmarks, and a private instance that writes real bounce reports; the system's daemon stays
# unused), Chromium (browser tests), PostgreSQL 15, feedparser (a real Atom parser for the feed tests).
# Does nothing, and asks apt nothing, when all is present.
set -euo pipefail

missing=()
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
installed dovecot-imapd || missing+=(dovecot-imapd)
command -v smtp-sink >/dev/null || missing+=(postfix)
command -v chromium >/dev/null || missing+=(chromium)
[[ -x /usr/lib/postgresql/15/bin/postgres ]] || missing+=(postgresql-15)
installed python3-feedparser || missing+=(python3-feedparser)
(( ${#missing[@]} == 0 )) && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "missing packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections

# Keep apt from starting the system daemons (dovecot on 143, postfix on 25): the tests run private instances.
created_policy=
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  created_policy=1
fi
trap 'if [[ -n $created_policy ]]; then rm -f /usr/sbin/policy-rc.d; fi' EXIT

apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
