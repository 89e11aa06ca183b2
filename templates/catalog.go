package templates

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	texttemplate "text/template"
	"text/template/parse"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

//go:embed layouts/*.tmpl locales/*.json
var embedded embed.FS

// referenceLocale is the catalog every other catalog is checked against,
// and the last resort of locale negotiation.
const referenceLocale = "en"

// The layouts, by file name under layouts/.
const (
	layoutEmailHTML = "email.html.tmpl"
	layoutEmailText = "email.txt.tmpl"
	layoutSMS       = "sms.txt.tmpl"
)

// Catalog keys that are not templates.
const (
	keyDateTime = "format.datetime" // "{date}, {time}": how a date and a time of day are joined
	keyColon    = "format.colon"
)

// file is one template or catalog file; name is what errors call it (the
// embedded path, or the full path in the override directory).
type file struct {
	name string
	data []byte
}

type fileSet struct {
	layouts map[string]file   // by base name, e.g. "email.html.tmpl"
	locales map[string][]file // by base name without .json; embedded first, then override
}

// loadFiles reads the embedded files and, when dir is set, the operator's.
func loadFiles(dir string) (fileSet, error) {
	set := fileSet{layouts: map[string]file{}, locales: map[string][]file{}}
	if err := set.add(embedded, func(p string) string { return p }); err != nil {
		return fileSet{}, err
	}
	if dir == "" {
		return set, nil
	}
	if st, err := os.Stat(dir); err != nil {
		return fileSet{}, fmt.Errorf("templates: override directory: %w", err)
	} else if !st.IsDir() {
		return fileSet{}, fmt.Errorf("templates: override directory %s is not a directory", dir)
	}
	err := set.add(os.DirFS(dir), func(p string) string { return filepath.Join(dir, filepath.FromSlash(p)) })
	if err != nil {
		return fileSet{}, err
	}
	return set, nil
}

func (set *fileSet) add(fsys fs.FS, name func(string) string) error {
	layouts, err := fs.Glob(fsys, "layouts/*.tmpl")
	if err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	for _, p := range layouts {
		base := path.Base(p)
		if _, _, ok := splitLayoutName(base); !ok {
			return fmt.Errorf("templates: %s: unknown layout (want %s, %s or %s, optionally with .<Status>, .<language> or both before .tmpl)",
				name(p), layoutEmailHTML, layoutEmailText, layoutSMS)
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("templates: %w", err)
		}
		set.layouts[base] = file{name: name(p), data: data}
	}
	locales, err := fs.Glob(fsys, "locales/*.json")
	if err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	for _, p := range locales {
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("templates: %w", err)
		}
		tag := strings.TrimSuffix(path.Base(p), ".json")
		set.locales[tag] = append(set.locales[tag], file{name: name(p), data: data})
	}
	return nil
}

// splitLayoutName reads a layout's file name: one of the three layouts,
// optionally for one status, one language or both, as in
// "email.html.Delivered.de.tmpl" (the parts are checked against the
// catalogs later). parts are the words between the layout and ".tmpl".
func splitLayoutName(base string) (layoutName string, parts []string, ok bool) {
	for _, l := range []string{layoutEmailHTML, layoutEmailText, layoutSMS} {
		stem := strings.TrimSuffix(l, ".tmpl")
		if base == l {
			return l, nil, true
		}
		if rest, found := strings.CutPrefix(base, stem+"."); found && strings.HasSuffix(rest, ".tmpl") {
			parts = strings.Split(strings.TrimSuffix(rest, ".tmpl"), ".")
			if len(parts) > 2 || slices.Contains(parts, "") {
				return "", nil, false
			}
			return l, parts, true
		}
	}
	return "", nil, false
}

// layoutKey finds a layout: the layout's name ("email.html.tmpl"), and the
// status and language it is for ("" for any).
type layoutKey struct{ name, status, locale string }

