// Package pipeline runs the build and publish commands from start to end:
// what the source tree says (revision, SOURCE_DATE_EPOCH), the build, the
// tags (rules in package tags) and the outputs (publishers in package
// publish). The commands in the module root only parse flags.
package pipeline

// UsageError marks an error in what the caller asked for (a flag value)
// rather than in the work: the command exits with 2.
type UsageError struct{ Err error }

func (u UsageError) Error() string { return u.Err.Error() }
func (u UsageError) Unwrap() error { return u.Err }
