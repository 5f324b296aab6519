package conformance

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options configure a run. Zero values take the defaults below.
type Options struct {
	// Plugin is the path of the .so under test.
	Plugin string `json:"plugin"`
	// InitConfig is the init config; nil means the defaults of the
	// plugin's init schema ("{}" or "" when it has none), as HARNESS_INIT
	// unset.
	InitConfig *string `json:"initConfig,omitempty"`
	// OpenParams are the open params; nil means "" (Falco's default).
	OpenParams *string `json:"openParams,omitempty"`
	// CallBound is the longest a single plugin call may block (default
	// 5 s): next_batch beyond it is a FAIL, and any call that has not
	// returned by CallBound+Grace is killed as a hang.
	CallBound time.Duration `json:"callBound"`
	// Grace is the watchdog's slack beyond CallBound (default 5 s).
	Grace time.Duration `json:"grace"`
	// The next_batch loop stops at the first of EOF, MaxEvents events,
	// MaxCalls calls or LoopTime (defaults 2000, 20000, 10 s).
	MaxEvents int           `json:"maxEvents"`
	MaxCalls  int           `json:"maxCalls"`
	LoopTime  time.Duration `json:"loopTime"`
	// ConcurrentTime is how long get_metrics is called from another thread
	// while next_batch runs (default 300 ms).
	ConcurrentTime time.Duration `json:"concurrentTime"`
	// OpenCloseCycles and InitDestroyCycles are the measured lifecycle
	// cycles (defaults 30 and 20; even numbers, measured in two halves).
	OpenCloseCycles   int `json:"openCloseCycles"`
	InitDestroyCycles int `json:"initDestroyCycles"`
	// Stderr receives the plugin's (the child's) stderr as it comes; nil
	// keeps it only for crash reports.
	Stderr io.Writer `json:"-"`

	// Set by the parent for each child: checks already reported, checks
	// that crashed or hung (their calls are not made again), and fields
	// whose extraction crashed (not extracted again).
	Done       []string `json:"done,omitempty"`
	Faulted    []string `json:"faulted,omitempty"`
	SkipFields []string `json:"skipFields,omitempty"`
}

func (o *Options) defaults() {
	if o.CallBound <= 0 {
		o.CallBound = 5 * time.Second
	}
	if o.Grace <= 0 {
		o.Grace = 5 * time.Second
	}
	if o.MaxEvents <= 0 {
		o.MaxEvents = 2000
	}
	if o.MaxCalls <= 0 {
		o.MaxCalls = 20000
	}
	if o.LoopTime <= 0 {
		o.LoopTime = 10 * time.Second
	}
	if o.ConcurrentTime <= 0 {
		o.ConcurrentTime = 300 * time.Millisecond
	}
	if o.OpenCloseCycles <= 0 {
		o.OpenCloseCycles = 30
	}
	if o.InitDestroyCycles <= 0 {
		o.InitDestroyCycles = 20
	}
	o.OpenCloseCycles += o.OpenCloseCycles % 2
	o.InitDestroyCycles += o.InitDestroyCycles % 2
}

// childEnv carries the options to the child process.
const childEnv = "CONFORMANCE_CHILD"

// message is one line of the child-to-parent protocol (JSON lines on the
// child's fd 3).
type message struct {
	// T is the kind: "crumb" (a plugin call is about to run), "phase"
	// (the checks a phase will report), "result", "skip" (checks that
	// cannot run, with the reason), "internal" (the suite itself failed)
	// or "done".
	T string `json:"t"`
	// Crumb: the check a crash is attributed to, the one a hang is
	// attributed to (when different), the call, and whether it runs on
	// the concurrent thread.
	Check     string `json:"check,omitempty"`
	HangCheck string `json:"hang,omitempty"`
	Call      string `json:"call,omitempty"`
	Field     string `json:"field,omitempty"`
	Side      bool   `json:"side,omitempty"`
	// Phase and skip: check ids.
	Checks []string `json:"checks,omitempty"`
	Reason string   `json:"reason,omitempty"`
	// Result.
	Result *Result `json:"result,omitempty"`
	// Plugin identity (sent once, with the static checks).
	Plugin *PluginInfo `json:"plugin,omitempty"`
	Init   *string     `json:"init,omitempty"`
}