// parseLayouts parses the layouts: the three that every message uses, and
// an operator's variants for one status, one language or both. Templates
// are named by their base name, and errors are prefixed with the file's
// full name, so that an error reads "templates: /etc/…/layouts/sms.txt.tmpl:
// template: sms.txt.tmpl:1:2: …". It runs after parseCatalogs, which knows
// the statuses and languages.
func (s *Set) parseLayouts(layouts map[string]file) error {
	s.layouts = map[layoutKey]layout{}
	s.folded = map[foldKey]layout{}
	for _, c := range s.catalogs {
		c.findVariants()
	}
	for _, base := range slices.Sorted(maps.Keys(layouts)) {
		f := layouts[base]
		name, parts, _ := splitLayoutName(base)
		key := layoutKey{name: name}
		for _, part := range parts {
			switch {
			case s.hasStatus[part] && key.status == "":
				key.status = part
			case s.catalogs[part] != nil && key.locale == "":
				key.locale = part
			default:
				return fmt.Errorf("templates: %s: %q is neither a status (%s) nor a language with a catalog (%s)",
					f.name, part, strings.Join(s.statuses, ", "), strings.Join(s.locales, ", "))
			}
		}
		var l layout
		var err error
		if name == layoutEmailHTML {
			var h *htmltemplate.Template
			h, err = htmltemplate.New(base).Option("missingkey=error").Funcs(catalogFuncs).Parse(string(f.data))
			if err == nil {
				for _, t := range h.Templates() {
					bindCatalog(t.Tree.Root)
				}
			}
			l = layout{file: f.name, tmpl: h, size: new(atomic.Int64)}
		} else {
			l, err = parseText(base, f)
		}
		if err != nil {
			return fmt.Errorf("templates: %s: %w", f.name, err)
		}
		s.layouts[key] = l
		for _, locale := range s.locales {
			if key.locale != "" && key.locale != locale {
				continue
			}
			folded, err := l.fold(base, s.catalogs[locale].static)
			if err != nil {
				return fmt.Errorf("templates: %s: %w", f.name, err)
			}
			s.folded[foldKey{key, locale}] = folded
		}
	}
	return nil
}

// foldKey is a layout (layoutKey) folded for one language.
type foldKey struct {
	layoutKey
	locale string
}

// fold returns a copy of l, a layout named name not yet executed, with its
// catalog calls folded (foldCatalog) for the language static knows.
func (l layout) fold(name string, static func(string) (string, bool)) (layout, error) {
	out := layout{file: l.file, size: new(atomic.Int64)}
	switch t := l.tmpl.(type) {
	case *htmltemplate.Template:
		c, err := t.Clone() // copies every tree, which escaping rewrites
		if err != nil {
			return layout{}, err
		}
		var trees []*parse.Tree
		for _, x := range c.Templates() {
			trees = append(trees, x.Tree)
		}
		if !foldable(name, c.Lookup(name).Tree, trees) {
			return l, nil
		}
		foldCatalog(c.Lookup(name).Tree.Root, static, true)
		out.tmpl = c
	case *texttemplate.Template:
		var trees []*parse.Tree
		for _, x := range t.Templates() {
			trees = append(trees, x.Tree)
		}
		if !foldable(name, t.Lookup(name).Tree, trees) {
			return l, nil
		}
		c, err := t.Clone() // shares the trees: the main one is copied
		if err != nil {
			return layout{}, err
		}
		main := c.Lookup(name)
		main.Tree = main.Tree.Copy()
		foldCatalog(main.Tree.Root, static, true)
		out.tmpl = c
	default:
		return l, nil
	}
	return out, nil
}

// layout returns the most specific layout for a message: for its status
// and language, for its status, for its language, or the general one.
func (s *Set) layout(name, status, locale string) layout {
	k := layoutKey{name: name}
	for _, c := range []layoutKey{{name, status, locale}, {name, status, ""}, {name, "", locale}} {
		if _, ok := s.layouts[c]; ok {
			k = c
			break
		}
	}
	if l, ok := s.folded[foldKey{k, locale}]; ok {
		return l
	}
	return s.layouts[k]
}

