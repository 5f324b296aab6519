package logging

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/falco-docker/docker-plugin/internal/config"
)

var at = time.Date(2024, 5, 1, 10, 58, 56, 370816183, time.UTC)

func newFixed(level Level) (*Logger, *bytes.Buffer) {
	var b bytes.Buffer
	l := New(&b, level)
	l.now = func() time.Time { return at }
	return l, &b
}

// logAt calls the method of the given level.
func logAt(l *Logger, level Level, format string, args ...any) {
	switch level {
	case Error:
		l.Errorf(format, args...)
	case Warning:
		l.Warnf(format, args...)
	case Info:
		l.Infof(format, args...)
	case Debug:
		l.Debugf(format, args...)
	}
}

func TestLevelFiltering(t *testing.T) {
	// written[logger level] lists the message levels that get through.
	written := map[Level][]Level{
		Error:   {Error},
		Warning: {Error, Warning},
		Info:    {Error, Warning, Info},
		Debug:   {Error, Warning, Info, Debug},
	}
	all := []Level{Error, Warning, Info, Debug}
	for lv, want := range written {
		l, b := newFixed(lv)
		for _, m := range all {
			logAt(l, m, "m")
		}
		var got []string
		for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
			if line != "" {
				got = append(got, strings.TrimSuffix(strings.TrimPrefix(line, "2024-05-01T10:58:56Z [docker] "), ": m"))
			}
		}
		var wantNames []string
		for _, w := range want {
			wantNames = append(wantNames, w.String())
		}
		if strings.Join(got, ",") != strings.Join(wantNames, ",") {
			t.Errorf("level %s: wrote %v, want %v", lv, got, wantNames)
		}
		for _, m := range all {
			if l.Enabled(m) != (m <= lv) {
				t.Errorf("level %s: Enabled(%s) = %v", lv, m, l.Enabled(m))
			}
		}
	}
}

func TestLineFormat(t *testing.T) {
	cases := []struct {
		level  Level
		format string
		args   []any
		want   string
	}{
		{Error, "open %s: %v", []any{"unix:///var/run/docker.sock", fmt.Errorf("connection refused")}, "2024-05-01T10:58:56Z [docker] error: open unix:///var/run/docker.sock: connection refused\n"},
		{Warning, "dropped %d events (queue full)", []any{12}, "2024-05-01T10:58:56Z [docker] warning: dropped 12 events (queue full)\n"},
		{Info, "serving pprof on http://%s/debug/pprof/", []any{"127.0.0.1:6061"}, "2024-05-01T10:58:56Z [docker] info: serving pprof on http://127.0.0.1:6061/debug/pprof/\n"},
		{Debug, "line %q", []any{"x\ny"}, "2024-05-01T10:58:56Z [docker] debug: line \"x\\ny\"\n"},
		{Warning, "100%% sure", nil, "2024-05-01T10:58:56Z [docker] warning: 100% sure\n"},
		{Warning, "", nil, "2024-05-01T10:58:56Z [docker] warning: \n"},
	}
	for _, tc := range cases {
		l, b := newFixed(Debug)
		logAt(l, tc.level, tc.format, tc.args...)
		if b.String() != tc.want {
			t.Errorf("got  %q\nwant %q", b.String(), tc.want)
		}
	}
	// The timestamp is the clock's, in its zone.
	l, b := newFixed(Debug)
	l.now = func() time.Time { return at.In(time.FixedZone("CET", 3600)) }
	l.Warnf("x")
	if b.String() != "2024-05-01T11:58:56+01:00 [docker] warning: x\n" {
		t.Errorf("zoned line %q", b.String())
	}
}

func TestSetLevel(t *testing.T) {
	l, b := newFixed(Error)
	l.Infof("hidden")
	l.SetLevel(Info)
	l.Infof("shown")
	l.Debugf("hidden")
	l.SetLevel(Error)
	l.Warnf("hidden")
	if got := b.String(); got != "2024-05-01T10:58:56Z [docker] info: shown\n" {
		t.Errorf("output %q", got)
	}
}

