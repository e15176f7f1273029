package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/synapseadmin"
)

// workersRun is what one deployment did under the mixed load.
type workersRun struct {
	messages  int
	elapsed   time.Duration
	latencies []time.Duration // send -> seen by the sender's /sync
	procs     []procUsage
}

// procUsage is one Synapse (or router) process: CPU over the load and RSS
// at its end.
type procUsage struct {
	name string
	cpu  time.Duration
	rss  int64
}

// benchWorkers runs the same mixed load — clients each sending a message
// and syncing until they see it, over and over — against one Synapse
// process and against a worker topology behind the router, both on
// PostgreSQL, and reports messages/s, send→sync latency and each process's
// CPU and memory.
func benchWorkers(ctx context.Context, e *engine, o options, logf logFunc) []row {
	const section = "workers"
	single, err := workersOnce(ctx, e, o, "", logf)
	if err != nil {
		return []row{failedRow(section, "one process", err, nil)}
	}
	multi, err := workersOnce(ctx, e, o, o.workers, logf)
	if err != nil {
		return []row{failedRow(section, "workers "+o.workers, err, nil)}
	}
	rate := func(r workersRun) float64 { return float64(r.messages) / r.elapsed.Seconds() }
	load := fmt.Sprintf("%d clients in %d rooms sending and syncing for %s, PostgreSQL", o.workerClients, o.workerRooms, o.workerLoad)
	var rows []row
	for _, v := range []struct {
		label string
		run   workersRun
	}{{"one process", single}, {"workers " + o.workers + ", through the router", multi}} {
		rows = append(rows,
			measured(section, fmt.Sprintf("messages/s, %s: %s", load, v.label), fmt.Sprintf("%.1f", rate(v.run)), 0, nil),
			measured(section, fmt.Sprintf("send→sync latency p50 / p99, %s", v.label),
				fmt.Sprintf("%s / %s", percentile(v.run.latencies, 50).Round(time.Millisecond), percentile(v.run.latencies, 99).Round(time.Millisecond)), 0, nil))
		for _, p := range v.run.procs {
			rows = append(rows, measured(section, fmt.Sprintf("%s, %s: CPU over the load / PID 1's RSS at its end", v.label, p.name),
				fmt.Sprintf("%.2f cores / %s", p.cpu.Seconds()/v.run.elapsed.Seconds(), megabytes(p.rss)), 0, nil))
		}
	}
	ratio := rate(multi) / rate(single)
	rows = append(rows, measured(section, "throughput of the workers over one process", fmt.Sprintf("%.2f×", ratio), ratio, atLeast(1.4, "≥ 1.4×")))
	p99 := float64(percentile(multi.latencies, 99)) / float64(percentile(single.latencies, 99))
	rows = append(rows, measured(section, "p99 latency of the workers over one process", fmt.Sprintf("%.2f×", p99), p99, atMost(1, "≤ 1×")))
	return rows
}

func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return s[i]
}