func parseText(name string, f file) (layout, error) {
	t, err := texttemplate.New(name).Option("missingkey=error").Funcs(catalogFuncs).Parse(string(f.data))
	if err != nil {
		return layout{}, err
	}
	for _, t := range t.Templates() {
		bindCatalog(t.Tree.Root)
	}
	return layout{file: f.name, tmpl: t, size: new(atomic.Int64)}, nil
}

// layout is a parsed layout (an html/template or a text/template) and the
// file it came from.
type layout struct {
	file string
	tmpl interface {
		Execute(w io.Writer, data any) error
	}
	// size is the length of the layout's last output: the next one starts
	// with room for about as much, instead of growing its buffer by
	// doubling (a third of a render's allocations).
	size *atomic.Int64
}

// execute runs the layout for p, naming the file in any error.
func (l layout) execute(p *page) (string, error) {
	var b strings.Builder
	if l.size != nil {
		if n := l.size.Load(); n > 0 {
			b.Grow(int(n + n/8))
		}
	}
	if err := l.tmpl.Execute(&b, p); err != nil {
		return "", fmt.Errorf("templates: %s: %w", l.file, err)
	}
	if l.size != nil {
		l.size.Store(int64(b.Len()))
	}
	return b.String(), nil
}

// catalog is one language's strings.
type catalog struct {
	locale  string // BCP 47 tag, e.g. "de"
	file    string // where it came from, for errors (the last file when overridden)
	dir     string // "ltr" or "rtl"
	cal     calendar
	plurals plurals
	entries map[string]entry
	regions display.Namer // country names in this locale (CLDR, golang.org/x/text)
	// variants holds the keys that have a variant for a status or subtag
	// (findVariants), for folding layouts (static).
	variants map[string]bool
}

// entry is one parsed catalog string.
type entry struct {
	file, key string
	line      int                    // of the key in file
	tmpl      *texttemplate.Template // nil for static text and the format.* keys
	// marked is tmpl with every value it prints passed through mark, for
	// H: the same logic on the same values, the output marked.
	marked *texttemplate.Template
	raw    string
}

func (e entry) render(v *view) (string, error) {
	return e.exec(e.tmpl, v)
}

// renderMarked renders e with each value it prints between markOpen and
// markClose.
func (e entry) renderMarked(v *view) (string, error) {
	return e.exec(e.marked, v)
}

func (e entry) exec(t *texttemplate.Template, v *view) (string, error) {
	if t == nil {
		return e.raw, nil
	}
	var b strings.Builder
	if err := t.Execute(&b, v); err != nil {
		return "", fmt.Errorf("%s:%d: key %q: %w", e.file, e.line, e.key, err)
	}
	return b.String(), nil
}

// markValue is the function mark of marked catalog templates: text is
// marked, a count (digits keep their order in any direction) is not.
func markValue(v any) string {
	s, ok := v.(string)
	if !ok || s == "" {
		return fmt.Sprint(v)
	}
	return string(markOpen) + s + string(markClose)
}

// markOutputs makes every action in list that prints a value of the
// shipment ({{.TrackingNumber}}, {{.}} inside {{with}}, {{or .CustomerName
// "…"}}) pass it through mark, as html/template adds its escapers. Actions
// that print catalog text ({{plural …}}) are left alone.
func markOutputs(list *parse.ListNode) {
	if list == nil {
		return
	}
	for _, n := range list.Nodes {
		switch n := n.(type) {
		case *parse.ActionNode:
			if len(n.Pipe.Decl) == 0 && printsValue(n.Pipe) {
				n.Pipe.Cmds = append(n.Pipe.Cmds, &parse.CommandNode{NodeType: parse.NodeCommand, Pos: n.Pos,
					Args: []parse.Node{parse.NewIdentifier("mark").SetTree(nil).SetPos(n.Pos)}})
			}
		case *parse.IfNode:
			markOutputs(n.List)
			markOutputs(n.ElseList)
		case *parse.WithNode:
			markOutputs(n.List)
			markOutputs(n.ElseList)
		case *parse.RangeNode:
			markOutputs(n.List)
			markOutputs(n.ElseList)
		}
	}
}

