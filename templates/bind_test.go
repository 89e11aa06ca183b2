package templates

import (
	htmltemplate "html/template"
	"io"
	"strings"
	"testing"
	texttemplate "text/template"
	"text/template/parse"
)

// asWritten parses a layout as its file says, without bindCatalog: the
// layout's {{.T}} and {{.H}} calls stay method calls.
func asWritten(t *testing.T, name string, f file) interface {
	Execute(w io.Writer, data any) error
} {
	t.Helper()
	if name == layoutEmailHTML {
		h, err := htmltemplate.New(name).Option("missingkey=error").Parse(string(f.data))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	tt, err := texttemplate.New(name).Option("missingkey=error").Parse(string(f.data))
	if err != nil {
		t.Fatal(err)
	}
	return tt
}

// eachCommand calls fn for every command under n: in actions, in the
// pipelines and bodies of if, with and range, in template calls, and in
// parenthesised pipelines. The tests walk trees on their own, not with the
// code under test.
func eachCommand(n parse.Node, fn func(*parse.CommandNode)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				eachCommand(c, fn)
			}
		}
	case *parse.ActionNode:
		eachCommand(n.Pipe, fn)
	case *parse.IfNode:
		eachCommand(n.Pipe, fn)
		eachCommand(n.List, fn)
		eachCommand(n.ElseList, fn)
	case *parse.WithNode:
		eachCommand(n.Pipe, fn)
		eachCommand(n.List, fn)
		eachCommand(n.ElseList, fn)
	case *parse.RangeNode:
		eachCommand(n.Pipe, fn)
		eachCommand(n.List, fn)
		eachCommand(n.ElseList, fn)
	case *parse.TemplateNode:
		eachCommand(n.Pipe, fn)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			fn(c)
			for _, a := range c.Args {
				if p, ok := a.(*parse.PipeNode); ok {
					eachCommand(p, fn)
				}
			}
		}
	}
}

// hasMethodCall reports whether any command under n still calls .T or .H
// (or $.T, $.H) as a method.
func hasMethodCall(n parse.Node) bool {
	found := false
	eachCommand(n, func(c *parse.CommandNode) {
		switch a := c.Args[0].(type) {
		case *parse.FieldNode:
			if m := a.Ident[len(a.Ident)-1]; m == "T" || m == "H" {
				found = true
			}
		case *parse.VariableNode:
			if m := a.Ident[len(a.Ident)-1]; len(a.Ident) > 1 && (m == "T" || m == "H") {
				found = true
			}
		}
	})
	return found
}

// Every layout, embedded or an operator's, prints exactly what it printed
// with its catalog calls made as methods, in every language and status, and
// none of its calls is left a method call.
func TestBoundLayoutsPrintWhatTheirMethodsWould(t *testing.T) {
	override := map[string]string{
		// An operator's layout with the other spellings: a variable other
		// than $, a parenthesised call, a call in a template it defines,
		// and one inside a range.
		"layouts/email.txt.Delivered.tmpl": `{{define "sign"}}{{.T "signoff"}}{{end -}}
{{$p := .}}{{$p.T "heading"}}
{{printf "%s!" (.T "intro")}}
{{with .Carrier}}{{$.T "label.carrier"}}{{$.T "format.colon"}}{{.}}{{end}}
{{range 2}}{{$p.T "button"}}{{end}}
{{template "sign" .}}
`,
		"layouts/email.html.Delivered.de.tmpl": `<p title="{{.T "heading"}}">{{$x := .}}{{$x.H "intro"}}</p><a href="{{.TrackingURL}}">{{(.T "button")}}</a>`,
	}
	files, err := loadFiles(writeFiles(t, override))
	if err != nil {
		t.Fatal(err)
	}
	s := newSet(t, Options{OverrideDir: writeFiles(t, override), Brand: Brand{SupportEmail: "help@shop.example", SupportURL: "https://shop.example/help"}})

	for key, l := range s.layouts {
		var tree *parse.Tree
		switch tmpl := l.tmpl.(type) {
		case *htmltemplate.Template:
			tree = tmpl.Tree
		case *texttemplate.Template:
			tree = tmpl.Tree
		}
		if hasMethodCall(tree.Root) {
			t.Errorf("layout %+v still calls the catalog as a method", key)
		}
	}

	compared := 0
	for key, l := range s.layouts {
		base := key.name
		if key.status != "" {
			base = strings.TrimSuffix(base, ".tmpl") + "." + key.status
			if key.locale != "" {
				base += "." + key.locale
			}
			base += ".tmpl"
		}
		f, ok := files.layouts[base]
		if !ok {
			t.Fatalf("no file for layout %+v (%s)", key, base)
		}
		written := asWritten(t, key.name, f)
		statuses := s.statuses
		if key.status != "" {
			statuses = []string{key.status}
		}
		locales := s.locales
		if key.locale != "" {
			locales = []string{key.locale}
		}
		for _, status := range statuses {
			for _, locale := range locales {
				for _, d := range []Data{realData(locale), {TrackingNumber: "1Z999", Subtag: status + "_001"}} {
					p := newPage(s.catalogs[locale], status, d)
					p.Brand = s.brand
					p.Subject = "Subject <&> \"quoted\""
					var want strings.Builder
					errWant := written.Execute(&want, p)
					got, errGot := l.execute(p)
					if (errWant == nil) != (errGot == nil) {
						t.Fatalf("%+v %s %s: error %v, as written %v", key, status, locale, errGot, errWant)
					}
					if got != want.String() {
						t.Fatalf("%+v %s %s: printed\n%s\nas written it prints\n%s", key, status, locale, got, want.String())
					}
					folded, ok := s.folded[foldKey{key, locale}]
					if !ok {
						t.Fatalf("%+v: no layout folded for %s", key, locale)
					}
					got, errGot = folded.execute(p)
					if (errWant == nil) != (errGot == nil) {
						t.Fatalf("%+v %s %s folded: error %v, as written %v", key, status, locale, errGot, errWant)
					}
					if got != want.String() {
						t.Fatalf("%+v %s %s folded: printed\n%s\nas written it prints\n%s", key, status, locale, got, want.String())
					}
					compared++
				}
			}
		}
	}
	if compared < 2*3*len(s.statuses)*len(s.locales) {
		t.Errorf("compared %d renders, want at least every layout in every status and language", compared)
	}
}

