# Has the image's Synapse parse a config (YAML on stdin) the way it does at
# start, without starting: exit 0 when it accepts it; else one line
# "synapse: ..." with Synapse's own error, exit 2. Run by /start check
# --synapse as the user Synapse runs as.
import os
import sys

import yaml

config_dir, data_dir = sys.argv[1], sys.argv[2]
cfg = yaml.safe_load(sys.stdin)
if not isinstance(cfg, dict):
    print("synapse: the config is not a mapping")
    sys.exit(2)
# Before the first start the signing key does not exist yet, or is not yet
# the Synapse user's (run creates it, and fixes owners): check the rest
# with a throw-away key instead.
if "signing_key" not in cfg and not os.access(str(cfg.get("signing_key_path", "")), os.R_OK):
    cfg["signing_key"] = "ed25519 check 7Pw/z3PvR5q0J6G7y+2TxV8mZ4m1wQYrTgTq2aVZK0g"

from synapse.config._base import Config, ConfigError  # noqa: E402
from synapse.config.homeserver import HomeServerConfig  # noqa: E402

# Parsing makes the media store and other directories: check writes
# nothing (and before the first start they may not be writable yet).
Config.ensure_directory = classmethod(lambda cls, dir_path: cls.abspath(dir_path))

try:
    HomeServerConfig().parse_config_dict(cfg, config_dir_path=config_dir, data_dir_path=data_dir)
except ConfigError as e:
    where = ".".join(str(p) for p in (e.path or ()))
    msg = " ".join(str(e.msg).split())
    print("synapse: error in configuration%s: %s" % (" at '%s'" % where if where else "", msg))
    sys.exit(2)
except Exception as e:  # Synapse fails on some bad values with other errors
    # attrs' ValueError carries (message, attribute, ...): the message is enough.
    msg = e.args[0] if len(e.args) > 1 and isinstance(e.args[0], str) else str(e)
    print("synapse: %s: %s" % (type(e).__name__, " ".join(msg.split())))
    sys.exit(2)
print("synapse: the config is valid")