func TestParseLevel(t *testing.T) {
	cases := []struct {
		in   string
		want Level
		ok   bool
	}{
		{"error", Error, true}, {"warning", Warning, true}, {"info", Info, true}, {"debug", Debug, true},
		{"", Warning, false}, {"warn", Warning, false}, {"WARNING", Warning, false}, {"Info", Warning, false},
		{"trace", Warning, false}, {" debug", Warning, false}, {"level(1)", Warning, false},
	}
	for _, tc := range cases {
		got, err := ParseLevel(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), fmt.Sprintf("%q", tc.in)) {
			t.Errorf("ParseLevel(%q) error %q does not name the value", tc.in, err)
		}
	}
}

func TestLevelString(t *testing.T) {
	cases := map[Level]string{Error: "error", Warning: "warning", Info: "info", Debug: "debug", -1: "level(-1)", 4: "level(4)", 1 << 30: "level(1073741824)"}
	for l, want := range cases {
		if got := l.String(); got != want {
			t.Errorf("Level(%d).String() = %q, want %q", int(l), got, want)
		}
	}
}

// Every logLevel the init config accepts is a level here, in the same
// order (most severe first), and the config default is the logger's.
func TestConfigLevels(t *testing.T) {
	if len(config.LogLevels) != 4 {
		t.Fatalf("config.LogLevels = %v", config.LogLevels)
	}
	for i, s := range config.LogLevels {
		l, err := ParseLevel(s)
		if err != nil || int(l) != i {
			t.Errorf("config level %q parses to %v, %v; want %d", s, l, err, i)
		}
	}
	if l, err := ParseLevel(config.Default().LogLevel); err != nil || l != Warning {
		t.Errorf("config default %q parses to %v, %v; want warning", config.Default().LogLevel, l, err)
	}
}

func TestNewNilWriterIsStderr(t *testing.T) {
	if l := New(nil, Error); l.w != os.Stderr {
		t.Errorf("New(nil) writes to %v, want os.Stderr", l.w)
	}
}

// Lines written concurrently never interleave; run with -race, the shared
// bytes.Buffer (not safe by itself) relies on the logger's lock.
func TestConcurrent(t *testing.T) {
	const goroutines, lines = 8, 300
	l, b := newFixed(Debug)
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for n := 0; n < lines; n++ {
				logAt(l, Level(n%4), "g%d n%d %s", g, n, strings.Repeat("x", n%50))
			}
		}(g)
	}
	wg.Wait()
	re := regexp.MustCompile(`^2024-05-01T10:58:56Z \[docker\] (error|warning|info|debug): g\d+ n\d+ x*$`)
	got := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(got) != goroutines*lines {
		t.Fatalf("%d lines, want %d", len(got), goroutines*lines)
	}
	seen := map[string]bool{}
	for _, line := range got {
		if !re.MatchString(line) {
			t.Fatalf("malformed line %q", line)
		}
		seen[line] = true
	}
	if len(seen) != goroutines*lines {
		t.Errorf("%d distinct lines, want %d", len(seen), goroutines*lines)
	}

	// Level changes racing with logging: errors always get through.
	l2, b2 := newFixed(Error)
	stop := make(chan struct{})
	var toggler sync.WaitGroup
	toggler.Add(1)
	go func() {
		defer toggler.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
				l2.SetLevel(Level(i % 4))
				_ = l2.Enabled(Info)
			}
		}
	}()
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for n := 0; n < lines; n++ {
				l2.Errorf("e%d", n)
				l2.Debugf("d%d", n)
			}
		}(g)
	}
	wg.Wait()
	close(stop)
	toggler.Wait()
	if n := strings.Count(b2.String(), "[docker] error: "); n != goroutines*lines {
		t.Errorf("%d error lines, want %d", n, goroutines*lines)
	}
}
