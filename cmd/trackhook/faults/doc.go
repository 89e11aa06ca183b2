// Package faults is trackhook's fault-injection suite; it has only tests.
//
// It builds the real trackhook binary, runs it as a child process against a
// real redis-server (appendonly yes, appendfsync always), an SMTP server and a
// Twilio-speaking HTTP server started by the test, sends thousands of signed
// AfterShip webhooks, and meanwhile kills the process, kills Redis, makes
// SMTP and the SMS API fail (an outage the suite starts and ends itself,
// over a share of its webhooks: the fake servers have no timers), or stops
// the process with SIGTERM. Then it counts
// every message the two servers received by (tracking, status, channel,
// recipient) and compares that with what its own model of the rules says was
// due from the webhooks answered 2xx.
//
//	go test ./cmd/trackhook/faults                        # short form (make test)
//	TRACKHOOK_FAULTS=full go test -v ./cmd/trackhook/faults  # full form (make test-faults)
//
// TRACKHOOK_FAULTS_RACE=1 builds the binary under test with -race (slower;
// a reported data race fails the suite); TRACKHOOK_FAULTS_BIN=path tests a
// binary built elsewhere; TRACKHOOK_FAULTS_ONLY=redis runs one scenario;
// TRACKHOOK_FAULTS_LOGS=1 keeps every scenario's trackhook logs.
//
// Each run prints a table per scenario and writes it to
// bench-results/faults-<form>.txt; a failing scenario's trackhook logs are
// copied next to it.
package faults
