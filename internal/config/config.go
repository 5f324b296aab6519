// Package config holds the plugin's init configuration: the Config struct,
// its defaults, strict decoding of the init_config JSON with errors that name
// the offending key, and the JSON schema returned by plugin_get_init_schema.
//
// One table (options) drives decoding, defaults and the schema, so the three
// cannot disagree; a test checks that every Config field has an option.
//
// Secrets never come through here: TLS material for the live source is read
// from the files Docker's own environment variables name (DOCKER_CERT_PATH).
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"
)

// Config is the decoded init configuration. The zero value is not valid: use
// Default or Parse.
type Config struct {
	// BatchSize is the capacity of the event batch preallocated per open
	// instance: the most events one plugin_next_batch call returns.
	BatchSize int
	// MaxEventSize is the largest event payload (bytes) the plugin delivers;
	// larger events are dropped and counted, never truncated.
	MaxEventSize int
	// WaitMs is how long plugin_next_batch waits for a first event before it
	// returns SS_PLUGIN_TIMEOUT.
	WaitMs int
	// QueueSize bounds the live source's queue between the daemon reader and
	// plugin_next_batch; on overflow events are dropped and counted.
	QueueSize int
	// ReconnectMinMs and ReconnectMaxMs bound the jittered exponential
	// backoff between live reconnection attempts.
	ReconnectMinMs int
	ReconnectMaxMs int
	// StallTimeoutMs is how long the live stream may go without a complete
	// message before the daemon is considered stalled (trickling, or
	// silent and not answering a ping).
	StallTimeoutMs int
	// ContainerContext makes the live source inspect containers and add
	// their security context to their events (event.ContainerMember).
	ContainerContext bool
	// InspectTimeoutMs bounds one inspection call, and how long an event
	// waits for its container's context before it goes without.
	InspectTimeoutMs int
	// InspectConcurrency bounds the inspection calls in flight.
	InspectConcurrency int
	// ContainerCacheSize bounds the containers whose context is kept.
	ContainerCacheSize int
	// FailFast makes plugin_open fail when the daemon is unreachable,
	// instead of succeeding and retrying in the background.
	FailFast bool
	// AllowInsecureTCP permits plaintext tcp:// to a non-loopback daemon.
	AllowInsecureTCP bool
	// Filters are Engine API event filters (key -> accepted values).
	Filters map[string][]string
	// PprofAddr, when set, serves net/http/pprof from the plugin's runtime
	// on this loopback address.
	PprofAddr string
	// LogLevel is the least severe level the plugin logs.
	LogLevel string
}

// Limits that bound memory for every input.
const (
	MinBatchSize    = 1
	MaxBatchSize    = 4096
	MinMaxEventSize = 1024
	MaxMaxEventSize = 16 << 20
)

// LogLevels are the accepted values of logLevel, most severe first.
var LogLevels = []string{"error", "warning", "info", "debug"}

// FilterKeys are the event filter keys the Docker Engine API accepts on
// GET /events (API 1.41 to 1.52).
var FilterKeys = []string{"config", "container", "daemon", "event", "image", "label", "network", "node", "plugin", "scope", "secret", "service", "type", "volume"}

// FilterTypes are the accepted values of the "type" filter: Docker's, and
// Podman's pod (a Docker daemon matches nothing with it).
var FilterTypes = []string{"builder", "config", "container", "daemon", "image", "network", "node", "plugin", "pod", "secret", "service", "volume"}

type kind int

const (
	kindInt kind = iota
	kindBool
	kindString
	kindFilters
)

type option struct {
	key      string
	title    string
	desc     string
	kind     kind
	def      any // int, bool, string, or map[string][]string
	min, max int // kindInt bounds, inclusive
	enum     []string
	examples []any
	set      func(c *Config, v any)
	check    func(c *Config) error // cross-field or content checks, after all keys are set
}

