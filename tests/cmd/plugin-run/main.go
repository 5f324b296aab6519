// Command plugin-run loads a plugin .so through the project's own loader
// (tests/harness), opens its event source and prints one line per event, as
// Falco would see it: the time, type, action and short actor id of the event,
// then the extracted fields that have a value. `make run` runs it.
//
//	plugin-run -so ./libdocker.so [-open file:///path/events.jsonl] [-config '{...}']
//	           [-fields docker.container.name,docker.exec.cmdline] [-n 10] [-evtstr] [-no-trunc]
//
// Output (stdout), one line per event:
//
//	2024-05-01T10:58:56.370816183Z container exec_create e327f1fa52a9 | docker.container.name=web docker.action.args="sh -c id"
//
// Values are quoted when they hold a space, a quote or a backslash, and every
// control character (NUL, ESC, newline, DEL...) is escaped, so that a hostile
// label or exec command can neither forge a second line nor send terminal
// escapes (see quote). Full 64-hex ids are shortened to 12 digits as `docker
// ps` shows them, unless -no-trunc. -evtstr prints the plugin's own
// event_to_string rendering (`docker events` style, escaped) before the `|`.
//
// Live mode (empty or unix:// / tcp:// open params) sets failFast unless the
// config says otherwise, so a daemon that does not answer ends the run at once
// with its error instead of retrying as a plugin inside Falco does.
//
// Exit status: 0 at the end of a replay, after -n events, or when stopped by
// Ctrl-C/SIGTERM (the instance is closed and the plugin destroyed first);
// 2 for bad flags, an unknown field, or plugin_init failing; 3 when
// plugin_open or plugin_next_batch fails (no daemon answers, for instance).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	"github.com/falco-docker/docker-plugin/tests/harness"
)

// Exit statuses.
const (
	exitOK    = 0
	exitUsage = 2 // bad flags, unknown field, init failure
	exitOpen  = 3 // plugin_open or plugin_next_batch failed
)

// defaultFields are printed after the header when -fields is not given: what
// tells one event from another at a glance. Fields without a value for an
// event are left out of its line.
const defaultFields = "docker.container.name,docker.container.image,docker.action.args," +
	"docker.container.exitcode,docker.container.signal,docker.image.name,docker.image.tag," +
	"docker.network.name,docker.volume.name,docker.attributes.container"

// headerFields make the start of every line (unless -evtstr).
var headerFields = [...]string{"docker.time", "docker.type", "docker.action.name", "docker.actor.id"}

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, stop))
}

// run is the whole command, with its streams and stop signal passed in so
// that tests drive it in process.
func run(args []string, stdout, stderr io.Writer, stop <-chan os.Signal) int {
	fs := flag.NewFlagSet("plugin-run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	so := fs.String("so", "./libdocker.so", "plugin library to load")
	open := fs.String("open", "", "open params: empty = local Docker daemon; file:///abs/path.jsonl replays a recording")
	config := fs.String("config", "", "init config (JSON)")
	fieldList := fs.String("fields", defaultFields, "comma-separated fields to print after each event (those without a value are left out)")
	limit := fs.Int("n", 0, "stop after this many events (0 = until the end of a replay, or Ctrl-C)")
	evtstr := fs.Bool("evtstr", false, "start each line with the plugin's event_to_string rendering instead of time, type, action and short id")
	noTrunc := fs.Bool("no-trunc", false, "print full ids instead of 12-digit short ids")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "plugin-run: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if *limit < 0 {
		fmt.Fprintf(stderr, "plugin-run: -n %d: must be 0 or more\n", *limit)
		return exitUsage
	}
	logf := func(format string, a ...any) {
		fmt.Fprintf(stderr, "plugin-run: %s\n", escape(fmt.Sprintf(format, a...)))
	}

	live := !strings.HasPrefix(strings.TrimSpace(*open), "file://")
	cfg := *config
	if live && !strings.Contains(cfg, "failFast") {
		m := map[string]any{}
		if strings.TrimSpace(cfg) != "" {
			if err := json.Unmarshal([]byte(cfg), &m); err != nil {
				logf("-config is not a JSON object: %v", err)
				return exitUsage
			}
		}
		m["failFast"] = true
		b, _ := json.Marshal(m)
		cfg = string(b)
	}

	p, err := harness.Load(*so)
	if err != nil {
		logf("%v", err)
		return exitUsage
	}
	s, rc := p.Init(cfg)
	if rc != harness.Success {
		logf("plugin_init: %s", p.LastError(s))
		p.Destroy(s)
		return exitUsage
	}
	defer p.Destroy(s)

	pr := printer{noTrunc: *noTrunc}
	if !*evtstr {
		if pr.header, err = requests(p, headerFields[:]); err != nil {
			logf("%v (use -evtstr for a plugin without these fields)", err)
			return exitUsage
		}
	}
	if pr.fields, err = requests(p, strings.Split(*fieldList, ",")); err != nil {
		logf("%v", err)
		return exitUsage
	}

	inst, rc := p.Open(s, *open)
	if rc != harness.Success {
		logf("plugin_open(%q): %s", *open, p.LastError(s))
		return exitOpen
	}
	defer p.Close(s, inst)
	if live {
		_, prog := p.Progress(s, inst)
		logf("live events (%s); Ctrl-C stops", prog)
	}

	store := harness.NewEventStore(1, p.EventSource())
	defer store.Free()
	var num uint64
	lastWarn := ""
	var line strings.Builder
	for {
		select {
		case <-stop:
			logf("stopped after %d events", num)
			return exitOK
		default:
		}
		raw, rc := p.NextBatchRaw(s, inst)
		for _, r := range raw {
			store.Reset()
			store.AddRaw(r, p.ID(), num)
			num++
			line.Reset()
			if *evtstr {
				line.WriteString(escape(p.EventToString(s, store, 0)))
			}
			pr.event(&line, p, s, store)
			line.WriteByte('\n')
			io.WriteString(stdout, line.String())
			if *limit > 0 && num >= uint64(*limit) {
				return exitOK
			}
		}
		switch rc {
		case harness.EOF:
			logf("end of events (%d)", num)
			return exitOK
		case harness.Success:
		case harness.Timeout:
			// A live source publishes its connection problems as the last
			// error while it retries: show each once, not once per retry
			// delay (the plugin's own [docker] log lines say more).
			if w := p.LastError(s); w != "" && retryDelay.ReplaceAllString(w, "") != lastWarn {
				logf("%s", w)
				lastWarn = retryDelay.ReplaceAllString(w, "")
			}
		default:
			logf("plugin_next_batch: %s", p.LastError(s))
			return exitOpen
		}
	}
}

