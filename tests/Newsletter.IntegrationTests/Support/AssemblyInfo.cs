// Each test's console output, including the log of the application it started, is kept with the test's result, so
// a failure in CI comes with its own log (tests/run.sh prints it) instead of one interleaved with every other test's.
[assembly: CaptureConsole]
