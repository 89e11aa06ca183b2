package api

import _ "embed"

// OpenAPI is the OpenAPI 3 description of trackhook's HTTP surface, served
// at /openapi.json. A test checks that every route in receiver/routes.go is
// in it.
//
//go:embed openapi.json
var OpenAPI []byte
