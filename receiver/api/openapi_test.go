package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// These tests check the document's own consistency. That every route in
// receiver/routes.go is described is checked in the receiver package.

var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func loadOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(OpenAPI))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("openapi.json is not a JSON object: %v", err)
	}
	if dec.More() {
		t.Fatal("openapi.json has data after the JSON object")
	}
	return doc
}

// pointer resolves a local JSON reference ("#/components/schemas/Tracking").
func pointer(doc map[string]any, ref string) (any, error) {
	if !strings.HasPrefix(ref, "#") {
		return nil, fmt.Errorf("%q is not a local reference", ref)
	}
	var node any = doc
	p := strings.TrimPrefix(ref, "#")
	if p == "" {
		return node, nil
	}
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("%q is not a JSON pointer", ref)
	}
	for _, tok := range strings.Split(p[1:], "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch n := node.(type) {
		case map[string]any:
			v, ok := n[tok]
			if !ok {
				return nil, fmt.Errorf("%q: no %q", ref, tok)
			}
			node = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n) {
				return nil, fmt.Errorf("%q: no index %q", ref, tok)
			}
			node = n[i]
		default:
			return nil, fmt.Errorf("%q: %q is below a scalar", ref, tok)
		}
	}
	return node, nil
}

// deref follows $ref until it reaches a node without one.
func deref(t *testing.T, doc map[string]any, node any) map[string]any {
	t.Helper()
	for range 32 {
		m, ok := node.(map[string]any)
		if !ok {
			t.Fatalf("expected an object, got %T", node)
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		next, err := pointer(doc, ref)
		if err != nil {
			t.Fatal(err)
		}
		node = next
	}
	t.Fatal("$ref chain too long (a cycle?)")
	return nil
}

func TestOpenAPIVersionAndShape(t *testing.T) {
	doc := loadOpenAPI(t)
	if v := doc["openapi"]; v != "3.1.0" {
		t.Fatalf("openapi = %v, want 3.1.0", v)
	}
	info, _ := doc["info"].(map[string]any)
	if info["title"] != "trackhook" || info["version"] == nil {
		t.Fatalf("info = %v, want title trackhook and a version", info)
	}
	if paths, _ := doc["paths"].(map[string]any); len(paths) == 0 {
		t.Fatal("no paths")
	}
}

// TestOpenAPIFormatting keeps the file pretty-printed with a 2-space indent,
// so diffs stay readable.
func TestOpenAPIFormatting(t *testing.T) {
	var compact, want bytes.Buffer
	if err := json.Compact(&compact, OpenAPI); err != nil {
		t.Fatal(err)
	}
	if err := json.Indent(&want, compact.Bytes(), "", "  "); err != nil {
		t.Fatal(err)
	}
	want.WriteByte('\n')
	if !bytes.Equal(OpenAPI, want.Bytes()) {
		got, exp := strings.Split(string(OpenAPI), "\n"), strings.Split(want.String(), "\n")
		for i := range min(len(got), len(exp)) {
			if got[i] != exp[i] {
				t.Fatalf("openapi.json is not indented with 2 spaces (one value per line, trailing newline); line %d is\n%q\nwant\n%q", i+1, got[i], exp[i])
			}
		}
		t.Fatalf("openapi.json is not indented with 2 spaces: %d lines, want %d", len(got), len(exp))
	}
}

func TestOpenAPIRefsResolve(t *testing.T) {
	doc := loadOpenAPI(t)
	n := 0
	var walk func(path string, node any)
	walk = func(path string, node any) {
		switch v := node.(type) {
		case map[string]any:
			if ref, ok := v["$ref"]; ok {
				s, isString := ref.(string)
				if !isString {
					t.Errorf("%s: $ref is %T, not a string", path, ref)
				} else if _, err := pointer(doc, s); err != nil {
					t.Errorf("%s: %v", path, err)
				}
				n++
			}
			for k, c := range v {
				walk(path+"/"+k, c)
			}
		case []any:
			for i, c := range v {
				walk(path+"/"+strconv.Itoa(i), c)
			}
		}
	}
	walk("#", doc)
	if n == 0 {
		t.Fatal("no $ref found; the walk is broken")
	}
}

func TestOpenAPIOperations(t *testing.T) {
	doc := loadOpenAPI(t)
	paths := doc["paths"].(map[string]any)
	ids := map[string]string{}
	ops := 0
	for _, p := range sortedKeys(paths) {
		item := deref(t, doc, paths[p])
		for _, m := range openAPIMethods {
			raw, ok := item[m]
			if !ok {
				continue
			}
			ops++
			op := raw.(map[string]any)
			name := strings.ToUpper(m) + " " + p
			responses, _ := op["responses"].(map[string]any)
			if len(responses) == 0 {
				t.Errorf("%s: no responses", name)
			}
			for code, r := range responses {
				if resp := deref(t, doc, r); resp["description"] == nil {
					t.Errorf("%s: response %s has no description", name, code)
				}
			}
			if id, _ := op["operationId"].(string); id != "" {
				if other, dup := ids[id]; dup {
					t.Errorf("operationId %q is used by %s and %s", id, other, name)
				}
				ids[id] = name
			}
		}
	}
	if ops == 0 {
		t.Fatal("no operations")
	}
}

var templateParam = regexp.MustCompile(`\{([^{}]+)\}`)

func TestOpenAPIPathParameters(t *testing.T) {
	doc := loadOpenAPI(t)
	paths := doc["paths"].(map[string]any)
	for _, p := range sortedKeys(paths) {
		var inTemplate []string
		for _, m := range templateParam.FindAllStringSubmatch(p, -1) {
			inTemplate = append(inTemplate, m[1])
		}
		item := deref(t, doc, paths[p])
		common := pathParams(t, doc, item["parameters"])
		for _, m := range openAPIMethods {
			raw, ok := item[m]
			if !ok {
				continue
			}
			name := strings.ToUpper(m) + " " + p
			declared := map[string]bool{}
			for k, v := range common {
				declared[k] = v
			}
			for k, v := range pathParams(t, doc, raw.(map[string]any)["parameters"]) {
				declared[k] = v
			}
			for _, want := range inTemplate {
				required, ok := declared[want]
				switch {
				case !ok:
					t.Errorf("%s: path parameter {%s} is not declared", name, want)
				case !required:
					t.Errorf("%s: path parameter {%s} is not required: true", name, want)
				}
			}
			for got := range declared {
				if !slices.Contains(inTemplate, got) {
					t.Errorf("%s: declares path parameter %q that the template does not have", name, got)
				}
			}
		}
	}
}

// pathParams returns the in: path parameters of a parameter list, name →
// required.
func pathParams(t *testing.T, doc map[string]any, list any) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	params, _ := list.([]any)
	for _, raw := range params {
		p := deref(t, doc, raw)
		if p["in"] != "path" {
			continue
		}
		name, _ := p["name"].(string)
		required, _ := p["required"].(bool)
		out[name] = required
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
