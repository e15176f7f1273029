// Package workers is the one table of Synapse's worker types that the
// image offers (Types), and what a topology of them means: the shared
// settings every process derives from it, each worker's own settings, and
// the routes of the reverse proxy. The facts come from Synapse 1.160's
// docs/workers.md and synapse/config/workers.py (the Synapse in the image);
// TestTypesMatchImage in rootfs checks them against the image.
package workers

// Resource names of Synapse's HTTP listeners that the types use.
const (
	Client      = "client"
	Federation  = "federation"
	Media       = "media"
	Replication = "replication"
	Health      = "health"
)

// GenericWorker is the worker_app of every type: Synapse merged the
// historical apps into it (docs/workers.md, "Historical apps"), and the
// legacy ones (synapse.app.pusher…) refuse to run without legacy options.
const GenericWorker = "synapse.app.generic_worker"

// Endpoint is one path pattern (a regular expression, as docs/workers.md
// writes it) a type serves, and the listener resource that serves it.
type Endpoint struct {
	Pattern  string
	Resource string
}

// Duty is a job named in the shared config by instance name.
type Duty struct {
	// Key is the shared-config key naming the instances.
	Key string
	// List: the key lists every instance of the type; else it names one
	// instance (the first).
	List bool
	// MainOff is a shared-config key set to false because a worker took the
	// job from the main ("" when naming the worker is enough).
	MainOff string
}

// Type is one worker type of a topology.
type Type struct {
	Name string
	// App is the worker_app and the module /start runs.
	App string
	// Replication: the type answers HTTP replication (stream writers and
	// workers the main or others call), so it has a replication listener
	// and an instance_map entry.
	Replication bool
	// Multiple: several instances of the type may run at once; else the
	// type is a singleton (a stream with one writer, or a one-name duty).
	Multiple bool
	// Stream is the stream the type writes (stream_writers), "" for none.
	Stream string
	// Duty is the job the type takes from the main, if any.
	Duty *Duty
	// MediaRepo: the worker loads the media repository (enable_media_repo
	// true in its own config while the shared config turns it off).
	MediaRepo bool
	// Endpoints are the requests the router sends to the type.
	Endpoints []Endpoint
	// Help says what the type does, for docs and help.
	Help string
}