var options = []option{
	{
		key: "batchSize", title: "Batch size", kind: kindInt, def: 128, min: MinBatchSize, max: MaxBatchSize,
		desc:     "Most events returned by one plugin_next_batch call. The event array and one buffer per event are allocated once per open instance.",
		examples: []any{128, 512},
		set:      func(c *Config, v any) { c.BatchSize = v.(int) },
	},
	{
		key: "maxEventSize", title: "Maximum event size", kind: kindInt, def: 65536, min: MinMaxEventSize, max: MaxMaxEventSize,
		desc:     "Largest event payload in bytes. Larger events are dropped and counted (metric events_oversize), never truncated. Each open instance reserves batchSize buffers of this size (pages are touched only when used).",
		examples: []any{65536, 262144},
		set:      func(c *Config, v any) { c.MaxEventSize = v.(int) },
	},
	{
		key: "waitMs", title: "Next-batch wait (ms)", kind: kindInt, def: 5, min: 0, max: 1000,
		desc:     "How long plugin_next_batch waits for a first event before returning SS_PLUGIN_TIMEOUT, in milliseconds. Keep it small: Falco's event loop is blocked while the plugin waits.",
		examples: []any{5, 20},
		set:      func(c *Config, v any) { c.WaitMs = v.(int) },
	},
	{
		key: "queueSize", title: "Live queue size", kind: kindInt, def: 4096, min: 16, max: 1 << 20,
		desc:     "Capacity (events) of the queue between the live daemon reader and plugin_next_batch. The reader never waits for Falco: when the queue is full, events are dropped and counted (metric events_dropped).",
		examples: []any{4096, 65536},
		set:      func(c *Config, v any) { c.QueueSize = v.(int) },
	},
	{
		key: "reconnectMinMs", title: "Reconnect backoff minimum (ms)", kind: kindInt, def: 100, min: 1, max: 600000,
		desc:     "First delay before reconnecting to the daemon after the event stream ends or fails; doubled (with jitter) on each failed attempt.",
		examples: []any{100, 500},
		set:      func(c *Config, v any) { c.ReconnectMinMs = v.(int) },
	},
	{
		key: "reconnectMaxMs", title: "Reconnect backoff maximum (ms)", kind: kindInt, def: 30000, min: 1, max: 3600000,
		desc:     "Upper bound of the delay between reconnection attempts. Must be at least reconnectMinMs.",
		examples: []any{30000, 5000},
		set:      func(c *Config, v any) { c.ReconnectMaxMs = v.(int) },
		check: func(c *Config) error {
			if c.ReconnectMaxMs < c.ReconnectMinMs {
				return fmt.Errorf("init config: reconnectMaxMs (%d) must be >= reconnectMinMs (%d)", c.ReconnectMaxMs, c.ReconnectMinMs)
			}
			return nil
		},
	},
	{
		key: "stallTimeoutMs", title: "Stalled daemon timeout (ms)", kind: kindInt, def: 30000, min: 100, max: 3600000,
		desc:     "Live mode: how long the event stream may go without a complete message before the plugin checks the daemon. A message that has started arriving must complete within it (a daemon that trickles bytes or stops mid-message is disconnected); after that long in silence the daemon is pinged, and no answer within it (but at least 2 s and at most 10 s) means it stalled. Either way the plugin reconnects, and counts it (metric daemon_stalls).",
		examples: []any{30000, 120000},
		set:      func(c *Config, v any) { c.StallTimeoutMs = v.(int) },
	},
	{
		key: "containerContext", title: "Container security context", kind: kindBool, def: true,
		desc:     "Live mode: inspect every container (when it is created, and those that exist when the plugin connects) and add what it was started with (privileged, host namespaces, mounts, capabilities, security options, devices, user, image) to each of its events, as the payload member falco:container, for the docker.container.* context fields and the container escape rules. Inspection never holds the event stream: an event waits at most inspectTimeoutMs, then goes without (counted). false turns it all off: payloads are exactly the daemon's messages.",
		examples: []any{true, false},
		set:      func(c *Config, v any) { c.ContainerContext = v.(bool) },
	},
	{
		key: "inspectTimeoutMs", title: "Container inspection timeout (ms)", kind: kindInt, def: 2000, min: 10, max: 60000,
		desc:     "Live mode, containerContext: how long one inspection call to the daemon may take, and so the longest an event waits for its container's context (the events after it wait too, to keep the daemon's order); then it is delivered without the context and counted (metric context_timeouts).",
		examples: []any{2000, 500},
		set:      func(c *Config, v any) { c.InspectTimeoutMs = v.(int) },
	},
	{
		key: "inspectConcurrency", title: "Container inspections in flight", kind: kindInt, def: 4, min: 1, max: 64,
		desc:     "Live mode, containerContext: the most inspection calls to the daemon at once (a burst of new containers, or the containers that exist at connection).",
		examples: []any{4, 16},
		set:      func(c *Config, v any) { c.InspectConcurrency = v.(int) },
	},
	{
		key: "containerCacheSize", title: "Container context cache size", kind: kindInt, def: 4096, min: 16, max: 1 << 20,
		desc:     "Live mode, containerContext: the most containers whose context an open instance keeps (a few hundred bytes each). A container is dropped when it is destroyed; beyond the limit the least recently used one is, and inspected again at its next event.",
		examples: []any{4096, 65536},
		set:      func(c *Config, v any) { c.ContainerCacheSize = v.(int) },
	},
	{
		key: "failFast", title: "Fail fast", kind: kindBool, def: false,
		desc:     "When true, plugin_open fails if the Docker daemon cannot be reached. When false (default), open succeeds for a well-formed endpoint and the plugin keeps reconnecting in the background (Falco often starts before the daemon).",
		examples: []any{false, true},
		set:      func(c *Config, v any) { c.FailFast = v.(bool) },
	},
	{
		key: "allowInsecureTcp", title: "Allow plaintext TCP", kind: kindBool, def: false,
		desc:     "Allow a plaintext tcp:// daemon endpoint on a non-loopback address. Off by default: without TLS (DOCKER_TLS_VERIFY/DOCKER_CERT_PATH) anyone on the path can read and forge the event stream.",
		examples: []any{false, true},
		set:      func(c *Config, v any) { c.AllowInsecureTCP = v.(bool) },
	},
	{
		key: "filters", title: "Server-side event filters", kind: kindFilters, def: map[string][]string{},
		desc:     "Docker Engine API event filters applied by the daemon (GET /events filters): an object from filter key (" + strings.Join(FilterKeys, ", ") + ") to a list of accepted values. Values of one key are ORed, keys are ANDed. Empty means every event.",
		examples: []any{map[string][]string{"type": {"container", "image"}}, map[string][]string{"event": {"exec_create", "exec_start"}, "label": {"env=prod"}}},
		set:      func(c *Config, v any) { c.Filters = v.(map[string][]string) },
	},
	{
		key: "pprofAddr", title: "pprof listen address", kind: kindString, def: "",
		desc:     "When set, serves net/http/pprof from the plugin's own Go runtime, so the plugin can be profiled while Falco runs it: on a unix socket (unix:///abs/path.sock, created mode 0600: its owner only) or a loopback address (host:port; 127.0.0.1 or [::1] only: any local user can connect). Unauthenticated either way; /debug/pprof/cmdline is not served and durations are capped at 60 s. Empty (default) disables it.",
		examples: []any{"", "unix:///run/falco/docker-pprof.sock", "127.0.0.1:6061"},
		set:      func(c *Config, v any) { c.PprofAddr = v.(string) },
		check: func(c *Config) error {
			if c.PprofAddr == "" {
				return nil
			}
			if path, ok := strings.CutPrefix(c.PprofAddr, "unix://"); ok {
				return CheckSocketPath(path)
			}
			return CheckLoopbackAddr(c.PprofAddr)
		},
	},
	{
		key: "logLevel", title: "Log level", kind: kindString, def: "warning", enum: LogLevels,
		desc:     "Least severe level of the plugin's own log lines (stderr, prefixed [docker]): error, warning (default: reconnects, drops, skipped lines), info, debug.",
		examples: []any{"warning", "info"},
		set:      func(c *Config, v any) { c.LogLevel = v.(string) },
	},
}

