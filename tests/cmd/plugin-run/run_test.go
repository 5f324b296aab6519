package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/falco-docker/docker-plugin/tests/harness"
)

// The loader tests need the built plugin: DOCKER_PLUGIN_SO (make test sets
// it), else TestMain builds one. With PLUGIN_RUN_MAIN=1 the test binary is
// the loader itself, so that tests can run it as a process of its own (real
// signals, real exit statuses, `make run` with PLUGIN_RUN=<test binary>).

var (
	soPath  string
	modRoot string
)

func TestMain(m *testing.M) {
	if os.Getenv("PLUGIN_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	var err error
	if modRoot, err = filepath.Abs("../../.."); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	soPath = os.Getenv("DOCKER_PLUGIN_SO")
	if soPath == "" {
		dir, err := os.MkdirTemp("", "plugin-run-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		soPath = filepath.Join(dir, "libdocker.so")
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", soPath, "./plugin")
		cmd.Dir = modRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build plugin: %v\n%s", err, out)
			return 1
		}
	}
	return m.Run()
}

const fullID = "e327f1fa52a90d79421e416aed60e6de6872231f31101a1cc63401e90cef4bd6"

// event builds one recorded event line; attrs and action are written with
// Go's JSON encoder, so control characters arrive as JSON escapes and reach
// the values the plugin extracts as raw bytes.
func event(t *testing.T, typ, action, id string, attrs map[string]string, sec int64) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"Type": typ, "Action": action, "scope": "local",
		"Actor":    map[string]any{"ID": id, "Attributes": attrs},
		"time":     sec,
		"timeNano": sec*1e9 + 7,
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeReplay(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func runLoader(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(append([]string{"-so", soPath}, args...), &out, &errb, nil)
	return code, out.String(), errb.String()
}

// token reads one value of a printed line at the start of s: a Go-quoted
// string or a run of non-space bytes. It returns the value and the rest.
func token(t *testing.T, s string) (string, string) {
	t.Helper()
	if strings.HasPrefix(s, `"`) {
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			t.Fatalf("bad quoted value at %q: %v", s, err)
		}
		v, _ := strconv.Unquote(q)
		return v, s[len(q):]
	}
	end := strings.IndexByte(s, ' ')
	if end < 0 {
		end = len(s)
	}
	if s[:end] == "" {
		t.Fatalf("empty bare value at %q", s)
	}
	return s[:end], s[end:]
}

// parsed is one printed line, values unquoted.
type parsed struct {
	header []string
	fields map[string]string
	order  []string
}

func parseLine(t *testing.T, line string) parsed {
	t.Helper()
	var p parsed
	rest := line
	for k := 0; k < len(headerFields); k++ {
		if k > 0 {
			if !strings.HasPrefix(rest, " ") {
				t.Fatalf("line %q: header value %d not separated by a space", line, k)
			}
			rest = rest[1:]
		}
		var v string
		v, rest = token(t, rest)
		p.header = append(p.header, v)
	}
	p.fields = map[string]string{}
	if rest == "" {
		return p
	}
	if !strings.HasPrefix(rest, " |") {
		t.Fatalf("line %q: no ' |' after the header, got %q", line, rest)
	}
	rest = rest[2:]
	for rest != "" {
		if !strings.HasPrefix(rest, " ") {
			t.Fatalf("line %q: field not separated by a space at %q", line, rest)
		}
		rest = rest[1:]
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 {
			t.Fatalf("line %q: no name=value at %q", line, rest)
		}
		name := rest[:eq]
		var v string
		v, rest = token(t, rest[eq+1:])
		p.fields[name] = v
		p.order = append(p.order, name)
	}
	return p
}

// direct extracts the same fields from the same replay through the harness,
// without the loader: what each printed value must unquote to.
func direct(t *testing.T, path string, names []string) [][]harness.Value {
	t.Helper()
	p, err := harness.Load(soPath)
	if err != nil {
		t.Fatal(err)
	}
	s, rc := p.Init("")
	if rc != harness.Success {
		t.Fatalf("init: %s", p.LastError(s))
	}
	defer p.Destroy(s)
	reqs, err := requests(p, names)
	if err != nil {
		t.Fatal(err)
	}
	inst, rc := p.Open(s, "file://"+path)
	if rc != harness.Success {
		t.Fatalf("open: %s", p.LastError(s))
	}
	defer p.Close(s, inst)
	store := harness.NewEventStore(1, p.EventSource())
	defer store.Free()
	var out [][]harness.Value
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		raw, rc := p.NextBatchRaw(s, inst)
		for _, r := range raw {
			store.Reset()
			store.AddRaw(r, p.ID(), uint64(len(out)))
			res := p.Extract(s, store, 0, reqs, false)
			if res.RC != harness.Success {
				t.Fatalf("extract: %s", p.LastError(s))
			}
			out = append(out, res.Values)
		}
		if rc == harness.EOF {
			return out
		}
	}
	t.Fatal("replay did not reach EOF in 30s")
	return nil
}

