#!/usr/bin/env bash
# Starts a private Dovecot (IMAP only, no TLS) in DIR/dovecot on a free loopback port and prints the `export`
# lines the tests read (eval them). Any user name logs in with the one password, so a test that picks a
# unique user name gets its own empty mailbox. Stop it with stop-services.sh DIR.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

dir=${1:?usage: start-dovecot.sh DIR}
home=$dir/dovecot
port=$(free_port)
password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')

# The mailboxes belong to nobody: Dovecot never accesses mail as root, and nobody exists on every Debian.
mkdir -p "$home/run" "$home/state" "$dir/mail"
if [[ $(id -u) -eq 0 ]]; then chown nobody:nogroup "$dir/mail"; fi
mail_user=$(id -un nobody 2>/dev/null || id -un)
mail_uid=$(id -u "$mail_user")

cat >"$home/dovecot.conf" <<CONF
instance_name = newsletter-test-$port
base_dir = $home/run
state_dir = $home/state
log_path = $home/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = $mail_uid
mail_location = maildir:$dir/mail/%u
passdb {
  driver = static
  args = password=$password
}
userdb {
  driver = static
  args = uid=$mail_uid gid=$(id -g "$mail_user") home=$dir/mail/%u
}
service imap-login {
  inet_listener imap {
    port = $port
  }
  inet_listener imaps {
    port = 0
  }
}
CONF

dovecot -c "$home/dovecot.conf"
greets() { exec 3<>"/dev/tcp/127.0.0.1/$port" && head -n1 <&3 | grep -q '^\* OK'; }
wait_until 30 "Dovecot on port $port" greets || { tail -n 20 "$home/dovecot.log" >&2; exit 1; }

printf 'export NEWSLETTER_TEST_IMAP=%q\n' "127.0.0.1:$port"
printf 'export NEWSLETTER_TEST_IMAP_PASSWORD=%q\n' "$password"