// retryDelay is the part of the live source's last error that changes on
// every retry.
var retryDelay = regexp.MustCompile(`; reconnecting in [0-9.]+[a-zµ]+`)

// requests resolves field names (with an optional [arg]) against the
// plugin's field table.
func requests(p *harness.Plugin, names []string) ([]harness.Request, error) {
	fields, err := p.Fields()
	if err != nil {
		return nil, err
	}
	var reqs []harness.Request
	for _, name := range names {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		base, arg, hasArg := strings.Cut(name, "[")
		if hasArg {
			if !strings.HasSuffix(arg, "]") {
				return nil, fmt.Errorf("field %q: missing ] after the argument", name)
			}
			arg = strings.TrimSuffix(arg, "]")
		}
		found := false
		for id, f := range fields {
			if f.Name == base {
				reqs = append(reqs, harness.Request{ID: uint32(id), Name: name, Type: f.TypeCode(), Arg: arg, HasArg: hasArg, IsList: f.IsList})
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown field %q", name)
		}
	}
	return reqs, nil
}

// printer formats the fields of one event.
type printer struct {
	header, fields []harness.Request
	noTrunc        bool
}

// event appends the header values (or "-" when one has none) and then, when
// any field has a value, " |" and " name=value" for each of them.
func (pr *printer) event(b *strings.Builder, p *harness.Plugin, s harness.State, store *harness.EventStore) {
	if len(pr.header) > 0 {
		res := p.Extract(s, store, 0, pr.header, false)
		if res.RC != harness.Success {
			b.WriteString("extract failed: " + escape(p.LastError(s)))
			return
		}
		for k, r := range pr.header {
			if k > 0 {
				b.WriteByte(' ')
			}
			if !res.Values[k].Present {
				b.WriteByte('-')
				continue
			}
			b.WriteString(pr.value(r, res.Values[k]))
		}
	}
	if len(pr.fields) == 0 {
		return
	}
	res := p.Extract(s, store, 0, pr.fields, false)
	if res.RC != harness.Success {
		b.WriteString(" | extract failed: " + escape(p.LastError(s)))
		return
	}
	sep := " |"
	for k, r := range pr.fields {
		if !res.Values[k].Present {
			continue // Falco would print <NA>: left out for legibility
		}
		b.WriteString(sep + " " + quote(r.Name) + "=" + pr.value(r, res.Values[k]))
		sep = ""
	}
}

// value renders one extracted value: strings shortened (full ids) and
// quoted, times as docker events prints them, numbers in decimal; list
// values joined with commas.
func (pr *printer) value(r harness.Request, v harness.Value) string {
	parts := make([]string, 0, max(len(v.Strs), len(v.U64s), len(v.Bools)))
	for _, b := range v.Bools {
		parts = append(parts, strconv.FormatBool(b))
	}
	for _, s := range v.Strs {
		if !pr.noTrunc {
			s = shortID(s)
		}
		parts = append(parts, s)
	}
	for _, n := range v.U64s {
		switch r.Type {
		case harness.TypeAbsTime:
			parts = append(parts, formatTime(n))
		default:
			parts = append(parts, strconv.FormatUint(n, 10))
		}
	}
	if len(v.Strs) > 0 {
		// Quote the joined list once: a comma inside one item is then
		// visibly part of the quoted value rather than a separator.
		return quote(strings.Join(parts, ","))
	}
	return strings.Join(parts, ",")
}
