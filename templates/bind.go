package templates

import (
	htmltemplate "html/template"
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