// Each language's copy of the embedded email layouts prints the labels, the
// sign-off and the footer's words as text: no call to the catalog is left
// for a key whose text is the same in every message of that language, and
// the calls for keys with variants or values remain.
func TestLayoutsFoldTheCatalogsFixedTexts(t *testing.T) {
	s := newSet(t, Options{})
	count := func(l layout, name string) (calls int, keys map[string]bool) {
		var root *parse.ListNode
		switch tmpl := l.tmpl.(type) {
		case *htmltemplate.Template:
			root = tmpl.Lookup(name).Tree.Root
		case *texttemplate.Template:
			root = tmpl.Lookup(name).Tree.Root
		}
		keys = map[string]bool{}
		eachCommand(root, func(c *parse.CommandNode) {
			if id, ok := c.Args[0].(*parse.IdentifierNode); ok && id.Ident == "T" {
				calls++
				if k, ok := c.Args[len(c.Args)-1].(*parse.StringNode); ok {
					keys[k.Text] = true
				}
			}
		})
		return calls, keys
	}
	for _, name := range []string{layoutEmailText, layoutEmailHTML} {
		unfolded, _ := count(s.layouts[layoutKey{name: name}], name)
		for _, locale := range s.locales {
			calls, keys := count(s.folded[foldKey{layoutKey{name: name}, locale}], name)
			if calls*2 > unfolded {
				t.Errorf("%s %s: %d of %d catalog calls left", name, locale, calls, unfolded)
			}
			if keys["label.tracking_number"] || keys["signoff"] {
				t.Errorf("%s %s: fixed texts still called: %v", name, locale, keys)
			}
			if name == layoutEmailText && !keys["intro"] {
				t.Errorf("%s %s: intro (a value in it, a variant for each status) was folded", name, locale)
			}
		}
	}
}

// A layout that gives $ another value, or that a template runs with another
// dot, is not folded: its catalog calls fail at start-up as they did.
func TestLayoutsThatRebindTheirDotAreNotFolded(t *testing.T) {
	for _, layout := range []string{
		`{{$ = .Carrier}}{{$.T "label.carrier"}}`,
		`{{$ := .Carrier}}{{$.T "label.carrier"}}`,
		`{{define "again"}}{{template "sms.txt.tmpl" .Carrier}}{{end}}{{if .Brand.LogoURL}}{{template "again" .}}{{end}}{{.T "label.carrier"}}`,
	} {
		dir := writeFiles(t, map[string]string{"layouts/sms.txt.tmpl": layout})
		_, err := New(Options{OverrideDir: dir, Brand: Brand{LogoURL: "https://shop.example/logo.png"}})
		if err == nil || !strings.Contains(err.Error(), "sms.txt.tmpl") {
			t.Errorf("%s: New = %v, want the layout's error", layout, err)
		}
	}
}
