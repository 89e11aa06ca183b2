package contact

import (
	"encoding/json"
	"reflect"
	"strings"
)

// List is a list of recipients as AfterShip accepts them: a JSON array of
// strings, one comma-separated string, or null.
type List []string

// UnmarshalJSON implements json.Unmarshaler.
func (l *List) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*l = nil
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*l = nil
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				*l = append(*l, p)
			}
		}
		return nil
	}
	var a []string
	if err := json.Unmarshal(b, &a); err != nil {
		// A type error lets encoding/json name the field.
		return &json.UnmarshalTypeError{Value: jsonValueKind(b), Type: reflect.TypeOf(List(nil))}
	}
	*l = a
	return nil
}

func jsonValueKind(b []byte) string {
	switch {
	case len(b) == 0:
		return "value"
	case b[0] == '{':
		return "object"
	case b[0] == '[':
		return "array with a non-string"
	case b[0] == 't' || b[0] == 'f':
		return "bool"
	default:
		return "number"
	}
}
