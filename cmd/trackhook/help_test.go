package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// serverEnv is an environment that starts a server (an embedded Redis, a
// free port) unless the command line says otherwise.
func serverEnv(t testing.TB) func(string) string {
	return envOf(map[string]string{"TRACKHOOK_ADDR": freeAddr(t), "TRACKHOOK_OUTBOX_DIR": t.TempDir()})
}

// runBriefly runs trackhook with args and fails the test if it has not
// returned within 5 s: it would be serving, which help must never do.
func runBriefly(t *testing.T, args []string, getenv func(string) string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, getenv, strings.NewReader(""), &out, &errb) }()
	select {
	case err = <-done:
	case <-time.After(5 * time.Second):
		cancel()
		<-done
		t.Fatalf("trackhook %s did not return within 5s; it logged:\n%s", strings.Join(args, " "), errb.String())
	}
	return out.String(), errb.String(), err
}

func TestHelpEveryCommand(t *testing.T) {
	for _, tc := range []struct {
		cmd  []string
		want []string // in the help, besides "usage: trackhook"
	}{
		{nil, []string{"commands:", "serve", "receiver", "worker", "sign", "version", "-h"}},
		{[]string{"serve"}, []string{"usage: trackhook serve", "receiver and the notification worker", "TRACKHOOK_REDIS_URL", "TRACKHOOK_API_KEYS", "TRACKHOOK_LOG_FORMAT", "_FILE", "README.md"}},
		{[]string{"receiver"}, []string{"usage: trackhook receiver", "/webhooks/{sender}", "TRACKHOOK_ADDR", "README.md"}},
		{[]string{"worker"}, []string{"usage: trackhook worker", "sends them", "TRACKHOOK_SMTP_URL", "README.md"}},
		{[]string{"sign"}, []string{"usage: trackhook sign", "-source", "-secret", "-url", "aftership"}},
		{[]string{"version"}, []string{"usage: trackhook version"}},
	} {
		for _, h := range []string{"-h", "-help", "--help"} {
			args := append(append([]string{}, tc.cmd...), h)
			stdout, stderr, err := runBriefly(t, args, serverEnv(t))
			if err != nil || stderr != "" {
				t.Errorf("trackhook %s = %v, stderr %q; want nil and nothing on stderr", strings.Join(args, " "), err, stderr)
			}
			for _, w := range append(tc.want, "usage: trackhook") {
				if !strings.Contains(stdout, w) {
					t.Errorf("trackhook %s: help does not mention %q:\n%s", strings.Join(args, " "), w, stdout)
				}
			}
		}
	}
	// trackhook help serve is trackhook serve -h.
	stdout, _, err := runBriefly(t, []string{"help", "serve"}, serverEnv(t))
	if err != nil || stdout != serveHelp {
		t.Errorf("trackhook help serve = %v:\n%s", err, stdout)
	}
}

func TestHelpWrongFlagIsAUsageError(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "-bogus"}, {"receiver", "--port=8080"}, {"worker", "-v"}, {"sign", "-nope", "x.json"}, {"version", "-v"},
		{"serve", "extra"}, {"sign"}, {"-bogus"}, {"bogus"}, nil,
	} {
		stdout, stderr, err := runBriefly(t, args, serverEnv(t))
		var u usageError
		if !errors.As(err, &u) {
			t.Errorf("trackhook %s = %v; want a usage error", strings.Join(args, " "), err)
		}
		if stdout != "" || !strings.Contains(stderr, "usage: trackhook") || strings.Contains(stderr, `"msg"`) {
			t.Errorf("trackhook %s: stdout %q, stderr %q; want only the usage on stderr", strings.Join(args, " "), stdout, stderr)
		}
	}
}

// TestHelperProcessHelp is not a test: TestHelpExitCodes runs this test
// binary again as trackhook with the arguments in TRACKHOOK_TEST_HELP_ARGS.
func TestHelperProcessHelp(t *testing.T) {
	args, ok := os.LookupEnv("TRACKHOOK_TEST_HELP_ARGS")
	if !ok {
		return
	}
	os.Args = append([]string{"trackhook"}, strings.Fields(args)...)
	main()
}

// TestHelpExitCodes runs the program, main() included: help exits 0, a
// wrong command line 2.
func TestHelpExitCodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	for _, tc := range []struct {
		args   string
		code   int
		stdout string
		stderr string
	}{
		{"serve -h", 0, "usage: trackhook serve", ""},
		{"sign --help", 0, "usage: trackhook sign", ""},
		{"-h", 0, "usage: trackhook <command>", ""},
		{"serve -bogus", 2, "", "flag provided but not defined: -bogus"},
		{"bogus", 2, "", `unknown command "bogus"`},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcessHelp$")
		cmd.Env = []string{"TRACKHOOK_TEST_HELP_ARGS=" + tc.args, "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
			"TRACKHOOK_ADDR=" + freeAddr(t), "TRACKHOOK_OUTBOX_DIR=" + t.TempDir()}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		cancel()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatalf("trackhook %s: %v", tc.args, err)
		}
		if code != tc.code || !strings.Contains(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("trackhook %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tc.args, code, tc.code, stdout.String(), stderr.String())
		}
		if tc.code == 0 && stderr.Len() > 0 {
			t.Errorf("trackhook %s wrote to stderr: %s", tc.args, stderr.String())
		}
	}
}