// Run runs the suite on opts.Plugin and returns its report. The plugin runs
// in child processes: the current executable re-executed, which must call
// ChildMain first thing in main (or TestMain).
func Run(opts Options) (*Report, error) {
	opts.defaults()
	if opts.Plugin == "" {
		return nil, errors.New("conformance: no plugin given")
	}
	abs, err := filepath.Abs(opts.Plugin)
	if err != nil {
		return nil, err
	}
	opts.Plugin = abs
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("conformance: cannot re-execute myself: %w", err)
	}
	rep := &Report{Plugin: PluginInfo{Path: abs}}
	if opts.OpenParams != nil {
		rep.OpenParams = *opts.OpenParams
	}
	results := map[string]Result{}
	skips := map[string]string{}
	var skipFields []string
	for attempt := 0; attempt <= len(Catalog); attempt++ {
		var done, faulted []string
		for id, r := range results {
			done = append(done, id)
			if r.Crash != nil {
				faulted = append(faulted, id)
			}
		}
		for id := range skips {
			done = append(done, id)
		}
		o := opts
		o.Done, o.Faulted, o.SkipFields = done, faulted, skipFields
		rep.Children++
		out, err := runChild(exe, o)
		if err != nil {
			return nil, err
		}
		if out.internal != "" {
			return nil, fmt.Errorf("conformance: internal error of the suite (not the plugin's): %s", out.internal)
		}
		for _, m := range out.msgs {
			switch m.T {
			case "result":
				if _, ok := results[m.Result.ID]; !ok {
					results[m.Result.ID] = *m.Result
				}
			case "skip":
				for _, id := range m.Checks {
					if _, ok := results[id]; !ok {
						skips[id] = m.Reason
					}
				}
			}
			if m.Plugin != nil {
				rep.Plugin = *m.Plugin
			}
			if m.Init != nil {
				rep.InitConfig = *m.Init
			}
		}
		if out.done {
			break
		}
		// The child died or hung: charge it to the check that was running.
		crash := out.crash()
		crumb := out.crumb
		id := crumb.Check
		if crash.Hang && crumb.HangCheck != "" {
			id = crumb.HangCheck
		}
		if _, reported := results[id]; reported || id == "" {
			// The same fault again in a check already reported (or before
			// any check began): what this phase had left cannot run.
			reason := "not run: " + crash.String()
			if id != "" {
				reason += " (reported by " + id + ")"
			}
			for _, c := range out.phase {
				if _, ok := results[c]; !ok {
					skips[c] = reason
				}
			}
			if len(out.phase) == 0 {
				break
			}
			continue
		}
		c := check(id)
		lvl := c.Level
		if lvl == Info {
			lvl = Warn
		}
		results[id] = Result{Check: c, Status: lvl, Crash: crash}
		if crumb.Field != "" {
			skipFields = append(skipFields, crumb.Field)
		}
	}
	for _, c := range Catalog {
		r, ok := results[c.ID]
		if !ok {
			reason, ok := skips[c.ID]
			if !ok {
				reason = "not run"
			}
			r = Result{Check: c, Status: Skip, Details: []string{reason}}
		}
		rep.Results = append(rep.Results, r)
	}
	rep.summarize()
	return rep, nil
}

// childOutput is what one child process left.
type childOutput struct {
	msgs     []message
	crumb    message  // the last main-thread crumb
	side     string   // the call in flight on the concurrent thread
	phase    []string // checks of the phase that was running
	internal string   // the suite's own panic
	done     bool
	hang     bool
	state    *os.ProcessState
	stderr   []byte
}

