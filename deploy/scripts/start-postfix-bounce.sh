#!/usr/bin/env bash
# Starts a private Postfix in DIR/postfix that bounces mail for real, and prints the `export` lines the tests read
# (eval them). It accepts on a free loopback port any mail for @$NEWSLETTER_TEST_POSTFIX_DOMAIN (no such local user
# exists, so local(8) bounces it with a genuine RFC 3464 report, status 5.1.1), and delivers everything for
# @$NEWSLETTER_TEST_POSTFIX_BOUNCE_DOMAIN (the reports, to the VERP return path) into one Maildir the tests read.
# Nothing leaves the machine: no relay, no DNS. Stop it with stop-services.sh DIR.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

dir=${1:?usage: start-postfix-bounce.sh DIR}
home=$dir/postfix
port=$(free_port)
local_domain=unknown-users.test.example
bounce_domain=bounces.lab.test.example

if [[ $(id -u) -ne 0 ]]; then
  echo "start-postfix-bounce.sh: Postfix's master runs as root (it drops to the postfix user itself)" >&2
  exit 1
fi
mkdir -p "$home/config" "$home/queue" "$home/data" "$home/maildir"
# virtual(8) writes the reports as nobody; the postfix user owns its queue and data.
chown nobody:nogroup "$home/maildir"
chown postfix: "$home/data"

cat >"$home/config/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $home/queue
data_directory = $home/data
meta_directory = /etc/postfix
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
syslog_name = postfix-newsletter-test-$port
maillog_file_prefixes = $home
maillog_file = $home/postfix.log
myhostname = mx.$local_domain
mydomain = $local_domain
myorigin = $local_domain
mydestination = $local_domain
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
# Accept every local address at RCPT time, so the unknown user is found at delivery and gets a report, not a 550.
local_recipient_maps =
alias_maps =
alias_database =
recipient_delimiter = +
virtual_mailbox_domains = $bounce_domain
virtual_mailbox_base = $home/maildir
virtual_mailbox_maps = static:reports/
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(id -g nobody)
virtual_minimum_uid = 1
disable_dns_lookups = yes
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
relayhost =
default_transport = error:this test server sends nothing off the machine
biff = no
CONF

cat >"$home/config/master.cf" <<CONF
127.0.0.1:$port inet n - n - - smtpd
pickup    unix n - n 60 1 pickup
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
tlsmgr    unix - - n 1000? 1 tlsmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
smtp      unix - - n - - smtp
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
local     unix - n n - - local
virtual   unix - n n - - virtual
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
CONF

postfix -c "$home/config" check >"$home/check.log" 2>&1 || { cat "$home/check.log" >&2; exit 1; }
postfix -c "$home/config" start >"$home/start.log" 2>&1 || { cat "$home/start.log" "$home/postfix.log" >&2 2>/dev/null; exit 1; }
greets() { exec 3<>"/dev/tcp/127.0.0.1/$port" && head -n1 <&3 | grep -q '^220'; }
wait_until 30 "Postfix on port $port" greets || { tail -n 20 "$home/postfix.log" >&2; exit 1; }

printf 'export NEWSLETTER_TEST_POSTFIX_SMTP=%q\n' "127.0.0.1:$port"
printf 'export NEWSLETTER_TEST_POSTFIX_DOMAIN=%q\n' "$local_domain"
printf 'export NEWSLETTER_TEST_POSTFIX_BOUNCE_DOMAIN=%q\n' "$bounce_domain"
printf 'export NEWSLETTER_TEST_POSTFIX_MAILDIR=%q\n' "$home/maildir/reports"
