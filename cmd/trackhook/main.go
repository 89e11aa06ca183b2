// Command trackhook receives shipment-tracking webhooks and notifies
// customers by email and SMS. See README.md.
//
//	trackhook serve      receiver and worker in one process
//	trackhook receiver   HTTP receiver only (scale out behind a load balancer)
//	trackhook worker     notification worker only
//	trackhook sign       sign a payload file as a source would, for trying webhooks by hand
//	trackhook version    print the version
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	// SMS quiet hours need the recipients' time zones, also on a host (a
	// scratch container) without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "trackhook:", err)
		os.Exit(1)
	}
}

const usage = `usage: trackhook <command> [flags]

commands:
  serve      run the receiver and the worker in one process
  receiver   run the HTTP receiver only
  worker     run the notification worker only
  sign       sign a payload file as a source would (try: trackhook sign -h)
  version    print the version

Configuration is read from TRACKHOOK_* environment variables (see README.md).
`

// run is the whole program, callable from tests: args without the program
// name, the environment through getenv, and the standard streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command given")
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return runServer(ctx, getenv, stderr, roleReceiver|roleWorker)
	case "receiver":
		return runServer(ctx, getenv, stderr, roleReceiver)
	case "worker":
		return runServer(ctx, getenv, stderr, roleWorker)
	case "sign":
		return runSign(rest, getenv, stdin, stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "trackhook", version)
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}
