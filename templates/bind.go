package templates

import (
	htmltemplate "html/template"
	"strconv"
	"strings"
	"text/template/parse"
)

// Layouts call the catalog as methods of their dot: {{.T "intro"}},
// {{$.H "heading"}}. text/template looks a method up by name on every call
// (reflect's MethodByName, which builds the method's type each time), which
// was a fifth of a render for the thirty-odd calls of an email. bindCatalog
// rewrites each such call, once at parse time, into a call of the function
// of the same name with the receiver as its first argument: {{T . "intro"}},
// {{H $ "heading"}}. What the layout prints, its escaping and its errors
// ("error calling T: … no key") are those of the method it stands for.
var catalogFuncs = map[string]any{
	"T": func(p *page, key string) (string, error) { return p.T(key) },
	"H": func(p *page, key string) (htmltemplate.HTML, error) { return p.H(key) },
}

// bindCatalog rewrites every {{.T …}}, {{.H …}}, {{$.T …}} and {{$x.H …}}
// under n (see above).
func bindCatalog(n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				bindCatalog(c)
			}
		}
	case *parse.ActionNode:
		bindCatalog(n.Pipe)
	case *parse.IfNode:
		bindBranch(&n.BranchNode)
	case *parse.RangeNode:
		bindBranch(&n.BranchNode)
	case *parse.WithNode:
		bindBranch(&n.BranchNode)
	case *parse.TemplateNode:
		bindCatalog(n.Pipe)
	case *parse.PipeNode:
		if n != nil {
			for _, c := range n.Cmds {
				bindCommand(c)
			}
		}
	}
}

func bindBranch(b *parse.BranchNode) {
	bindCatalog(b.Pipe)
	bindCatalog(b.List)
	bindCatalog(b.ElseList)
}

// bindCommand rewrites one command, and the parenthesised pipelines among
// its arguments.
func bindCommand(c *parse.CommandNode) {
	for _, a := range c.Args {
		if p, ok := a.(*parse.PipeNode); ok {
			bindCatalog(p)
		}
	}
	if len(c.Args) == 0 {
		return
	}
	var recv parse.Node
	var method string
	switch a := c.Args[0].(type) {
	case *parse.FieldNode: // .T
		if len(a.Ident) == 1 {
			method, recv = a.Ident[0], &parse.DotNode{NodeType: parse.NodeDot, Pos: a.Pos}
		}
	case *parse.VariableNode: // $.T, $p.T
		if len(a.Ident) == 2 {
			method, recv = a.Ident[1], &parse.VariableNode{NodeType: parse.NodeVariable, Pos: a.Pos, Ident: a.Ident[:1]}
		}
	}
	if _, ok := catalogFuncs[method]; !ok {
		return
	}
	id := parse.NewIdentifier(method).SetPos(c.Args[0].Position())
	c.Args = append([]parse.Node{id, recv}, c.Args[1:]...)
}

// A layout is parsed once for every language, and in each copy foldCatalog
// replaces the catalog calls whose text is the same in every message of
// that language by the text itself: {{T . "label.carrier"}} becomes
// {{"Versanddienstleister"}}. Two thirds of an email's thirty-odd calls are
// such labels, and each cost a call through reflect and a look-up of the
// key for the message's subtag and status. What is printed does not change:
// the text is what T returns, a string like it, escaped by html/template
// in the same place the same way.

