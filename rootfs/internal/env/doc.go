package env

import (
	"bytes"
	"fmt"
	"strings"
)

// Markdown is the variables reference (docs/variables.md) of t: one table
// per section, generated so that it cannot drift from what /start parses.
func (t Table) Markdown() []byte {
	var b bytes.Buffer
	b.WriteString(`# Variables of ` + "`/start`" + `

<!-- Generated from rootfs/internal/env/vars.go by "go generate ./rootfs/internal/env"; do not edit. -->

Every variable the entrypoint reads, generated from its variable table (the
same table drives parsing, ` + "`/start help`" + ` and the removal of secrets from
Synapse's environment). How to use them: [configuration.md](configuration.md);
what ` + "`/start`" + ` does with them: [start.md](start.md).

- Booleans accept ` + "`1/0`, `true/false`, `yes/no`, `on/off`" + ` in any case; unset or
  empty is false; any other value is an error.
- A **secret** variable ` + "`NAME`" + ` may instead be given as ` + "`NAME_FILE`" + `, the path of
  a file holding the value (trailing newlines stripped); setting both is an
  error. Secrets never appear in a log line or in ` + "`check`" + `, and are removed
  from the environment Synapse runs with.
- A bad value stops ` + "`/start`" + ` with exit status 2 and one line naming the
  variable and what is expected.
- "Sets" lists the ` + "`homeserver.yaml`" + ` keys a variable decides (dotted for nested
  keys).
`)
	for _, section := range t.Sections() {
		fmt.Fprintf(&b, "\n## %s\n\n", section)
		b.WriteString("| variable | default | secret | sets | description |\n|---|---|---|---|---|\n")
		for _, v := range t.In(section) {
			secret := ""
			if v.Secret {
				secret = "yes (or `" + v.Name + "_FILE`)"
			}
			var keys []string
			for _, k := range v.Keys {
				keys = append(keys, "`"+k+"`")
			}
			help := v.Help
			if v.Requires != "" {
				help += "; in automated mode read only when `" + v.Requires + "` is set"
				if v.Ignored != "" {
					help += " (else a warning)"
				}
			}
			def := cell(v.ShownDefault())
			if v.Required == "" && v.Shown == "" && v.Default != "" {
				def = "`" + v.Default + "`"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", v.Name, def, secret, strings.Join(keys, ", "), cell(help))
		}
	}
	return b.Bytes()
}

// cell escapes a table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;").Replace(s)
}