// printsValue reports whether a pipeline's output is data rather than
// catalog text: it mentions a field, the dot or a variable, and does not
// start with plural.
func printsValue(p *parse.PipeNode) bool {
	if len(p.Cmds) == 0 {
		return false
	}
	if id, ok := p.Cmds[0].Args[0].(*parse.IdentifierNode); ok && id.Ident == "plural" {
		return false
	}
	for _, c := range p.Cmds {
		for _, a := range c.Args {
			switch a.(type) {
			case *parse.FieldNode, *parse.DotNode, *parse.VariableNode, *parse.ChainNode:
				return true
			}
		}
	}
	return false
}

func (s *Set) parseCatalogs(locales map[string][]file) error {
	if _, ok := locales[referenceLocale]; !ok {
		return fmt.Errorf("templates: no %s.json catalog", referenceLocale)
	}
	s.catalogs = map[string]*catalog{}
	for _, name := range slices.Sorted(maps.Keys(locales)) { // sorted: the same error every time
		files := locales[name]
		tag, err := language.Parse(name)
		if err != nil || tag == language.Und {
			return fmt.Errorf("templates: %s: file name is not a BCP 47 language tag", files[0].name)
		}
		if tag.String() != name {
			return fmt.Errorf("templates: %s: name the file %s.json", files[0].name, tag)
		}
		c := &catalog{locale: name, dir: direction(tag), entries: map[string]entry{}, regions: display.Regions(tag),
			plurals: newPlurals(cldrTag(tag))}
		for _, f := range files {
			if err := c.parse(f); err != nil {
				return err
			}
		}
		s.catalogs[name] = c
		s.locales = append(s.locales, name)
	}

	// Matcher order: the reference first (the matcher's own default), then
	// the rest sorted, so matching does not depend on map order.
	s.tags = []language.Tag{language.Make(referenceLocale)}
	for _, l := range s.locales {
		if l != referenceLocale {
			s.tags = append(s.tags, language.Make(l))
		}
	}

	ref := s.catalogs[referenceLocale]
	s.hasStatus = map[string]bool{}
	for key := range ref.entries {
		if st, ok := strings.CutPrefix(key, "subject."); ok && !strings.Contains(st, "_") {
			s.statuses = append(s.statuses, st)
			s.hasStatus[st] = true
		}
	}
	slices.Sort(s.statuses)

	for _, l := range s.locales {
		c := s.catalogs[l]
		if err := c.sameKeys(ref); err != nil {
			return err
		}
		if err := c.formats(); err != nil {
			return err
		}
		c.cal = newCalendar(language.Make(c.locale), c.entries[keyDateTime].raw)
	}
	return nil
}

// staticText returns the text t renders whatever its data, when t holds
// nothing but text (and comments).
func staticText(t *texttemplate.Template) (string, bool) {
	if t.Tree == nil || t.Tree.Root == nil {
		return "", true
	}
	var b strings.Builder
	for _, n := range t.Tree.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			b.Write(n.Text)
		case *parse.CommentNode:
		default:
			return "", false
		}
	}
	return b.String(), true
}

