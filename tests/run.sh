#!/usr/bin/env bash
# The one command that runs every test: installs what is missing (apt), starts a private PostgreSQL, Dovecot and
# Postfix on free loopback ports, runs `dotnet test` for the solution, stops everything it started.
# Extra arguments go to `dotnet test`, e.g.: tests/run.sh --filter-class '*SmtpCapture*'
# A skipped test fails the run: here, a test that did not run did not pass.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scripts=$root/deploy/scripts
cd "$root"
started=$SECONDS

"$scripts/install-test-deps.sh"

# The postgres user must reach the cluster, and mktemp makes the folder 700: open it up (not the files inside).
work=$(mktemp -d "${TMPDIR:-/tmp}/newsletter-test-XXXXXX")
chmod 755 "$work"
cleanup() {
  "$scripts/stop-services.sh" "$work"
  rm -rf "$work"
}
trap cleanup EXIT
# Turn Ctrl-C and kill into a normal exit, so the EXIT trap still stops the services.
trap 'exit 130' INT
trap 'exit 143' TERM

# Assign first, then eval: `eval "$(cmd)"` alone would hide a failing start from `set -e`.
pg_env=$("$scripts/start-postgres.sh" "$work")
eval "$pg_env"
imap_env=$("$scripts/start-dovecot.sh" "$work")
eval "$imap_env"
postfix_env=$("$scripts/start-postfix-bounce.sh" "$work")
eval "$postfix_env"
results=$root/TestResults
rm -rf "$results/trx" "$results/artifacts"
export NEWSLETTER_TEST_ARTIFACTS=$results/artifacts
mkdir -p "$NEWSLETTER_TEST_ARTIFACTS"
echo "services: PostgreSQL ${NEWSLETTER_TEST_PG%%;Username=*}, Dovecot IMAP $NEWSLETTER_TEST_IMAP, Postfix $NEWSLETTER_TEST_POSTFIX_SMTP (in $work)"

# Build first: the whole solution, benchmarks included, warnings as errors.
dotnet build Newsletter.sln --nologo -v quiet

# Folders the tests create (PrivatePostgres clusters) land under $work, so the cleanup above removes them too.
mkdir -m 1777 "$work/tmp"
# Exit code 8 is "a test module ran zero tests", normal with a filter; zero tests in total is caught below.
set +e
TMPDIR=$work/tmp dotnet test --solution Newsletter.sln --no-build --no-progress \
  --results-directory "$results/trx" --report-xunit-trx --ignore-exit-code 8 "$@" 2>&1 | tee "$results/dotnet-test.log"
status=${PIPESTATUS[0]}
set -e

# The closing line CI reads, from dotnet test's summary of every module (not the TRX files: two modules that start
# in the same instant write one file name, and the second report replaces the first).
read -r total passed failed skipped < <(awk '
  /^  total: [0-9]+$/ { t = $2 } /^  succeeded: [0-9]+$/ { p = $2 } /^  failed: [0-9]+$/ { f = $2 } /^  skipped: [0-9]+$/ { s = $2 }
  END { print t + 0, p + 0, f + 0, s + 0 }' "$results/dotnet-test.log")

# CI shows only the end of the log: repeat each failed test's name, the first lines of its message and the end of its
# own console output (the log of the application it started; see tests/Newsletter.IntegrationTests/Support/AssemblyInfo.cs).
if (( failed > 0 )); then
  echo "failed tests:"
  cat "$results"/trx/*.trx | perl -0777 -ne '
    sub text { my $t = shift // ""; $t =~ s/&lt;/</g; $t =~ s/&gt;/>/g; $t =~ s/&quot;/"/g; $t =~ s/&#x[0-9A-F]+;//g; $t =~ s/&amp;/&/g; $t }
    while (/<UnitTestResult [^>]*testName="([^"]+)"[^>]*outcome="(?:Failed|Error|Timeout|Aborted)"(.*?)<\/UnitTestResult>/gs) {
      my ($name, $body) = ($1, $2);
      my @log = map { text($_) } $body =~ /<TextMessages>.*?<\/TextMessages>/s ? ($& =~ /<Message>(.*?)<\/Message>/gs) : ();
      my ($error) = $body =~ /<ErrorInfo><Message>(.*?)<\/Message>/s;
      my @lines = split /\n/, text($error);
      print "  $name\n", map({ "    $_\n" } @lines[0 .. ($#lines < 7 ? $#lines : 7)]);
      if (@log) {
        my $from = @log > 60 ? @log - 60 : 0;
        print "    its output", ($from ? " (last 60 of " . scalar(@log) . " lines)" : ""), ":\n", map({ "      $_\n" } @log[$from .. $#log]);
      }
    }'
fi
if (( status == 0 && total == 0 )); then echo "no test ran" >&2; status=1; fi
if (( status == 0 && skipped > 0 )); then echo "$skipped test(s) skipped: a skip counts as a failure" >&2; status=1; fi
echo "tests/run.sh: exit $status after $(( SECONDS - started ))s; results in $results"
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
