package groupcommit

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Script is a Lua script that can go into a batch: its command is EVALSHA,
// and a batch that meets NOSCRIPT runs it again by its source.
type Script struct {
	*redis.Script
	src string
}

// scripts maps each Script's SHA1 to its source, for NOSCRIPT.
var scripts sync.Map

// NewScript returns the script of src. Make it once (a package variable).
func NewScript(src string) *Script {
	s := &Script{Script: redis.NewScript(src), src: src}
	scripts.Store(s.Hash(), src)
	return s
}

// Cmd returns the script's EVALSHA command for keys and args, to Submit or
// Do; its reply is read as after (*redis.Script).Run.
func (s *Script) Cmd(ctx context.Context, keys []string, args ...any) *redis.Cmd {
	a := make([]any, 0, 3+len(keys)+len(args))
	a = append(a, "evalsha", s.Hash(), len(keys))
	for _, k := range keys {
		a = append(a, k)
	}
	a = append(a, args...)
	return redis.NewCmd(ctx, a...)
}

// sourceOf returns the source of the script an EVALSHA command names.
func sourceOf(args []any) (string, bool) {
	if len(args) < 2 {
		return "", false
	}
	if name, _ := args[0].(string); name != "evalsha" {
		return "", false
	}
	sha, _ := args[1].(string)
	src, ok := scripts.Load(sha)
	if !ok {
		return "", false
	}
	return src.(string), true
}
