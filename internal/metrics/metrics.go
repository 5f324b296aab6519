// Package metrics holds the plugin's counters: the operator's evidence of
// what the plugin saw, delivered, dropped and failed on. Counters are atomic
// because plugin_get_metrics is called from Falco's web server thread while
// the event loop updates them.
package metrics

import "sync/atomic"

// Counters is one plugin state's set of counters. The sources and the
// extraction path increment them; abi/ exports a snapshot through
// plugin_get_metrics. The zero value is ready to use.
type Counters struct {
	// Received counts events read from the source (file lines that were not
	// blank, or daemon messages), before any validation.
	Received atomic.Uint64
	// Delivered counts events handed to Falco by plugin_next_batch.
	Delivered atomic.Uint64
	// Dropped counts live events dropped because the queue was full.
	Dropped atomic.Uint64
	// Malformed counts lines/messages that are not a JSON object.
	Malformed atomic.Uint64
	// Oversize counts events larger than maxEventSize (dropped).
	Oversize atomic.Uint64
	// Duplicates counts live events dropped as the overlap of a
	// since= reconnection.
	Duplicates atomic.Uint64
	// Reconnects counts successful live (re)connections after the first.
	Reconnects atomic.Uint64
	// ConnectErrors counts failed live connection attempts and stream errors.
	ConnectErrors atomic.Uint64
	// Stalls counts live streams given up because the daemon stalled: no
	// complete message within stallTimeoutMs while one was arriving, or no
	// answer to a ping after that long in silence.
	Stalls atomic.Uint64
	// ContextEvents counts live events delivered with the security context
	// of their container (the payload's container member).
	ContextEvents atomic.Uint64
	// NoContextEvents counts live events about a container delivered
	// without its context: its inspection failed (the container was
	// already gone: docker run --rm of an instant command) or timed out,
	// it was destroyed before the plugin saw it, or the enriched payload
	// would exceed maxEventSize.
	NoContextEvents atomic.Uint64
	// ContextTimeouts counts the events among those that waited
	// inspectTimeoutMs for their container's context without getting it.
	ContextTimeouts atomic.Uint64
	// Inspects counts inspection calls to the daemon (containers, and
	// Podman's exec sessions).
	Inspects atomic.Uint64
	// InspectErrors counts inspection calls that failed or timed out.
	InspectErrors atomic.Uint64
	// CacheEntries is the number of containers whose context is cached
	// (a gauge: it goes down as containers are destroyed).
	CacheEntries atomic.Uint64
	// ExtractErrors counts plugin_extract_fields calls that failed.
	ExtractErrors atomic.Uint64
	// Panics counts Go panics contained at the C boundary.
	Panics atomic.Uint64
}

// Metric is one named value of a snapshot.
type Metric struct {
	Name      string
	Value     uint64
	Monotonic bool
}

// Names lists, in export order, the names Snapshot produces.
var Names = []string{
	"events_received", "events_delivered", "events_dropped", "events_malformed",
	"events_oversize", "events_duplicate", "reconnects", "connect_errors",
	"daemon_stalls", "events_with_context", "events_without_context", "context_timeouts",
	"container_inspects", "container_inspect_errors", "container_cache_entries", "extract_errors", "panics",
}

// gauge is the index in Names of the one metric that is not monotonic.
const gauge = 14

// Snapshot appends the current values to dst (reused to avoid allocating).
func (c *Counters) Snapshot(dst []Metric) []Metric {
	vals := [...]uint64{
		c.Received.Load(), c.Delivered.Load(), c.Dropped.Load(), c.Malformed.Load(),
		c.Oversize.Load(), c.Duplicates.Load(), c.Reconnects.Load(), c.ConnectErrors.Load(),
		c.Stalls.Load(), c.ContextEvents.Load(), c.NoContextEvents.Load(), c.ContextTimeouts.Load(),
		c.Inspects.Load(), c.InspectErrors.Load(), c.CacheEntries.Load(), c.ExtractErrors.Load(), c.Panics.Load(),
	}
	for i, v := range vals {
		dst = append(dst, Metric{Name: Names[i], Value: v, Monotonic: i != gauge})
	}
	return dst
}
