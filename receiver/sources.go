package receiver

import (
	"github.com/trackhook/trackhook/receiver/source"
	"github.com/trackhook/trackhook/signature"
)

// Source is one sender: how its webhooks are verified and decoded.
type Source struct {
	Verifier signature.Verifier
	Adapter  source.Adapter
}

// Registry maps the {source} path segment to its Source. It holds only the
// configured sources: one without a secret is absent, and answers 404.
type Registry map[string]Source
