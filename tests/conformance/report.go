package conformance

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// Crash says how the plugin took the child process down (or hung it).
type Crash struct {
	// Signal is the signal that killed the process (SIGSEGV, ...) as the
	// kernel or the Go runtime reported it; empty for a hang or a panic.
	Signal string `json:"signal,omitempty"`
	// Hang is set when the plugin did not return within the watchdog bound
	// and the suite killed it.
	Hang bool `json:"hang,omitempty"`
	// Exit is the exit status when the process exited (a Go panic exits 2).
	Exit int `json:"exit,omitempty"`
	// LastCall is the plugin call in flight (with its arguments).
	LastCall string `json:"lastCall"`
	// Message is the first line of the runtime's report (panic: ...,
	// fatal error: ...), when there was one.
	Message string `json:"message,omitempty"`
}

func (c *Crash) String() string {
	switch {
	case c.Hang:
		return fmt.Sprintf("no return from %s (killed by the watchdog)", c.LastCall)
	case c.Signal != "":
		s := fmt.Sprintf("%s in %s", c.Signal, c.LastCall)
		if c.Message != "" {
			s += ": " + c.Message
		}
		return s
	default:
		s := fmt.Sprintf("exit status %d in %s", c.Exit, c.LastCall)
		if c.Message != "" {
			s += ": " + c.Message
		}
		return s
	}
}

// Result is the outcome of one check.
type Result struct {
	Check
	Status  Status   `json:"status"`
	Details []string `json:"details,omitempty"`
	Crash   *Crash   `json:"crash,omitempty"`
}

// PluginInfo is the plugin's identity as it reported it.
type PluginInfo struct {
	Path               string   `json:"path"`
	Name               string   `json:"name,omitempty"`
	Version            string   `json:"version,omitempty"`
	RequiredAPIVersion string   `json:"requiredApiVersion,omitempty"`
	ID                 uint32   `json:"id,omitempty"`
	EventSource        string   `json:"eventSource,omitempty"`
	Capabilities       []string `json:"capabilities,omitempty"`
	Fields             int      `json:"fields,omitempty"`
}

// Report is the suite's outcome on one plugin.
type Report struct {
	Plugin     PluginInfo     `json:"plugin"`
	InitConfig string         `json:"initConfig"`
	OpenParams string         `json:"openParams"`
	Results    []Result       `json:"results"`
	Summary    map[Status]int `json:"summary"`
	// Children is how many child processes the run took (1 + one per crash
	// or hang).
	Children int `json:"children"`
}

// Failed reports whether any check failed.
func (r *Report) Failed() bool { return r.Summary[Fail] > 0 }

// Result returns the result of check id (zero Result if absent).
func (r *Report) Result(id string) Result {
	for _, x := range r.Results {
		if x.ID == id {
			return x
		}
	}
	return Result{}
}

// IDs returns the ids of the checks with status s, sorted.
func (r *Report) IDs(s Status) []string {
	var out []string
	for _, x := range r.Results {
		if x.Status == s {
			out = append(out, x.ID)
		}
	}
	sort.Strings(out)
	return out
}

func (r *Report) summarize() {
	r.Summary = map[Status]int{}
	for _, x := range r.Results {
		r.Summary[x.Status]++
	}
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report as a table: one line per check with its
// first detail; verbose adds every detail, and the rule and its source for
// each check that did not pass.
func (r *Report) WriteTable(w io.Writer, verbose bool) error {
	p := r.Plugin
	fmt.Fprintf(w, "plugin %s: %s %s (id %d, source %q, API %s), %s\n", p.Path, p.Name, p.Version, p.ID, p.EventSource,
		p.RequiredAPIVersion, strings.Join(p.Capabilities, ", "))
	fmt.Fprintf(w, "init config %q, open params %q\n\n", r.InitConfig, r.OpenParams)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tCHECK\tDETAIL")
	for _, x := range r.Results {
		details := x.Details
		if x.Crash != nil {
			details = append([]string{"crash: " + x.Crash.String()}, details...)
		}
		first := ""
		if len(details) > 0 {
			first = details[0]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", x.Status, x.ID, oneLine(first, 140))
		if verbose {
			for _, d := range details[min(1, len(details)):] {
				fmt.Fprintf(tw, "\t\t%s\n", oneLine(d, 140))
			}
			if x.Status == Fail || x.Status == Warn {
				fmt.Fprintf(tw, "\t\trule: %s\n", x.Rule)
				fmt.Fprintf(tw, "\t\tsource: %s\n", x.Source)
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%d FAIL, %d WARN, %d INFO, %d PASS, %d SKIP\n",
		r.Summary[Fail], r.Summary[Warn], r.Summary[Info], r.Summary[Pass], r.Summary[Skip])
	return err
}

// oneLine makes s a single table cell of at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(strings.ReplaceAll(s, "\t", " ")), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-3]) + "..."
	}
	return s
}