// Default returns the configuration used for an empty init_config.
func Default() Config {
	var c Config
	for _, o := range options {
		if o.kind == kindFilters {
			o.set(&c, map[string][]string{})
			continue
		}
		o.set(&c, o.def)
	}
	return c
}

// Parse decodes an init_config string strictly. An empty (or all-blank)
// string yields Default(). Errors name the offending key and what was
// expected, and suggest the closest valid key for unknown ones.
func Parse(s string) (Config, error) {
	c := Default()
	if strings.TrimSpace(s) == "" {
		return c, nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return c, fmt.Errorf("init config: must be a JSON object, got a JSON %s", typeErr.Value)
		}
		return c, fmt.Errorf("init config: not valid JSON: %w", err)
	}
	if raw == nil {
		return c, errors.New("init config: must be a JSON object, got null")
	}
	if dec.More() {
		return c, errors.New("init config: trailing data after the JSON object")
	}
	// Token reports io.EOF only when nothing but whitespace follows; a stray
	// ']' or '}' is a syntax error, not the end of input.
	if _, err := dec.Token(); err != io.EOF {
		return c, errors.New("init config: trailing data after the JSON object")
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	byKey := make(map[string]*option, len(options))
	for i := range options {
		byKey[options[i].key] = &options[i]
	}
	for _, k := range keys {
		o, ok := byKey[k]
		if !ok {
			return c, unknownKeyError(k)
		}
		v, err := o.decode(raw[k])
		if err != nil {
			return c, fmt.Errorf("init config: key %q: %w", k, err)
		}
		o.set(&c, v)
	}
	for i := range options {
		if options[i].check == nil {
			continue
		}
		if err := options[i].check(&c); err != nil {
			if strings.HasPrefix(err.Error(), "init config:") {
				return c, err
			}
			return c, fmt.Errorf("init config: key %q: %w", options[i].key, err)
		}
	}
	return c, nil
}

