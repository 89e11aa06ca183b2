// Command trackhook receives shipment-tracking webhooks and notifies
// customers by email and SMS. See README.md.
//
//	trackhook serve      receiver and worker in one process
//	trackhook receiver   HTTP receiver only (scale out behind a load balancer)
//	trackhook worker     notification worker only
//	trackhook sign       sign a payload file as a source would, for trying webhooks by hand
//	trackhook version    print the version
//
// Every command takes -h (or -help, --help) and prints its help.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"
	// SMS quiet hours need the recipients' time zones, also on a host (a
	// scratch container) without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if limit, ok := memoryLimit(os.LookupEnv); ok {
		debug.SetMemoryLimit(limit)
	}
	if percent, ok := gcPercent(os.LookupEnv); ok {
		debug.SetGCPercent(percent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "trackhook:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2) // the command line was wrong, as with package flag
		}
		os.Exit(1)
	}
}

// defaultMemoryLimit is the Go runtime's soft memory limit when GOMEMLIMIT
// is not set. Without one the heap grows to twice what is live before a
// collection, and the pages it freed stay resident a while: under a burst
// `trackhook serve` peaked at 100 MB RSS with 26 MB live (make bench). With
// it the collector runs earlier near the limit and the runtime hands freed
// pages back sooner; it is soft, so a process that needs more takes more.
const defaultMemoryLimit = 64 << 20

// memoryLimit returns the memory limit to set: defaultMemoryLimit unless
// GOMEMLIMIT is set (the runtime has read it already; "off" lifts the limit).
func memoryLimit(lookup func(string) (string, bool)) (int64, bool) {
	if _, set := lookup("GOMEMLIMIT"); set {
		return 0, false
	}
	return defaultMemoryLimit, true
}

// defaultGCPercent is the Go runtime's GOGC when GOGC is not set. The
// runtime's own 100 collects each time the heap has doubled what is live:
// about eight times a second at 1,000 webhooks/s with their emails, for
// 10–15 % of a core. At 200 half as often; the heap may grow to three
// times what is live (about 45 MB under that load), and the memory limit
// above still bounds it: peak RSS of serve in make bench went from 73–77 to
// 84–85 MB, and the worker's CPU per email down by a tenth or more.
const defaultGCPercent = 200

// gcPercent returns the GOGC to set: defaultGCPercent unless GOGC is set
// (the runtime has read it already; "off" turns the collector off).
func gcPercent(lookup func(string) (string, bool)) (int, bool) {
	if _, set := lookup("GOGC"); set {
		return 0, false
	}
	return defaultGCPercent, true
}

const usage = `usage: trackhook <command> [flags]

commands:
  serve      run the receiver and the worker in one process
  receiver   run the HTTP receiver only
  worker     run the notification worker only
  sign       sign a payload file as a source would
  templates  check the customer message templates, or preview one
  version    print the version

Run trackhook <command> -h for a command's help.
Configuration is read from TRACKHOOK_* environment variables (see README.md).
`

// The help of the commands that run trackhook. They share the configuration.
const (
	serveHelp = `usage: trackhook serve

Runs the receiver and the notification worker in one process: the simplest
way to run trackhook (one host, one container).
` + receiverRole + workerRole + configHelp

	receiverHelp = `usage: trackhook receiver

Runs the HTTP receiver only. It keeps no state of its own (that is in Redis):
run as many as you like behind a load balancer, with workers elsewhere.
` + receiverRole + configHelp

	workerHelp = `usage: trackhook worker

Runs the notification worker only: it takes the notifications the receivers
queue in Redis and sends them. TRACKHOOK_ADDR serves /healthz, /readyz and
/metrics.
` + workerRole + configHelp

	receiverRole = `
The receiver answers on TRACKHOOK_ADDR: webhooks from the tracking senders at
/webhooks/{sender}, the AfterShip-compatible API at /tracking/{version}/… and
/v4/…, unsubscribe links, /healthz, /readyz and /metrics.
`
	workerRole = `
The worker renders the emails and texts in the recipient's language and
sends them by SMTP and Twilio (or writes them to TRACKHOOK_OUTBOX_DIR),
retrying temporary failures and holding texts in the quiet hours.
`
	configHelp = `
It takes no flags: the configuration is the environment, and every variable
NAME can also be read from a file named by NAME_FILE. The main ones:

  TRACKHOOK_ADDR               listen address (:8080)
  TRACKHOOK_PUBLIC_URL         external base URL, for links (http://localhost:8080)
  TRACKHOOK_REDIS_URL          redis://, redis-sentinel:// or redis-cluster:// URL
                               (unset: an embedded in-memory Redis, for trying it)
  TRACKHOOK_API_KEYS           keys the API accepts (unset: it refuses every call)
  TRACKHOOK_<SENDER>_SECRET    webhook secrets, e.g. TRACKHOOK_AFTERSHIP_SECRET
  TRACKHOOK_SMTP_URL           smtp://user:pass@host:port (unset: .eml files)
  TRACKHOOK_MAIL_FROM          sender address, e.g. "Shop <noreply@shop.example>"
  TRACKHOOK_TWILIO_ACCOUNT_SID, _AUTH_TOKEN, _FROM
                               SMS through Twilio (unset: text files)
  TRACKHOOK_LOG_FORMAT         text or json (unset: text on a terminal, else JSON)
  TRACKHOOK_LOG_LEVEL          debug, info, warn or error (info)

All of them, with their defaults, are in README.md under Configuration.
A wrong value stops start-up with a message naming the variable.
`

	versionHelp = `usage: trackhook version

Prints the version.
`
)

