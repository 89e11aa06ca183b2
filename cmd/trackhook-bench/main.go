// Command trackhook-bench measures trackhook against the limits of the
// machine it runs on, side by side in one run, and writes the table to
// bench-results/bench-<date>.md (and prints it):
//
//  1. Ingest: signed AfterShip webhooks at a fixed concurrency for a fixed
//     time through the real binary (`trackhook receiver`) into a real
//     redis-server, next to a baseline handler in this process that only
//     reads the body and checks the HMAC.
//  2. Dispatch: notification emails over STARTTLS + AUTH to an in-process
//     SMTP server: the real worker (`trackhook serve` draining the tasks the
//     ingest queued) next to raw go-mail on one reused connection (the
//     limit) and on one connection per message (the naive way).
//  3. End to end: webhooks at a fixed rate; time from each webhook's 2xx to
//     the SMTP server's acceptance of each email it caused.
//  4. Memory: peak RSS (VmHWM) of each trackhook process.
//
// Everything runs on loopback. It needs redis-server on the PATH and the Go
// toolchain (it builds ./cmd/trackhook unless -bin is given). Run it from
// the repository root: `make bench`, or
//
//	go run ./cmd/trackhook-bench -ingest 20s -e2e 15s
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "trackhook-bench:", err)
		os.Exit(1)
	}
}

// run is the whole program: flags in args, the table to stdout, progress to
// stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	b, err := newBench(ctx, opts, stderr)
	if err != nil {
		return err
	}
	defer b.close()
	rep, err := b.run(ctx)
	if err != nil {
		return err
	}
	return b.write(rep, stdout)
}