// TestRunHostileValues: labels, an exec command, an id and a type holding
// newlines, ESC sequences, NUL, DEL, C1 controls, bidi overrides and spaces
// are printed one event per line, with no control character, and each value
// unquotes to exactly what the plugin extracted.
func TestRunHostileValues(t *testing.T) {
	attrs := map[string]string{"name": "web", "image": "alpine:3.20"}
	for i, v := range hostile {
		attrs[fmt.Sprintf("evil%d", i)] = v
	}
	lines := []string{
		event(t, "container", "exec_create: sh -c \x1b[2J\nNotice forged alert", fullID, attrs, 1700000000),
		event(t, "container", "create", "id with space\nand newline", map[string]string{"name": "line\n2024-05-01T10:58:56Z container create forged"}, 1700000001),
		event(t, "contai\x1b[31mner", "start", "sha256:"+fullID, map[string]string{"name": "\u202eexe.txt", "image": "nul\x00tail"}, 1700000002),
		event(t, "network", "connect", fullID, map[string]string{"container": fullID, "name": "br 0"}, 1700000003),
	}
	path := writeReplay(t, lines...)
	fields := []string{"docker.container.name", "docker.container.image", "docker.action.args", "docker.exec.cmdline", "docker.network.name", "docker.attributes.container"}
	for i := range hostile {
		fields = append(fields, fmt.Sprintf("docker.attributes[evil%d]", i))
	}
	code, stdout, stderr := runLoader(t, "-open", "file://"+path, "-fields", strings.Join(fields, ","))
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	if !printableOnly(strings.ReplaceAll(stdout, "\n", "")) {
		t.Errorf("stdout holds a control or non-printable character:\n%q", stdout)
	}
	if !printableOnly(strings.ReplaceAll(stderr, "\n", "")) {
		t.Errorf("stderr holds a control or non-printable character:\n%q", stderr)
	}
	got := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(got) != len(lines) {
		t.Fatalf("%d events printed as %d lines:\n%s", len(lines), len(got), stdout)
	}
	want := direct(t, path, append(headerFields[:], fields...))
	if len(want) != len(lines) {
		t.Fatalf("direct extraction saw %d events", len(want))
	}
	for i, line := range got {
		p := parseLine(t, line)
		for k, name := range headerFields {
			w := "-"
			if v := want[i][k]; v.Present {
				if len(v.Strs) > 0 {
					w = shortID(v.Strs[0])
				} else {
					w = formatTime(v.U64s[0])
				}
			}
			if p.header[k] != w {
				t.Errorf("line %d: %s printed as %q, want %q", i, name, p.header[k], w)
			}
		}
		for k, name := range fields {
			v := want[i][len(headerFields)+k]
			printed, ok := p.fields[name]
			if ok != v.Present {
				t.Errorf("line %d: %s printed %v, has a value %v", i, name, ok, v.Present)
				continue
			}
			if ok && printed != shortID(v.Strs[0]) {
				t.Errorf("line %d: %s = %q, extracted %q", i, name, printed, v.Strs[0])
			}
		}
	}
	// The ids are shortened as docker ps shows them.
	if !strings.Contains(got[0], " e327f1fa52a9 |") || !strings.Contains(got[3], "docker.attributes.container=e327f1fa52a9") {
		t.Errorf("full ids not shortened:\n%s", stdout)
	}
	if strings.Contains(stdout, fullID) {
		t.Errorf("a full id was printed:\n%s", stdout)
	}
	code, stdout, _ = runLoader(t, "-open", "file://"+path, "-no-trunc", "-n", "1")
	if code != exitOK || !strings.Contains(stdout, " "+fullID+" ") {
		t.Errorf("-no-trunc: exit %d, want the full id:\n%s", code, stdout)
	}
	// The plugin's own rendering, whatever it holds, is escaped too.
	code, stdout, _ = runLoader(t, "-open", "file://"+path, "-evtstr", "-fields", "")
	if code != exitOK || strings.Count(stdout, "\n") != len(lines) || !printableOnly(strings.ReplaceAll(stdout, "\n", "")) {
		t.Errorf("-evtstr: exit %d, %d lines for %d events, or a control character:\n%q", code, strings.Count(stdout, "\n"), len(lines), stdout)
	}
}

