package config

// LogConfig is Python's logging dictConfig, logging to the console (stderr).
type LogConfig struct {
	Version    int                     `yaml:"version"`
	Formatters map[string]Formatter    `yaml:"formatters"`
	Handlers   map[string]Handler      `yaml:"handlers"`
	Loggers    map[string]LoggerConfig `yaml:"loggers"`
	Root       RootLogger              `yaml:"root"`
	// Keep loggers created before the config is applied.
	DisableExistingLoggers bool `yaml:"disable_existing_loggers"`
}

// Formatter is a logging formatter: a format string, or a class.
type Formatter struct {
	Class  string `yaml:"class,omitempty"`
	Format string `yaml:"format,omitempty"`
}

// Handler is a logging handler.
type Handler struct {
	Class     string `yaml:"class"`
	Formatter string `yaml:"formatter"`
}

// LoggerConfig is the level of one logger.
type LoggerConfig struct {
	Level string `yaml:"level"`
}

// RootLogger is the root logger.
type RootLogger struct {
	Level    string   `yaml:"level"`
	Handlers []string `yaml:"handlers,flow"`
}

// BuildLog makes the log config: everything to the console at level, as
// text lines or (format "json") one JSON object a line with Synapse's own
// structured formatter, for log shippers; SQL statements (which may contain
// secrets) stay at INFO even in DEBUG.
func BuildLog(level, format string) LogConfig {
	formatter, formatters := "precise", map[string]Formatter{
		"precise": {Format: "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s"},
	}
	if format == "json" {
		formatter, formatters = "structured", map[string]Formatter{
			"structured": {Class: "synapse.logging.TerseJsonFormatter"},
		}
	}
	return LogConfig{
		Version:    1,
		Formatters: formatters,
		Handlers: map[string]Handler{
			"console": {Class: "logging.StreamHandler", Formatter: formatter},
		},
		Loggers: map[string]LoggerConfig{
			"synapse.storage.SQL": {Level: "INFO"},
		},
		Root: RootLogger{Level: level, Handlers: []string{"console"}},
	}
}