func (o *option) decode(raw json.RawMessage) (any, error) {
	raw = bytes.TrimSpace(raw)
	switch o.kind {
	case kindInt:
		var n json.Number
		// json.Number also accepts a quoted number ("10"): refuse strings.
		if len(raw) > 0 && raw[0] == '"' {
			return nil, fmt.Errorf("expected an integer, got %s", describe(raw))
		}
		if err := json.Unmarshal(raw, &n); err != nil {
			return nil, fmt.Errorf("expected an integer, got %s", describe(raw))
		}
		i, err := n.Int64()
		if err != nil {
			return nil, fmt.Errorf("expected an integer, got %s", describe(raw))
		}
		if i < int64(o.min) || i > int64(o.max) {
			return nil, fmt.Errorf("%d is out of range [%d, %d]", i, o.min, o.max)
		}
		return int(i), nil
	case kindBool:
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil || string(raw) == "null" {
			return nil, fmt.Errorf("expected true or false, got %s", describe(raw))
		}
		return b, nil
	case kindString:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || string(raw) == "null" {
			return nil, fmt.Errorf("expected a string, got %s", describe(raw))
		}
		if len(o.enum) > 0 && !contains(o.enum, s) {
			return nil, fmt.Errorf("%s is not one of %s", quote(s), strings.Join(o.enum, ", "))
		}
		return s, nil
	case kindFilters:
		return decodeFilters(raw)
	}
	return nil, fmt.Errorf("internal error: unknown option kind %d", o.kind)
}