// parse reads one flat JSON object of strings into c, over what is there.
func (c *catalog) parse(f file) error {
	c.file = f.name
	return decodeFlat(f, func(key, val string) error {
		e := entry{file: f.name, key: key, raw: val, line: keyLine(f.data, key)}
		if strings.ContainsAny(val, string([]rune{markOpen, markClose})) {
			return fmt.Errorf("templates: %s:%d: key %q: U+E000 and U+E001 are reserved (they mark values in HTML)", f.name, e.line, key)
		}
		if !strings.HasPrefix(key, "format.") {
			t, err := texttemplate.New(key).Option("missingkey=error").
				Funcs(texttemplate.FuncMap{"plural": c.plurals.choose}).Parse(val)
			if err != nil {
				return fmt.Errorf("templates: %s:%d: key %q: %w", f.name, e.line, key, err)
			}
			if text, ok := staticText(t); ok {
				// Most entries (labels, the footer, the button) are plain
				// text: they are kept as it and cost nothing to render.
				e.raw = text
			} else {
				e.tmpl = t
				m, err := texttemplate.New(key).Option("missingkey=error").
					Funcs(texttemplate.FuncMap{"plural": c.plurals.choose, "mark": markValue}).Parse(val)
				if err != nil {
					return fmt.Errorf("templates: %s:%d: key %q: %w", f.name, e.line, key, err)
				}
				markOutputs(m.Tree.Root)
				e.marked = m
			}
		}
		c.entries[key] = e
		return nil
	})
}

// keyLine is the line of data on which key is written as a JSON key, or 0.
func keyLine(data []byte, key string) int {
	q, err := json.Marshal(key)
	if err != nil {
		return 0
	}
	for off := 0; ; {
		i := bytes.Index(data[off:], q)
		if i < 0 {
			return 0
		}
		rest := bytes.TrimLeft(data[off+i+len(q):], " \t\r\n")
		if len(rest) > 0 && rest[0] == ':' {
			return 1 + bytes.Count(data[:off+i], []byte("\n"))
		}
		off += i + len(q)
	}
}

// decodeFlat calls fn for every key of the JSON object in f, refusing
// anything but an object of strings, duplicate keys and trailing data.
func decodeFlat(f file, fn func(key, val string) error) error {
	dec := json.NewDecoder(bytes.NewReader(f.data))
	fail := func(err error) error {
		var se *json.SyntaxError
		off := dec.InputOffset()
		if errors.As(err, &se) {
			off = se.Offset
		}
		line := 1 + bytes.Count(f.data[:min(int(off), len(f.data))], []byte("\n"))
		return fmt.Errorf("templates: %s:%d: %w", f.name, line, err)
	}
	if tok, err := dec.Token(); err != nil {
		return fail(err)
	} else if tok != json.Delim('{') {
		return fail(errors.New("want a JSON object of key: string"))
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fail(err)
		}
		key := tok.(string) // object keys are always strings
		tok, err = dec.Token()
		if err != nil {
			return fail(err)
		}
		val, ok := tok.(string)
		if !ok {
			return fail(fmt.Errorf("key %q: value must be a string", key))
		}
		if seen[key] {
			return fail(fmt.Errorf("key %q appears twice", key))
		}
		seen[key] = true
		if err := fn(key, val); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return fail(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fail(errors.New("data after the JSON object"))
	}
	return nil
}

