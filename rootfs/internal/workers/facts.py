# Prints, as JSON, the facts about workers of the Synapse this runs with,
# read from its own config code (synapse/config/workers.py): the streams it
# knows and whether each allows several writers, which shared-config keys
# name the instances of a duty (a list or one name), and whether turning a
# key off takes the duty from the main. Go's workers.Compare checks the
# table of types against them (rootfs TestWorkerTypesMatchImage).
import importlib.util
import inspect
import json

import copy

import attr
import synapse
import synapse.config.repository
from synapse.config._base import ConfigError
from synapse.config.workers import WorkerConfig, WriterLocations


def worker(name, conf):
    # Synapse renames instance_map's main in place.
    conf = copy.deepcopy(conf)
    if name:
        conf["worker_name"] = name
        conf["worker_app"] = "synapse.app.generic_worker"
    w = WorkerConfig(None)
    w.read_config(conf, allow_secrets_in_config=True)
    return w


INSTANCES = {n: {"host": n, "port": 9093} for n in ("main", "a", "b")}

streams = {}
for f in attr.fields(WriterLocations):
    try:
        worker(None, {"instance_map": INSTANCES, "stream_writers": {f.name: ["a", "b"]}})
        streams[f.name] = {"multiple": True}
    except ConfigError:
        streams[f.name] = {"multiple": False}

# The attribute of WorkerConfig that says whether this process does the duty.
DUTIES = {
    "federation_sender_instances": ("send_federation", "send_federation"),
    "pusher_instances": ("start_pushers", "start_pushers"),
    "notify_appservices_from_worker": ("should_notify_appservices", None),
    "update_user_directory_from_worker": ("should_update_user_directory", None),
    "run_background_tasks_on": ("run_background_tasks", None),
}
duties = {}
for key, (attribute, legacy) in DUTIES.items():
    d = {
        "list": all(getattr(worker(n, {"instance_map": INSTANCES, key: ["a", "b"]}), attribute) for n in ("a", "b")),
        "one": getattr(worker("a", {"instance_map": INSTANCES, key: "a"}), attribute)
        and not getattr(worker("b", {"instance_map": INSTANCES, key: "a"}), attribute),
        "main_keeps": getattr(worker(None, {key: ["a"] if key.endswith("_instances") else "a"}), attribute),
    }
    if legacy:
        d["main_off"] = legacy
        d["main_off_works"] = not getattr(worker(None, {key: ["a"], legacy: False}), attribute)
    duties[key] = d

# The media repository's keys live in synapse/config/repository.py, which
# needs a whole config to load: its source must read them.
media = inspect.getsource(synapse.config.repository)
duties["media_instance_running_background_jobs"] = {
    "one": '"media_instance_running_background_jobs"' in media,
    "main_off": "enable_media_repo",
    "main_off_works": '"enable_media_repo"' in media,
}

print(json.dumps({
    "version": synapse.__version__,
    "apps": {a: importlib.util.find_spec(a) is not None for a in ("synapse.app.generic_worker",)},
    "streams": streams,
    "duties": duties,
}, sort_keys=True, indent=1))