func decodeFilters(raw json.RawMessage) (map[string][]string, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("expected an object of filter key to list of strings, got %s", describe(raw))
	}
	out := make(map[string][]string, len(obj))
	for k, v := range obj {
		if !contains(FilterKeys, k) {
			msg := fmt.Sprintf("unknown filter %s (valid: %s)", quote(k), strings.Join(FilterKeys, ", "))
			if s := closest(k, FilterKeys); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			return nil, errors.New(msg)
		}
		var vals []string
		if err := json.Unmarshal(v, &vals); err != nil || vals == nil {
			return nil, fmt.Errorf("filter %s: expected a list of strings, got %s", quote(k), describe(v))
		}
		if len(vals) == 0 {
			return nil, fmt.Errorf("filter %s: empty list (omit the key to accept everything)", quote(k))
		}
		for _, s := range vals {
			if strings.TrimSpace(s) == "" {
				return nil, fmt.Errorf("filter %s: empty value", quote(k))
			}
			if k == "type" && !contains(FilterTypes, s) {
				return nil, fmt.Errorf("filter \"type\": %s is not an event type (valid: %s)", quote(s), strings.Join(FilterTypes, ", "))
			}
		}
		out[k] = vals
	}
	return out, nil
}

// MaxSocketPath is the longest unix socket path (sun_path holds 108 bytes,
// the terminating NUL included).
const MaxSocketPath = 107

// CheckSocketPath accepts an absolute path that fits a unix socket address.
func CheckSocketPath(path string) error {
	switch {
	case !strings.HasPrefix(path, "/"):
		return fmt.Errorf("unix socket path %s must be absolute (unix:///run/falco/docker-pprof.sock)", quote(path))
	case len(path) > MaxSocketPath:
		return fmt.Errorf("unix socket path of %d bytes is longer than the %d a socket address holds", len(path), MaxSocketPath)
	case strings.ContainsRune(path, 0):
		return fmt.Errorf("unix socket path %s contains a NUL byte", quote(path))
	}
	return nil
}

// CheckLoopbackAddr accepts host:port where host is a loopback IP address or
// "localhost", and the port is numeric.
func CheckLoopbackAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		reason := err.Error()
		if ae, ok := err.(*net.AddrError); ok {
			reason = ae.Err // its Error() repeats the whole address
		}
		return fmt.Errorf("%s is not host:port (%s)", quote(addr), reason)
	}
	if port == "" {
		return fmt.Errorf("%s has no port", quote(addr))
	}
	for _, r := range port {
		if r < '0' || r > '9' {
			return fmt.Errorf("%s: port must be numeric", quote(addr))
		}
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s is not a loopback address (use 127.0.0.1 or [::1]): the profiler must not be reachable from the network", quote(addr))
	}
	return nil
}

func describe(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	kind := "a value"
	switch raw[0] {
	case '"':
		kind = "a string"
	case '{':
		kind = "an object"
	case '[':
		kind = "an array"
	case 't', 'f':
		kind = "a boolean"
	case 'n':
		return "null"
	default:
		kind = "a number"
	}
	s := string(raw)
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return kind + " (" + s + ")"
}

// quote quotes a value the user wrote, for an error message: at most its
// first 64 bytes, so a pasted blob does not become a log line of its size.
func quote(s string) string {
	const max = 64
	if len(s) <= max {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:max]) + "..."
}

func unknownKeyError(k string) error {
	valid := Keys()
	msg := fmt.Sprintf("init config: unknown key %s", quote(k))
	if s := closest(k, valid); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return errors.New(msg + " (valid keys: " + strings.Join(valid, ", ") + ")")
}

// Keys lists the valid init config keys, in schema order.
func Keys() []string {
	out := make([]string, len(options))
	for i, o := range options {
		out[i] = o.key
	}
	return out
}

// closest returns the candidate nearest to s (case-insensitive edit
// distance), or "" when nothing is reasonably close.
func closest(s string, candidates []string) string {
	if len(s) > 64 {
		return ""
	}
	best, bestD := "", 1<<30
	ls := strings.ToLower(s)
	for _, c := range candidates {
		d := editDistance(ls, strings.ToLower(c))
		if d < bestD {
			best, bestD = c, d
		}
	}
	limit := len(best)/2 + 1
	if limit > 4 {
		limit = 4
	}
	if bestD <= limit {
		return best
	}
	return ""
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
