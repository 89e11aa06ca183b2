package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/trackhook/trackhook/receiver"
)

// runSign signs a payload file as the named source would, and prints the
// headers, or with -url a complete curl command.
func runSign(args []string, now func() time.Time, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	src := fs.String("source", "aftership", "source whose scheme to sign with: "+signableNames())
	secret := fs.String("secret", "", "secret to sign with (default: the source's TRACKHOOK_*_SECRET, first entry)")
	target := fs.String("url", "", "print a curl command posting the file to this URL instead of the headers")
	help := `usage: trackhook sign [-source aftership] [-secret S] [-url URL] FILE|-

Signs the payload in FILE (- for stdin) as the source would send it, with
the current time where its scheme signs one, and prints the signature
headers, or with -url a curl command that posts it: for trying a webhook
by hand against a running receiver.
`
	if shown, err := parseFlags(fs, args, help, stdout, stderr); shown || err != nil {
		return err
	}
	if fs.NArg() != 1 {
		printUsage(fs, help, stderr)
		return usageError{fmt.Errorf("sign: want exactly one payload file (or - for stdin)")}
	}
	key := *secret
	sender, ok := receiver.SenderNamed(*src)
	if !ok {
		return fmt.Errorf("sign: unknown source %q (want one of %s)", *src, signableNames())
	}
	if sender.Credential != receiver.SharedSecret {
		return fmt.Errorf("sign: %s signs with a private key of its own, which trackhook never holds (want one of %s)", sender.Name, signableNames())
	}
	env := "TRACKHOOK_" + sender.Env + "_SECRET"
	if key == "" {
		if list := splitList(getenv(env)); len(list) > 0 {
			key = list[0]
		}
	}
	if key == "" {
		return fmt.Errorf("sign: no secret: pass -secret or set %s", env)
	}
	file := fs.Arg(0)
	var body []byte
	var err error
	if file == "-" {
		body, err = io.ReadAll(io.LimitReader(stdin, 16<<20))
	} else {
		body, err = os.ReadFile(file)
	}
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}

	signer, err := sender.Signer([]string{key})
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	h, err := signer.Sign(body, now())
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	if *target == "" {
		for _, k := range names {
			fmt.Fprintf(stdout, "%s: %s\n", k, h.Get(k))
		}
		return nil
	}
	if file == "-" {
		return fmt.Errorf("sign: -url needs a file, not stdin")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "curl -sS -X POST %s -H 'Content-Type: application/json'", shellQuote(*target))
	for _, k := range names {
		fmt.Fprintf(&b, " -H %s", shellQuote(k+": "+h.Get(k)))
	}
	fmt.Fprintf(&b, " --data-binary @%s", shellQuote(file))
	fmt.Fprintln(stdout, b.String())
	return nil
}

// signableNames lists the senders `trackhook sign` can sign as: those
// configured by a shared secret.
func signableNames() string {
	var names []string
	for _, s := range receiver.Senders() {
		if s.Credential == receiver.SharedSecret {
			names = append(names, s.Name)
		}
	}
	return strings.Join(names, ", ")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
