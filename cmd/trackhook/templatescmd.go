package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/trackhook/trackhook/templates"
)

const templatesHelp = `usage: trackhook templates check [-dir DIR]
       trackhook templates preview [-dir DIR] [-lang L] [-status S] [-channel email|sms] [-html]

check loads the built-in templates and those in TRACKHOOK_TEMPLATES_DIR (or
-dir) as serve would, renders every status in every language and channel,
and lists the languages; a broken template is named with its file and line,
and the exit status is 1.

preview renders one message with sample data and the brand settings of the
environment (TRACKHOOK_SHOP_NAME, TRACKHOOK_BRAND_*, TRACKHOOK_SUPPORT_*,
TRACKHOOK_POSTAL_ADDRESS): an email's subject and plain text (its HTML with
-html), or an SMS with the segments it costs.
`

func runTemplates(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "check" && args[0] != "preview") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			fmt.Fprint(stdout, templatesHelp)
			return nil
		}
		fmt.Fprint(stderr, templatesHelp)
		return usageError{fmt.Errorf("templates: want check or preview")}
	}
	sub := args[0]
	fs := flag.NewFlagSet("templates "+sub, flag.ContinueOnError)
	dir := fs.String("dir", "", "templates directory (default: TRACKHOOK_TEMPLATES_DIR)")
	lang := fs.String("lang", "en", "language of the preview (a BCP 47 tag)")
	status := fs.String("status", "InTransit", "status of the preview")
	channel := fs.String("channel", "email", "email or sms")
	html := fs.Bool("html", false, "print an email's HTML instead of its subject and text")
	if help, err := parseFlags(fs, args[1:], templatesHelp, stdout, stderr); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprint(stderr, templatesHelp)
		return usageError{fmt.Errorf("templates %s: unexpected argument %q", sub, fs.Arg(0))}
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	opts := cfg.templateOptions()
	if *dir != "" {
		opts.OverrideDir = *dir
	}
	set, err := templates.New(opts)
	if err != nil {
		return err
	}
	if sub == "check" {
		fmt.Fprintf(stdout, "templates are fine: %d languages (%s), %d statuses, email and sms\n",
			len(set.Locales()), strings.Join(set.Locales(), ", "), len(set.Statuses()))
		return nil
	}
	kind := templates.Kind(*channel)
	d := templates.SampleData()
	d.ShopName = cfg.ShopName
	m, err := set.Render(kind, *status, set.Locale(*lang, ""), d)
	if err != nil {
		return err
	}
	switch {
	case kind == templates.KindSMS:
		enc := "UCS-2"
		if m.GSM7 {
			enc = "GSM-7"
		}
		fmt.Fprintf(stdout, "%s\n\n(%s, %d %s, %d characters)\n", m.Text, enc, m.Segments, plural(m.Segments, "segment", "segments"), len([]rune(m.Text)))
	case *html:
		fmt.Fprint(stdout, m.HTML)
	default:
		fmt.Fprintf(stdout, "Subject: %s\n\n%s", m.Subject, m.Text)
	}
	return nil
}

func plural(n int, one, other string) string {
	if n == 1 {
		return one
	}
	return other
}
