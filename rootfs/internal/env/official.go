package env

// official lists variables of the official Synapse image that this image
// does not read, with what to use instead. Ignoring one silently would run
// a server other than the one its operator meant (a config path, a port,
// a certificate), so a set one is refused.
var official = []struct{ name, use string }{
	{"SYNAPSE_CONFIG_DIR", "set SYNAPSE_CONFIG_PATH to the config file itself (manual mode); the data directory is SYNAPSE_DATA_DIR"},
	{"SYNAPSE_HTTP_PORT", "Synapse listens on 8008: publish it on another port (-p PORT:8008), or replace the listeners with SYNAPSE_CONFIG__LISTENERS or a conf.d fragment (docs/generic-config.md)"},
	{"SYNAPSE_WORKER", "this image runs one Synapse process per container; workers are described by SYNAPSE_WORKERS and chosen by SYNAPSE_WORKER_NAME (docs/workers.md)"},
	{"SYNAPSE_LOG_CONFIG", "set log_config with SYNAPSE_CONFIG__LOG_CONFIG or a conf.d fragment (docs/generic-config.md)"},
	{"SYNAPSE_TLS_CERT", "put the certificate at <data dir>/<server>.tls.crt, or set SYNAPSE_CONFIG__TLS_CERTIFICATE_PATH"},
	{"SYNAPSE_TLS_KEY", "put the key at <data dir>/<server>.tls.key, or set SYNAPSE_CONFIG__TLS_PRIVATE_KEY_PATH"},
	{"SYNAPSE_AS_REGISTRATION_DIR", "put the registrations in <data dir>/appservices/ (read at every start)"},
	{"SYNAPSE_USE_UNIX_SOCKET", "replace the listeners with SYNAPSE_CONFIG__LISTENERS or a conf.d fragment (docs/generic-config.md)"},
}

// checkOfficial refuses the first set variable of the official image that
// this image does not read.
func checkOfficial(src Source) error {
	for _, o := range official {
		if _, set := src.Lookup(o.name); set {
			return &Error{Var: o.name, Msg: "a variable of the official image that this image does not read: " + o.use}
		}
	}
	return nil
}