// TestRunFieldsAndN: -fields chooses what follows the header, -n stops.
func TestRunFieldsAndN(t *testing.T) {
	path := writeReplay(t,
		event(t, "container", "die", fullID, map[string]string{"name": "web", "exitCode": "137"}, 1700000000),
		event(t, "container", "kill", fullID, map[string]string{"name": "web", "signal": "9"}, 1700000001),
		event(t, "container", "destroy", fullID, map[string]string{"name": "web"}, 1700000002),
	)
	code, stdout, stderr := runLoader(t, "-open", "file://"+path, "-fields", "docker.container.exitcode, docker.container.signal", "-n", "2")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	want := "2023-11-14T22:13:20.000000007Z container die e327f1fa52a9 | docker.container.exitcode=137\n" +
		"2023-11-14T22:13:21.000000007Z container kill e327f1fa52a9 | docker.container.signal=9\n"
	if stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
	}
	// -evtstr: the plugin's own rendering first, escaped.
	code, stdout, _ = runLoader(t, "-open", "file://"+path, "-fields", "", "-evtstr", "-n", "1")
	if code != exitOK || !strings.HasPrefix(stdout, "2023-11-14T22:13:20.000000007Z container die "+fullID) || strings.Count(stdout, "\n") != 1 {
		t.Errorf("-evtstr: exit %d:\n%s", code, stdout)
	}
}

// TestRunExitStatus: the statuses the package doc and README promise.
func TestRunExitStatus(t *testing.T) {
	path := writeReplay(t, event(t, "container", "start", fullID, nil, 1700000000))
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"replay to the end", []string{"-open", "file://" + path}, exitOK, "end of events (1)"},
		{"unknown field", []string{"-open", "file://" + path, "-fields", "docker.nope"}, exitUsage, `unknown field "docker.nope"`},
		{"unclosed argument", []string{"-open", "file://" + path, "-fields", "docker.attributes[x"}, exitUsage, "missing ]"},
		{"bad -n", []string{"-n", "-1"}, exitUsage, "must be 0 or more"},
		{"bad flag", []string{"-nope"}, exitUsage, "flag provided but not defined"},
		{"bad init config", []string{"-open", "file://" + path, "-config", `{"batchSize":0}`}, exitUsage, "plugin_init"},
		{"no daemon", []string{"-open", "unix:///nonexistent/docker.sock"}, exitOpen, "not reachable"},
		{"missing replay file", []string{"-open", "file:///nonexistent/events.jsonl"}, exitOpen, "plugin_open"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runLoader(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d, want %d; stderr (want %q):\n%s", code, tc.code, tc.stderr, stderr)
			}
		})
	}
}

// loaderCmd runs the test binary as the loader.
func loaderCmd(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, append([]string{"-so", soPath}, args...)...)
	cmd.Env = append(os.Environ(), "PLUGIN_RUN_MAIN=1")
	return cmd
}

