package workers

import "regexp"

// Lookup returns the type called name.
func Lookup(name string) (Type, bool) {
	for _, t := range Types {
		if t.Name == name {
			return t, true
		}
	}
	return Type{}, false
}

// Match returns the first of types (in their order) with an endpoint
// matching path, as the router routes; false means the main.
func Match(types []Type, path string) (Type, bool) {
	for _, t := range types {
		for _, e := range t.Endpoints {
			if regexp.MustCompile(e.Pattern).MatchString(path) {
				return t, true
			}
		}
	}
	return Type{}, false
}