var (
	sigRe   = regexp.MustCompile(`(?m)^\[?signal (SIG[A-Z]+)|^(SIG[A-Z]+): `)
	panicRe = regexp.MustCompile(`(?m)^(panic: .*|fatal error: .*)$`)
)

// crash describes how the child ended.
func (o *childOutput) crash() *Crash {
	c := &Crash{LastCall: o.crumb.Call, Hang: o.hang}
	if c.LastCall == "" {
		c.LastCall = "(no plugin call yet)"
	}
	if o.side != "" {
		c.LastCall = o.side + " on a second thread, while the main thread ran " + c.LastCall
	}
	if o.hang {
		return c
	}
	if o.state != nil {
		if ws, ok := o.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			c.Signal = unixSignalName(ws.Signal())
		} else {
			c.Exit = o.state.ExitCode()
		}
	}
	if m := sigRe.FindSubmatch(o.stderr); m != nil && c.Signal == "" {
		c.Signal = string(m[1]) + string(m[2])
	}
	if m := panicRe.FindSubmatch(o.stderr); m != nil {
		c.Message = oneLine(string(m[1]), 200)
	}
	return c
}

func unixSignalName(s syscall.Signal) string {
	names := map[syscall.Signal]string{syscall.SIGSEGV: "SIGSEGV", syscall.SIGBUS: "SIGBUS", syscall.SIGABRT: "SIGABRT",
		syscall.SIGILL: "SIGILL", syscall.SIGFPE: "SIGFPE", syscall.SIGKILL: "SIGKILL", syscall.SIGTRAP: "SIGTRAP"}
	if n, ok := names[s]; ok {
		return n
	}
	return s.String()
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	buf []byte
	max int
	w   io.Writer
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.w != nil {
		t.w.Write(p)
	}
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tail) bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Clone(t.buf)
}

// runChild runs one child process to its end: done, crash or hang (no
// message for CallBound+Grace, then SIGKILL).
func runChild(exe string, opts Options) (*childOutput, error) {
	env, err := json.Marshal(opts)
	if err != nil {
		return nil, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer pr.Close()
	errTail := &tail{max: 64 << 10, w: opts.Stderr}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), childEnv+"="+string(env))
	cmd.ExtraFiles = []*os.File{pw}
	cmd.Stdout = io.Discard
	cmd.Stderr = errTail
	// A process the plugin started may keep stderr open after the child
	// is gone: Wait gives up on the copy after this.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		pw.Close()
		return nil, fmt.Errorf("conformance: start child: %w", err)
	}
	pw.Close()

	msgs := make(chan message, 256)
	go func() {
		defer close(msgs)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			var m message
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				msgs <- m
			}
		}
	}()
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()

	out := &childOutput{}
	bound := opts.CallBound + opts.Grace
	timer := time.NewTimer(bound)
	defer timer.Stop()
	for msgs != nil {
		select {
		case m, ok := <-msgs:
			if !ok {
				msgs = nil
				continue
			}
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
			timer.Reset(bound)
			switch m.T {
			case "crumb":
				// A side-thread crumb (get_metrics while next_batch runs)
				// names its call, "" once it returned; the check is the
				// phase's, named by the main thread's crumb.
				if m.Side {
					out.side = m.Call
				} else {
					out.crumb = m
				}
			case "phase":
				out.phase = m.Checks
			case "done":
				out.done = true
			case "internal":
				out.internal = m.Reason
			}
			out.msgs = append(out.msgs, m)
		case <-timer.C:
			out.hang = true
			cmd.Process.Kill()
			for range msgs {
			}
			msgs = nil
		}
	}
	<-exited
	out.state = cmd.ProcessState
	out.stderr = errTail.bytes()
	if !out.done && !out.hang && len(out.msgs) == 0 {
		return nil, fmt.Errorf("conformance: the child process sent nothing (%v): is ChildMain called first in main/TestMain?\n%s",
			out.state, strings.TrimSpace(string(out.stderr)))
	}
	return out, nil
}