// workersOnce deploys PostgreSQL (and, with a topology, Redis, the workers
// and the router), runs the load through the published port and tears the
// deployment down.
func workersOnce(ctx context.Context, e *engine, o options, topology string, logf logFunc) (workersRun, error) {
	var run workersRun
	tag := "single"
	if topology != "" {
		tag = "multi"
	}
	net := e.name("wk", tag)
	if err := e.network(ctx, net); err != nil {
		return run, err
	}
	vol := e.name("wk", tag, "data")
	if err := e.volume(ctx, vol); err != nil {
		return run, err
	}
	var names []string
	up := func(name string, args ...string) error {
		if err := e.create(ctx, name, append([]string{"--network", net}, args...)...); err != nil {
			return err
		}
		names = append(names, name)
		return e.start(ctx, name)
	}
	defer func() {
		for i := len(names) - 1; i >= 0; i-- {
			e.remove(context.WithoutCancel(ctx), names[i])
		}
	}()
	if err := up(e.name("wk", tag, "db"), "--network-alias", "db", "-e", "POSTGRES_USER=matrix", "-e", "POSTGRES_PASSWORD=bench", "-e", "POSTGRES_DB=synapse",
		"-e", "POSTGRES_INITDB_ARGS=--encoding=UTF8 --lc-collate=C --lc-ctype=C", o.pgImage); err != nil {
		return run, err
	}
	env := []string{"-e", "SYNAPSE_SERVER_NAME=bench.test", "-e", "SYNAPSE_REPORT_STATS=no", "-e", "SYNAPSE_NO_TLS=1",
		"-e", "POSTGRES_PASSWORD=bench", "-e", "POSTGRES_HOST=db", "-v", vol + ":/data",
		// The load registers its users and sends fast: no rate limits.
		"-e", "SYNAPSE_CONFIG__RC_MESSAGE={per_second: 10000, burst_count: 10000}",
		"-e", "SYNAPSE_CONFIG__RC_LOGIN={address: {per_second: 1000, burst_count: 1000}, account: {per_second: 1000, burst_count: 1000}}",
		"-e", "SYNAPSE_CONFIG__RC_JOINS={local: {per_second: 1000, burst_count: 1000}}",
		"-e", "SYNAPSE_CONFIG__RC_JOINS_PER_ROOM={per_second: 1000, burst_count: 1000}"}
	port, err := freePort(o.portFrom, o.portTo)
	if err != nil {
		return run, err
	}
	publish := []string{"-p", fmt.Sprintf("127.0.0.1:%d:8008", port)}
	mainName := e.name("wk", tag, "synapse")
	procs := []string{mainName}
	if topology == "" {
		if err := up(mainName, append(append(env, publish...), o.imageRef)...); err != nil {
			return run, err
		}
	} else {
		env = append(env, "-e", "SYNAPSE_REDIS_HOST=redis", "-e", "SYNAPSE_WORKERS="+topology)
		if err := up(e.name("wk", tag, "redis"), "--network-alias", "redis", o.redisImage); err != nil {
			return run, err
		}
		if err := up(mainName, append(append(env, "--network-alias", "synapse"), o.imageRef)...); err != nil {
			return run, err
		}
		if err := waitHealthy(ctx, e, mainName, o.timeout); err != nil {
			return run, err
		}
		instances, err := instanceNames(topology)
		if err != nil {
			return run, err
		}
		for _, in := range instances {
			name := e.name("wk", tag, in)
			if err := up(name, append(append(env, "--network-alias", in, "-e", "SYNAPSE_WORKER_NAME="+in), o.imageRef)...); err != nil {
				return run, err
			}
			procs = append(procs, name)
		}
		router := e.name("wk", tag, "router")
		if err := up(router, append(append([]string{"-e", "SYNAPSE_WORKERS=" + topology}, publish...), o.routerImage)...); err != nil {
			return run, err
		}
		procs = append(procs, router)
	}
	for _, p := range procs {
		if err := waitHealthy(ctx, e, p, o.timeout); err != nil {
			return run, err
		}
	}
	secret, err := e.exec(ctx, mainName, "cat", "/data/bench.test.registration.key")
	if err != nil {
		return run, err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	logf("workers: %s deployed (%d processes); %d clients for %s", tag, len(procs), o.workerClients, o.workerLoad)
	clients, rooms, err := workersClients(ctx, url, strings.TrimSpace(secret), o.workerClients, o.workerRooms)
	if err != nil {
		return run, err
	}
	before, err := usage(ctx, e, procs)
	if err != nil {
		return run, err
	}
	run.latencies, run.elapsed, err = workersLoad(ctx, clients, rooms, o.workerLoad)
	if err != nil {
		return run, err
	}
	run.messages = len(run.latencies)
	after, err := usage(ctx, e, procs)
	if err != nil {
		return run, err
	}
	for i, p := range procs {
		run.procs = append(run.procs, procUsage{name: strings.TrimPrefix(p, e.name("wk", tag)+"-"), cpu: after[i].cpu - before[i].cpu, rss: after[i].rss})
	}
	return run, nil
}

// instanceNames are the instances of a topology, as /start names them.
func instanceNames(topology string) ([]string, error) {
	var out []string
	for _, item := range strings.Split(topology, ",") {
		typ, count, hasCount := strings.Cut(strings.TrimSpace(item), ":")
		n := 1
		if hasCount {
			var err error
			if n, err = strconv.Atoi(count); err != nil {
				return nil, fmt.Errorf("-workers: %q: %w", item, err)
			}
		}
		for i := 1; i <= n; i++ {
			out = append(out, strings.ReplaceAll(typ, "_", "-")+"-"+strconv.Itoa(i))
		}
	}
	return out, nil
}

// waitHealthy waits, up to limit, for Docker to report the container
// healthy (PostgreSQL of the start section, every container of workers).
func waitHealthy(ctx context.Context, e *engine, name string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		c, err := e.inspect(ctx, name)
		if err != nil {
			return err
		}
		ob, err := observe(c)
		if err != nil {
			return err
		}
		switch {
		case ob.Exited:
			return fmt.Errorf("%s exited with status %d: %s", name, ob.ExitCode, e.logs(ctx, name))
		case ob.Health == "healthy":
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not healthy after %s: %s", name, limit, e.logs(ctx, name))
}

// usage reads each container's CPU time — user and system time of every
// process in it, and of the children PID 1 reaped (HAProxy's worker is not
// PID 1) — and PID 1's RSS.
func usage(ctx context.Context, e *engine, names []string) ([]procUsage, error) {
	out := make([]procUsage, len(names))
	for i, n := range names {
		stats, err := e.exec(ctx, n, "sh", "-c", "cat /proc/[0-9]*/stat")
		if err != nil {
			return nil, err
		}
		ticks, err := cpuTicks(stats)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		status, err := e.exec(ctx, n, "cat", "/proc/1/status")
		if err != nil {
			return nil, err
		}
		m, err := procStatus(status)
		if err != nil {
			return nil, err
		}
		out[i] = procUsage{name: n, cpu: time.Duration(ticks) * 10 * time.Millisecond, rss: m["VmRSS"]}
	}
	return out, nil
}

// cpuTicks sums utime and stime of every /proc/PID/stat line, and cutime
// and cstime of PID 1's, in clock ticks (100 a second).
func cpuTicks(stats string) (int64, error) {
	var total int64
	for _, line := range strings.Split(strings.TrimSpace(stats), "\n") {
		// The fields after the command's closing parenthesis: utime is the
		// 14th of the line, stime the 15th, cutime and cstime the next two.
		f := strings.Fields(line[strings.LastIndex(line, ")")+1:])
		if len(f) < 15 {
			return 0, fmt.Errorf("/proc/PID/stat: %q", line)
		}
		fields := f[11:13]
		if strings.HasPrefix(line, "1 ") {
			fields = f[11:15]
		}
		for _, v := range fields {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/PID/stat: %q", line)
			}
			total += n
		}
	}
	return total, nil
}

// workersClients registers n users with the shared secret; the first
// creates the rooms, and user i joins room i mod rooms, where it sends.
func workersClients(ctx context.Context, url, secret string, n, rooms int) ([]*mautrix.Client, []id.RoomID, error) {
	var clients []*mautrix.Client
	for i := 0; i < n; i++ {
		cli, err := mautrix.NewClient(url, "", "")
		if err != nil {
			return nil, nil, err
		}
		cli.Client = &http.Client{Timeout: 60 * time.Second}
		adm := synapseadmin.Client{Client: cli}
		resp, err := adm.SharedSecretRegister(ctx, secret, synapseadmin.ReqSharedSecretRegister{
			Username: fmt.Sprintf("load-%d", i), Password: "load password",
		})
		if err != nil {
			return nil, nil, fmt.Errorf("register load-%d: %w", i, err)
		}
		cli.UserID, cli.AccessToken = resp.UserID, resp.AccessToken
		clients = append(clients, cli)
	}
	var ids []id.RoomID
	for r := 0; r < rooms; r++ {
		room, err := clients[0].CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		if err != nil {
			return nil, nil, fmt.Errorf("create room %d: %w", r, err)
		}
		ids = append(ids, room.RoomID)
	}
	for i, c := range clients[1:] {
		if _, err := c.JoinRoomByID(ctx, ids[(i+1)%rooms]); err != nil {
			return nil, nil, fmt.Errorf("join: %w", err)
		}
	}
	return clients, ids, nil
}

// loadFilter is an inline sync filter: a timeline long enough that a
// sync never skips a message of the busy room (a limited timeline would
// leave the sender waiting for a message it was never shown).
const loadFilter = `{"room":{"timeline":{"limit":1000}},"presence":{"not_types":["*"]}}`

// seenWithin bounds the wait for one's own message.
const seenWithin = 2 * time.Minute

// workersLoad has every client send a message and sync until it sees it,
// again and again, for d; it returns each message's send→seen latency.
func workersLoad(ctx context.Context, clients []*mautrix.Client, rooms []id.RoomID, d time.Duration) ([]time.Duration, time.Duration, error) {
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	for i, cli := range clients {
		room := rooms[i%len(rooms)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			fail := func(err error) {
				mu.Lock()
				defer mu.Unlock()
				if firstErr == nil {
					firstErr = err
				}
			}
			first, err := cli.SyncRequest(ctx, 0, "", loadFilter, false, "")
			if err != nil {
				fail(err)
				return
			}
			since := first.NextBatch
			for n := 0; time.Now().Before(end); n++ {
				t0 := time.Now()
				sent, err := cli.SendText(ctx, room, fmt.Sprintf("load %s %d", cli.UserID, n))
				if err != nil {
					fail(err)
					return
				}
				for seen := false; !seen; {
					if time.Since(t0) > seenWithin {
						fail(fmt.Errorf("%s never saw its message %s in %s", cli.UserID, sent.EventID, seenWithin))
						return
					}
					resp, err := cli.SyncRequest(ctx, 30000, since, loadFilter, false, "")
					if err != nil {
						fail(err)
						return
					}
					since = resp.NextBatch
					if r := resp.Rooms.Join[room]; r != nil {
						for _, e := range r.Timeline.Events {
							seen = seen || e.ID == sent.EventID
						}
					}
				}
				mu.Lock()
				lat = append(lat, time.Since(t0))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return lat, time.Since(start), firstErr
}