// Resources are the HTTP listener resources of the type's worker, in
// Synapse's names: those of its endpoints, in the order client,
// federation, media.
func (t Type) Resources() []string {
	var out []string
	for _, r := range []string{Client, Federation, Media} {
		for _, e := range t.Endpoints {
			if e.Resource == r {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// MainOnlyStreams are the streams of Synapse 1.160 that no type writes:
// they stay on the main, with the reason.
var MainOnlyStreams = map[string]string{
	"thread_subscriptions": "docs/workers.md of 1.160 documents no endpoints for its writer (MSC4306 is experimental)",
}

func ep(resource string, patterns ...string) []Endpoint {
	out := make([]Endpoint, len(patterns))
	for i, p := range patterns {
		out[i] = Endpoint{Pattern: p, Resource: resource}
	}
	return out
}

func cat(lists ...[]Endpoint) []Endpoint {
	var out []Endpoint
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// Types are the worker types, in the order the router tries them: stream
// writers and dedicated types before the general readers, so that a
// request both could serve goes to the writer (docs/workers.md: "should be
// routed directly to the worker configured as the stream writer").
var Types = []Type{
	{Name: "event_persister", App: GenericWorker, Replication: true, Multiple: true, Stream: "events",
		Help: "persists events (the events stream, sharded by room); no HTTP traffic of its own"},
	{Name: "typing", App: GenericWorker, Replication: true, Stream: "typing",
		Endpoints: ep(Client, `^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/typing`),
		Help:      "writes the typing stream"},
	{Name: "to_device", App: GenericWorker, Replication: true, Stream: "to_device",
		Endpoints: ep(Client, `^/_matrix/client/(r0|v3|unstable)/sendToDevice/`),
		Help:      "writes the to_device stream"},
	{Name: "account_data", App: GenericWorker, Replication: true, Stream: "account_data",
		Endpoints: ep(Client,
			`^/_matrix/client/(r0|v3|unstable)/.*/tags`,
			`^/_matrix/client/(r0|v3|unstable)/.*/account_data`),
		Help: "writes the account_data stream"},
	{Name: "receipts", App: GenericWorker, Replication: true, Multiple: true, Stream: "receipts",
		Endpoints: ep(Client,
			`^/_matrix/client/(r0|v3|unstable)/rooms/.*/receipt`,
			`^/_matrix/client/(r0|v3|unstable)/rooms/.*/read_markers`),
		Help: "writes the receipts stream"},
	{Name: "presence", App: GenericWorker, Replication: true, Stream: "presence",
		Endpoints: ep(Client, `^/_matrix/client/(api/v1|r0|v3|unstable)/presence/`),
		Help:      "writes the presence stream"},
	{Name: "push_rules", App: GenericWorker, Replication: true, Stream: "push_rules",
		Endpoints: ep(Client, `^/_matrix/client/(api/v1|r0|v3|unstable)/pushrules/`),
		Help:      "writes the push_rules stream"},
	{Name: "device_lists", App: GenericWorker, Replication: true, Multiple: true, Stream: "device_lists",
		Endpoints: ep(Client,
			`^/_matrix/client/(r0|v3)/delete_devices$`,
			`^/_matrix/client/(api/v1|r0|v3|unstable)/devices(/|$)`,
			`^/_matrix/client/(r0|v3|unstable)/keys/upload`,
			`^/_matrix/client/(api/v1|r0|v3|unstable)/keys/device_signing/upload$`,
			`^/_matrix/client/(api/v1|r0|v3|unstable)/keys/signatures/upload$`),
		Help: "writes the device_lists stream"},
	{Name: "media_repository", App: GenericWorker, Replication: true, Multiple: true, Stream: "quarantined_media_changes", MediaRepo: true,
		Duty: &Duty{Key: "media_instance_running_background_jobs", MainOff: "enable_media_repo"},
		Endpoints: cat(
			ep(Media,
				`^/_matrix/media/`,
				`^/_matrix/client/v1/media/`,
				`^/_matrix/federation/v1/media/`,
				`^/_synapse/admin/v1/purge_media_cache$`,
				`^/_synapse/admin/v1/room/.*/media.*$`,
				`^/_synapse/admin/v1/user/.*/media.*$`,
				`^/_synapse/admin/v1/media/.*$`,
				`^/_synapse/admin/v1/quarantine_media/.*$`,
				`^/_synapse/admin/v1/users/.*/media$`)),
		Help: "the media repository (uploads, downloads, thumbnails, media admin); the first instance runs its background jobs; writes the quarantined_media_changes stream"},
	{Name: "federation_sender", App: GenericWorker, Multiple: true,
		Duty: &Duty{Key: "federation_sender_instances", List: true, MainOff: "send_federation"},
		Help: "sends federation traffic to other servers; no HTTP traffic of its own"},
	{Name: "pusher", App: GenericWorker, Multiple: true,
		Duty: &Duty{Key: "pusher_instances", List: true, MainOff: "start_pushers"},
		Help: "sends push notifications (push gateways, e-mail); no HTTP traffic of its own"},
	{Name: "appservice", App: GenericWorker,
		Duty: &Duty{Key: "notify_appservices_from_worker"},
		Help: "sends events to application services; no HTTP traffic of its own"},
	{Name: "user_dir", App: GenericWorker,
		Duty:      &Duty{Key: "update_user_directory_from_worker"},
		Endpoints: ep(Client, `^/_matrix/client/(r0|v3|unstable)/user_directory/search$`),
		Help:      "updates the user directory and answers its searches"},
	{Name: "background_worker", App: GenericWorker,
		Duty: &Duty{Key: "run_background_tasks_on"},
		Help: "runs the periodic and scheduled background tasks; no HTTP traffic of its own"},
	{Name: "synchrotron", App: GenericWorker, Multiple: true,
		Endpoints: ep(Client,
			`^/_matrix/client/(r0|v3)/sync$`,
			`^/_matrix/client/(api/v1|r0|v3)/events$`,
			`^/_matrix/client/(api/v1|r0|v3)/initialSync$`,
			`^/_matrix/client/(api/v1|r0|v3)/rooms/[^/]+/initialSync$`),
		Help: "answers /sync (each user pinned to one instance by the router)"},
	{Name: "federation_inbound", App: GenericWorker, Multiple: true,
		Endpoints: ep(Federation, `^/_matrix/federation/v1/send/`),
		Help:      "receives federation transactions (balanced by source address)"},
	{Name: "federation_reader", App: GenericWorker, Multiple: true,
		Endpoints: ep(Federation,
			`^/_matrix/federation/v1/version$`,
			`^/_matrix/federation/v1/event/`,
			`^/_matrix/federation/v1/state/`,
			`^/_matrix/federation/v1/state_ids/`,
			`^/_matrix/federation/v1/backfill/`,
			`^/_matrix/federation/v1/get_missing_events/`,
			`^/_matrix/federation/v1/publicRooms`,
			`^/_matrix/federation/v1/query/`,
			`^/_matrix/federation/v1/make_join/`,
			`^/_matrix/federation/v1/make_leave/`,
			`^/_matrix/federation/(v1|v2)/send_join/`,
			`^/_matrix/federation/(v1|v2)/send_leave/`,
			`^/_matrix/federation/v1/make_knock/`,
			`^/_matrix/federation/v1/send_knock/`,
			`^/_matrix/federation/(v1|v2)/invite/`,
			`^/_matrix/federation/v1/event_auth/`,
			`^/_matrix/federation/v1/timestamp_to_event/`,
			`^/_matrix/federation/v1/exchange_third_party_invite/`,
			`^/_matrix/federation/v1/user/devices/`,
			`^/_matrix/key/v2/query`,
			`^/_matrix/federation/v1/hierarchy/`),
		Help: "answers federation requests other than transactions"},
	{Name: "event_creator", App: GenericWorker, Multiple: true,
		Endpoints: ep(Client,
			`^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/redact`,
			`^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/send`,
			`^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/state/`,
			`^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/(join|invite|leave|ban|unban|kick)$`,
			`^/_matrix/client/(api/v1|r0|v3|unstable)/join/`,
			`^/_matrix/client/(api/v1|r0|v3|unstable)/knock/`,
			`^/_matrix/client/(api/v1|r0|v3|unstable)/profile/`),
		Help: "creates events sent by clients (messages, state, membership, profile) and hands them to the persister"},
	{Name: "client_reader", App: GenericWorker, Multiple: true,
		Endpoints: ep(Client,
			// Client API requests
			`^/_matrix/client/(api/v1|r0|v3|unstable)/createRoom$`,
			`^/_matrix/client/(api/v1|r0|v3|unstable)/publicRooms$`,
			`^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/joined_members$`,
			`^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/context/.*$`,
			`^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/members$`,
			`^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/state$`,
			`^/_matrix/client/v1/rooms/.*/hierarchy$`,
			`^/_matrix/client/(v1|unstable)/rooms/.*/relations/`,
			`^/_matrix/client/v1/rooms/.*/threads$`,
			`^/_matrix/client/unstable/im.nheko.summary/summary/.*$`,
			`^/_matrix/client/v1/room_summary/.*$`,
			`^/_matrix/client/(r0|v3|unstable)/account/3pid$`,
			`^/_matrix/client/(r0|v3|unstable)/account/whoami$`,
			`^/_matrix/client/(r0|v3|unstable)/account/deactivate$`,
			`^/_matrix/client/(r0|v3)/delete_devices$`,
			`^/_matrix/client/(api/v1|r0|v3|unstable)/devices(/|$)`,
			`^/_matrix/client/versions$`,
			`^/_matrix/client/(api/v1|r0|v3|unstable)/voip/turnServer$`,
			`^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/event/`,
			`^/_matrix/client/(api/v1|r0|v3|unstable)/joined_rooms$`,
			`^/_matrix/client/v1/rooms/.*/timestamp_to_event$`,
			`^/_matrix/client/(api/v1|r0|v3|unstable/.*)/rooms/.*/aliases`,
			`^/_matrix/client/(api/v1|r0|v3|unstable)/search$`,
			`^/_matrix/client/(r0|v3|unstable)/user/.*/filter(/|$)`,
			`^/_matrix/client/(api/v1|r0|v3|unstable)/directory/room/.*$`,
			`^/_matrix/client/(r0|v3|unstable)/capabilities$`,
			`^/_matrix/client/(r0|v3|unstable)/notifications$`,
			// Admin API requests
			`^/_synapse/admin/v1/rooms/[^/]+$`,
			// Encryption requests
			`^/_matrix/client/(r0|v3|unstable)/keys/query$`,
			`^/_matrix/client/(r0|v3|unstable)/keys/changes$`,
			`^/_matrix/client/(r0|v3|unstable)/keys/claim$`,
			`^/_matrix/client/(r0|v3|unstable)/room_keys/`,
			`^/_matrix/client/(r0|v3|unstable)/keys/upload`,
			`^/_matrix/client/(api/v1|r0|v3|unstable)/keys/device_signing/upload$`,
			`^/_matrix/client/(api/v1|r0|v3|unstable)/keys/signatures/upload$`,
			// Registration/login requests
			`^/_matrix/client/(api/v1|r0|v3|unstable)/login$`,
			`^/_matrix/client/(r0|v3|unstable)/register$`,
			`^/_matrix/client/(r0|v3|unstable)/register/available$`,
			`^/_matrix/client/v1/register/m.login.registration_token/validity$`,
			`^/_matrix/client/(r0|v3|unstable)/password_policy$`,
			// User directory search requests
			`^/_matrix/client/(r0|v3|unstable)/user_directory/search$`,
			// Unstable MSC4140 support
			`^/_matrix/client/unstable/org.matrix.msc4140/delayed_events(/.*/restart)?$`),
		Help: "answers the other client requests a generic worker can serve (rooms, keys, login, search…)"},
}