// foldable says whether the main tree of the layout called name (among
// trees, all its templates) may be folded: its dot and $ are the page
// only if no template runs it with another dot ({{template "name" x}}) and
// it never declares or assigns $ ({{$ := …}}, {{$ = …}}, {{range $ := …}}).
// Otherwise it is left as it is, and fails as it did.
func foldable(name string, main *parse.Tree, trees []*parse.Tree) bool {
	ok := true
	var walk func(n parse.Node, inMain bool)
	walk = func(n parse.Node, inMain bool) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n != nil {
				for _, c := range n.Nodes {
					walk(c, inMain)
				}
			}
		case *parse.ActionNode:
			walk(n.Pipe, inMain)
		case *parse.IfNode:
			walk(&n.BranchNode, inMain)
		case *parse.RangeNode:
			walk(&n.BranchNode, inMain)
		case *parse.WithNode:
			walk(&n.BranchNode, inMain)
		case *parse.BranchNode:
			walk(n.Pipe, inMain)
			walk(n.List, inMain)
			walk(n.ElseList, inMain)
		case *parse.TemplateNode:
			if n.Name == name {
				ok = false
			}
			walk(n.Pipe, inMain)
		case *parse.PipeNode:
			if n == nil {
				return
			}
			for _, v := range n.Decl {
				if inMain && v.Ident[0] == "$" {
					ok = false
				}
			}
			for _, c := range n.Cmds {
				for _, a := range c.Args {
					if p, isPipe := a.(*parse.PipeNode); isPipe {
						walk(p, inMain)
					}
				}
			}
		}
	}
	for _, t := range trees {
		if t != nil {
			walk(t.Root, t == main)
		}
	}
	return ok
}

// foldCatalog folds, in the main tree of a layout (not in the templates it
// defines, whose dot is whatever they are given), each {{T . "key"}} with
// the page as its dot (outside {{with}} and {{range}}) and each {{T $
// "key"}}, for which static gives the text.
func foldCatalog(n parse.Node, static func(key string) (string, bool), dotIsPage bool) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				foldCatalog(c, static, dotIsPage)
			}
		}
	case *parse.ActionNode:
		foldCatalog(n.Pipe, static, dotIsPage)
	case *parse.IfNode:
		foldCatalog(n.Pipe, static, dotIsPage)
		foldCatalog(n.List, static, dotIsPage)
		foldCatalog(n.ElseList, static, dotIsPage)
	case *parse.RangeNode:
		foldCatalog(n.Pipe, static, dotIsPage)
		foldCatalog(n.List, static, false)
		foldCatalog(n.ElseList, static, false)
	case *parse.WithNode:
		foldCatalog(n.Pipe, static, dotIsPage)
		foldCatalog(n.List, static, false)
		foldCatalog(n.ElseList, static, false)
	case *parse.TemplateNode:
		foldCatalog(n.Pipe, static, dotIsPage)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for i, c := range n.Cmds {
			for _, a := range c.Args {
				if p, ok := a.(*parse.PipeNode); ok {
					foldCatalog(p, static, dotIsPage)
				}
			}
			// Only a pipeline's first command: a later one is also
			// given the value before it, which T would refuse.
			if i == 0 {
				foldCommand(c, static, dotIsPage)
			}
		}
	}
}

func foldCommand(c *parse.CommandNode, static func(key string) (string, bool), dotIsPage bool) {
	if len(c.Args) != 3 {
		return
	}
	if id, ok := c.Args[0].(*parse.IdentifierNode); !ok || id.Ident != "T" {
		return
	}
	switch r := c.Args[1].(type) {
	case *parse.DotNode:
		if !dotIsPage {
			return
		}
	case *parse.VariableNode:
		if len(r.Ident) != 1 || r.Ident[0] != "$" {
			return
		}
	default:
		return
	}
	key, ok := c.Args[2].(*parse.StringNode)
	if !ok {
		return
	}
	text, ok := static(key.Text)
	if !ok {
		return
	}
	// The key's node becomes the text's: a constant is a command of its
	// own, and keeps the key's place for any error message.
	key.Text, key.Quoted = text, strconv.Quote(text)
	c.Args = []parse.Node{key}
}

// static reports the text T gives key in every message in c's language:
// when c has no variant of key for a status or subtag (key.Status,
// key.Subtag) and key's own text has no values in it.
func (c *catalog) static(key string) (string, bool) {
	e, ok := c.entries[key]
	if !ok || e.tmpl != nil || c.variants[key] {
		return "", false
	}
	return e.raw, true
}

// findVariants fills c.variants: every key some other key extends
// ("intro" for "intro.Delivered", "label" for "label.carrier").
func (c *catalog) findVariants() {
	c.variants = map[string]bool{}
	for k := range c.entries {
		for i := strings.IndexByte(k, '.'); i >= 0; i = nextDot(k, i) {
			c.variants[k[:i]] = true
		}
	}
}

func nextDot(s string, i int) int {
	j := strings.IndexByte(s[i+1:], '.')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}