// TestRunInterrupt: SIGINT (Ctrl-C) while the source is quiet ends the run
// cleanly: the instance is closed, the plugin destroyed, exit status 0. The
// source is a FIFO whose writer stays open, so the loader is waiting in its
// next_batch loop when the signal comes.
func TestRunInterrupt(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "events.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := loaderCmd(t, "-open", "file://"+fifo)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0) // blocks until the plugin opens it
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := fmt.Fprintln(w, event(t, "container", "start", fullID, map[string]string{"name": "web"}, 1700000000)); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 4)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	select {
	case l := <-lines:
		if !strings.Contains(l, "container start e327f1fa52a9") {
			t.Errorf("first line %q", l)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("no event line within 60s; stderr:\n%s", stderr.String())
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	for l := range lines {
		t.Errorf("unexpected line after the interrupt: %q", l)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("loader exit: %v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("loader still running 60s after SIGINT")
	}
	if !strings.Contains(stderr.String(), "stopped after 1 events") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}

// TestMakeRun: `make run` passes FIELDS= and N= (and OPEN=, CONFIG=) to the
// loader's flags, quoted for the shell; when the loader fails, make reports
// its status (Error 3) and exits 2 itself, as README says. The loader here is
// this test binary (PLUGIN_RUN=), and make is told not to rebuild anything.
func TestMakeRun(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not installed")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	makeArgs := func(extra ...string) []string {
		return append([]string{"-C", modRoot, "--no-print-directory", "-o", "libdocker.so", "-o", exe, "run", "PLUGIN_RUN=" + exe}, extra...)
	}
	makeCmd := func(args ...string) *exec.Cmd {
		cmd := exec.Command("make", args...)
		cmd.Env = append(makeEnv(), "PLUGIN_RUN_MAIN=1")
		return cmd
	}
	out, err := makeCmd(makeArgs("-n", "FIELDS=docker.type,docker.attributes[it's]", "N=5", `CONFIG={"logLevel":"info"}`, "OPEN=file:///tmp/x y.jsonl")...).CombinedOutput()
	if err != nil {
		t.Fatalf("make -n run: %v\n%s", err, out)
	}
	recipe := strings.TrimSpace(string(out))
	for _, want := range []string{
		exe + " -so ./libdocker.so",
		`-open 'file:///tmp/x y.jsonl'`,
		`-config '{"logLevel":"info"}'`,
		`-fields 'docker.type,docker.attributes[it'\''s]'`,
		`-n '5'`,
	} {
		if !strings.Contains(recipe, want) {
			t.Errorf("make -n run: no %s in\n%s", want, recipe)
		}
	}
	out, _ = makeCmd(makeArgs("-n")...).CombinedOutput()
	if strings.Contains(string(out), "-fields") || strings.Contains(string(out), " -n ") {
		t.Errorf("make -n run without FIELDS/N passes them anyway:\n%s", out)
	}

	// The real run, against a daemon that cannot answer.
	if _, err := os.Stat(filepath.Join(modRoot, "libdocker.so")); err != nil {
		t.Skipf("no libdocker.so in the checkout (run make first): %v", err)
	}
	out, err = makeCmd(makeArgs("OPEN=unix:///nonexistent/docker.sock")...).CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 {
		t.Fatalf("make run with no daemon: %v, want make's exit status 2\n%s", err, out)
	}
	if !strings.Contains(string(out), "is not reachable") || !strings.Contains(string(out), "Error 3") {
		t.Errorf("make run with no daemon: want the daemon's error and make's Error 3:\n%s", out)
	}
	readme, err := os.ReadFile(filepath.Join(modRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "`Error 3`") || !strings.Contains(string(readme), "exits with status 2") {
		t.Error("README does not say that make run reports Error 3 and exits with status 2")
	}
}

// makeEnv is the environment for a make run by a test: without the
// variables of the make that may be running the tests (make test), whose
// flags and jobserver are not the nested make's.
func makeEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "FIELDS", "N", "OPEN", "CONFIG":
			continue
		}
		env = append(env, kv)
	}
	return env
}