// sameKeys checks that c has exactly the keys of the reference catalog.
func (c *catalog) sameKeys(ref *catalog) error {
	var missing, unknown []string
	for k := range ref.entries {
		if _, ok := c.entries[k]; !ok {
			missing = append(missing, k)
		}
	}
	for k := range c.entries {
		if _, ok := ref.entries[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(missing)
	slices.Sort(unknown)
	switch {
	case len(missing) > 0:
		return fmt.Errorf("templates: %s: missing keys %s (every catalog needs the keys of %s.json)",
			c.file, quoteAll(missing), referenceLocale)
	case slices.Contains(unknown, "format.date") || slices.Contains(unknown, "format.day"):
		return fmt.Errorf("templates: %s: \"format.date\" and \"format.day\" are gone: dates are written from CLDR data in the catalog's language; remove them, and say how a date and a time are joined with \"format.datetime\" (like \"{date}, {time}\")",
			c.file)
	case len(unknown) > 0:
		return fmt.Errorf("templates: %s: unknown keys %s (not in %s.json)",
			c.file, quoteAll(unknown), referenceLocale)
	}
	return nil
}

// formats checks the format.* entries.
func (c *catalog) formats() error {
	if e := c.entries[keyDateTime]; checkDateTimePattern(e.raw) != nil {
		return fmt.Errorf("templates: %s: key %q: %w", e.file, keyDateTime, checkDateTimePattern(e.raw))
	}
	if e := c.entries[keyColon]; strings.ContainsAny(e.raw, "\r\n") {
		return fmt.Errorf("templates: %s: key %q must be on one line", e.file, keyColon)
	}
	return nil
}

func quoteAll(keys []string) string {
	const show = 5
	q := make([]string, 0, show+1)
	for i, k := range keys {
		if i == show {
			q = append(q, fmt.Sprintf("and %d more", len(keys)-show))
			break
		}
		q = append(q, fmt.Sprintf("%q", k))
	}
	return strings.Join(q, ", ")
}

// direction is the text direction of a language, from its likely script.
func direction(t language.Tag) string {
	sc, _ := t.Script()
	switch sc.String() {
	case "Arab", "Hebr", "Syrc", "Thaa", "Nkoo", "Adlm", "Rohg", "Mand", "Samr":
		return "rtl"
	}
	return "ltr"
}

// check renders every catalog entry, and every status in every kind and
// language, with full and with minimal data, so that a template that parses
// but cannot run (a misspelt field, a missing key) fails New.
func (s *Set) check() error {
	samples := []Data{SampleData(), {TrackingNumber: "1Z999AA10123456784"}}
	for _, l := range s.locales {
		c := s.catalogs[l]
		for _, d := range samples {
			p := newPage(c, "", d)
			for _, k := range slices.Sorted(maps.Keys(c.entries)) {
				if _, err := c.entries[k].render(p); err != nil {
					return fmt.Errorf("templates: %w", err)
				}
			}
		}
		for _, st := range s.statuses {
			for _, subtag := range s.subtags(st) {
				for _, d := range samples {
					d.Status, d.Subtag = st, subtag
					for _, k := range []Kind{KindEmail, KindSMS} {
						if _, err := s.Render(k, st, l, d); err != nil {
							return fmt.Errorf("%w (checking %s %s in %s)", err, k, st, l)
						}
					}
				}
			}
		}
	}
	return nil
}

// subtags lists "" and the subtags of status that have their own keys.
func (s *Set) subtags(status string) []string {
	out := []string{""}
	for key := range s.catalogs[referenceLocale].entries {
		if _, after, ok := strings.Cut(key, "."+status+"_"); ok {
			st := status + "_" + after
			if !slices.Contains(out, st) {
				out = append(out, st)
			}
		}
	}
	slices.Sort(out)
	return out
}

// SampleData fills every field with made-up values: New renders it to check
// the templates, and previews show it.
func SampleData() Data {
	return Data{
		TrackingNumber:     "1Z999AA10123456784",
		CarrierSlug:        "ups",
		CarrierName:        "UPS",
		TrackingURL:        "https://www.ups.com/track?tracknum=1Z999AA10123456784",
		OrderNumber:        "1001",
		Title:              "Order #1001",
		CustomerName:       "Kim",
		ShopName:           "Shop",
		SubtagMessage:      "Sub-status",
		CheckpointMessage:  "Arrived at facility",
		CheckpointLocation: "Leipzig, DE",
		CheckpointTime:     time.Date(2026, 11, 20, 9, 15, 0, 0, time.FixedZone("", 3600)),
		UnsubscribeURL:     "https://shop.example/unsubscribe?t=abc",
		ItemsShipped:       2,
		ItemsTotal:         5,
		ExpectedDelivery:   "2026-11-24",
		ParcelsDelivered:   2,
		ParcelsTotal:       3,
	}
}
