// Command plugin-run loads a plugin .so through the project's own loader
// (tests/harness), opens its event source and prints one line per event, as
// Falco would: the event_to_string rendering plus a chosen set of fields.
// Ctrl-C stops it cleanly (close, destroy).
//
//	plugin-run -so ./libdocker.so [-open file:///path/events.jsonl] [-config '{...}'] [-fields docker.type,docker.action]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/falco-docker/docker-plugin/tests/harness"
)

func main() {
	os.Exit(run())
}

func run() int {
	so := flag.String("so", "./libdocker.so", "plugin library to load")
	open := flag.String("open", "", "open params: empty = local Docker daemon; file:///abs/path.jsonl replays a recording")
	config := flag.String("config", "", "init config (JSON)")
	fieldList := flag.String("fields", "docker.type,docker.action.name,docker.container.name,docker.container.image,docker.exec.cmdline,docker.container.signal,docker.container.exitcode,docker.image.name,docker.image.tag,docker.network.name,docker.volume.name", "comma-separated fields to print after each event (those without a value are left out)")
	max := flag.Int("n", 0, "stop after this many events (0 = until EOF or Ctrl-C)")
	flag.Parse()

	// Live mode: fail at once, with the daemon's error, when no daemon
	// answers (a plugin inside Falco would keep retrying instead).
	cfg := *config
	if !strings.HasPrefix(strings.TrimSpace(*open), "file://") && !strings.Contains(cfg, "failFast") {
		m := map[string]any{}
		if strings.TrimSpace(cfg) != "" {
			if err := json.Unmarshal([]byte(cfg), &m); err != nil {
				fmt.Fprintf(os.Stderr, "plugin-run: -config is not a JSON object: %v\n", err)
				return 2
			}
		}
		m["failFast"] = true
		b, _ := json.Marshal(m)
		cfg = string(b)
	}

	p, err := harness.Load(*so)
	if err != nil {
		fmt.Fprintln(os.Stderr, "plugin-run:", err)
		return 2
	}
	s, rc := p.Init(cfg)
	if rc != harness.Success {
		fmt.Fprintf(os.Stderr, "plugin-run: plugin_init: %s\n", p.LastError(s))
		p.Destroy(s)
		return 2
	}
	defer p.Destroy(s)

	fields, err := p.Fields()
	if err != nil {
		fmt.Fprintln(os.Stderr, "plugin-run:", err)
		return 2
	}
	var reqs []harness.Request
	for _, name := range strings.Split(*fieldList, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		base, arg, hasArg := strings.Cut(name, "[")
		arg = strings.TrimSuffix(arg, "]")
		found := false
		for id, f := range fields {
			if f.Name == base {
				reqs = append(reqs, harness.Request{ID: uint32(id), Name: name, Type: f.TypeCode(), Arg: arg, HasArg: hasArg, IsList: f.IsList})
				found = true
			}
		}
		if !found {
			fmt.Fprintf(os.Stderr, "plugin-run: unknown field %q\n", name)
			return 2
		}
	}

	inst, rc := p.Open(s, *open)
	if rc != harness.Success {
		fmt.Fprintf(os.Stderr, "plugin-run: plugin_open(%q): %s\n", *open, p.LastError(s))
		return 3
	}
	if _, prog := p.Progress(s, inst); !strings.HasPrefix(strings.TrimSpace(*open), "file://") {
		fmt.Fprintf(os.Stderr, "plugin-run: live events (%s); Ctrl-C stops\n", prog)
	}
	defer p.Close(s, inst)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	store := harness.NewEventStore(1, p.EventSource())
	defer store.Free()
	var num uint64
	lastWarn := ""
	for {
		select {
		case <-stop:
			fmt.Fprintf(os.Stderr, "plugin-run: stopped after %d events\n", num)
			return 0
		default:
		}
		raw, rc := p.NextBatchRaw(s, inst)
		for _, r := range raw {
			store.Free()
			store = harness.NewEventStore(1, p.EventSource())
			store.AddRaw(r, p.ID(), num)
			num++
			line := p.EventToString(s, store, 0)
			if len(reqs) > 0 {
				res := p.Extract(s, store, 0, reqs, false)
				if res.RC == harness.Success {
					var b strings.Builder
					for k, r := range reqs {
						v := res.Values[k]
						if !v.Present {
							continue // Falco would print <NA>: left out for legibility
						}
						b.WriteString(" " + r.Name + "=")
						switch {
						case len(v.Strs) > 0:
							b.WriteString(strings.Join(v.Strs, ","))
						default:
							b.WriteString(fmt.Sprint(v.U64s[0]))
						}
					}
					line += " |" + b.String()
				} else {
					line += " | extract failed: " + p.LastError(s)
				}
			}
			fmt.Println(line)
			if *max > 0 && int(num) >= *max {
				return 0
			}
		}
		switch rc {
		case harness.EOF:
			fmt.Fprintf(os.Stderr, "plugin-run: end of events (%d)\n", num)
			return 0
		case harness.Success:
		case harness.Timeout:
			// A live source publishes its connection problems as the last
			// error while it retries: show them once each.
			if w := p.LastError(s); w != "" && w != lastWarn {
				fmt.Fprintf(os.Stderr, "plugin-run: %s\n", w)
				lastWarn = w
			}
		default:
			fmt.Fprintf(os.Stderr, "plugin-run: plugin_next_batch: %s\n", p.LastError(s))
			return 3
		}
	}
}