// usageError is a wrong command line; main exits 2 for it.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// run is the whole program, callable from tests: args without the program
// name, the environment through getenv, and the standard streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	return runAt(ctx, time.Now, args, getenv, stdin, stdout, stderr)
}

// runAt is run on the clock now: every decision the program takes by the
// time (quiet hours, deferrals, the outbox sweeper's grace, the timestamps
// it stores, signing) reads it. Tests start the program at other instants:
// a year ahead, at 03:00, the night the clocks change.
func runAt(ctx context.Context, now func() time.Time, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{errors.New("no command given")}
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return runRole(ctx, now, cmd, serveHelp, rest, getenv, stdout, stderr, roleReceiver|roleWorker)
	case "receiver":
		return runRole(ctx, now, cmd, receiverHelp, rest, getenv, stdout, stderr, roleReceiver)
	case "worker":
		return runRole(ctx, now, cmd, workerHelp, rest, getenv, stdout, stderr, roleWorker)
	case "sign":
		return runSign(rest, now, getenv, stdin, stdout, stderr)
	case "templates":
		return runTemplates(rest, getenv, stdout, stderr)
	case "version":
		fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
		if help, err := parseFlags(fs, rest, versionHelp, stdout, stderr); help || err != nil {
			return err
		}
		if fs.NArg() > 0 {
			fmt.Fprint(stderr, versionHelp)
			return usageError{fmt.Errorf("version: unexpected argument %q", fs.Arg(0))}
		}
		fmt.Fprintln(stdout, "trackhook", version)
		return nil
	case "-version", "--version":
		fmt.Fprintln(stdout, "trackhook", version)
		return nil
	case "help", "-h", "-help", "--help":
		if cmd == "help" && len(rest) > 0 && rest[0] != "help" {
			return runAt(ctx, now, []string{rest[0], "-h"}, getenv, stdin, stdout, stderr) // trackhook help serve
		}
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return usageError{fmt.Errorf("unknown command %q", cmd)}
	}
}

// runRole runs serve, receiver or worker after checking the command line,
// which holds nothing but -h: the configuration is the environment.
func runRole(ctx context.Context, now func() time.Time, name, help string, args []string, getenv func(string) string, stdout, stderr io.Writer, roles role) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	if shown, err := parseFlags(fs, args, help, stdout, stderr); shown || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprint(stderr, help)
		return usageError{fmt.Errorf("%s: unexpected argument %q (the configuration is read from TRACKHOOK_* variables)", name, fs.Arg(0))}
	}
	return runServer(ctx, now, getenv, stderr, roles)
}

// parseFlags parses args into fs. On -h, -help or --help it prints help and
// fs's flags to stdout and reports help; on a wrong flag it prints them to
// stderr and returns a usageError naming the flag.
func parseFlags(fs *flag.FlagSet, args []string, help string, stdout, stderr io.Writer) (shownHelp bool, err error) {
	fs.SetOutput(io.Discard) // the flag package would print the usage itself
	fs.Usage = func() {}
	err = fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		printUsage(fs, help, stdout)
		return true, nil
	case err != nil:
		printUsage(fs, help, stderr)
		return false, usageError{fmt.Errorf("%s: %w", fs.Name(), err)}
	}
	return false, nil
}

// printUsage writes help, then fs's flags if it has any.
func printUsage(fs *flag.FlagSet, help string, w io.Writer) {
	fmt.Fprint(w, help)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return
	}
	fmt.Fprintln(w, "\nflags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}
