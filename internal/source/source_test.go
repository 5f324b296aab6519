package source

import (
	"strings"
	"testing"

	"github.com/falco-docker/docker-plugin/internal/config"
	"github.com/falco-docker/docker-plugin/internal/metrics"
	"github.com/falco-docker/docker-plugin/internal/source/sourcetest"
)

func TestRedactUser(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"tcp://user:pw@host:1", "tcp://***@host:1"},
		{"tcp://a@b@host:1", "tcp://***@host:1"},
		{"https://user@host/x@y", "https://***@y"},                                     // over-redacted: safe
		{"file:///data/user@host/events.jsonl", "file:///data/user@host/events.jsonl"}, // a path, not a user
		{"file://u:pw@localhost/x", "file://***@localhost/x"},
		{"tcp://host:1", "tcp://host:1"},
		// A password holding '/', '?' or '#' ends the authority early for a
		// URL parser; the whole of it is still user information.
		{"tcp://admin:hunter2/x@h:1", "tcp://***@h:1"},
		{"tcp://admin:hun?ter2@h:1", "tcp://***@h:1"},
		{"tcp://admin:hun#ter2@h:1", "tcp://***@h:1"},
		{"file://admin:hunter2/x@h/y.jsonl", "file://***/x@h/y.jsonl"},
		// Without a scheme, user@host still carries a user (and password).
		{"admin:hunter2@10.0.0.1", "***@10.0.0.1"},
		{"no scheme user@host", "***@host"},
		{"", ""},
	} {
		if got := redactUser(tc.in); got != tc.want {
			t.Errorf("redactUser(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestOpenRefusalsShowParamsOnce: every refusal of open params names them
// once, shortened, and never with their credentials.
func TestOpenRefusalsShowParamsOnce(t *testing.T) {
	env := Env{Config: config.Default(), Counters: &metrics.Counters{}, Log: &sourcetest.Log{}, SetLastError: func(error) {}}
	long := strings.Repeat("p", 1000)
	for _, tc := range []struct{ params, want string }{
		{"file://user:hunter2@host/x.jsonl", "file URI host must be empty"},
		{"file://user:hunter2%zz@host/x.jsonl", "malformed URI: credentials in the URL"},
		{"file:///x.jsonl%zz", `malformed URI: invalid URL escape "%zz"`},
		{"file:///x.jsonl?" + long, "must not have a query"},
		{"file://" + long + "/x.jsonl", `got "` + long[:128] + `..."`},
		{"gopher://user:hunter2@host/", `unknown scheme "gopher"`},
		{long + "://x", "unknown scheme"},
		{"user@" + long, "expected file:///abs/path.jsonl"},
		{"user:hunter2@" + long, "expected file:///abs/path.jsonl"},
		{"tcp://user:hunter2@127.0.0.1:1%zz", "malformed: credentials in the URL"},
		{"tcp://admin:hunter2/x@h:1", "tcp://***@h:1"},
		{"admin:hunter2@10.0.0.1", "***@10.0.0.1"},
		{"file://admin:hunter2/x@h/y.jsonl", "file://***"},
		{"file://admin:hunter2@h/y.jsonl", "file://***@h"},
	} {
		src, err := Open(tc.params, env)
		if err == nil {
			src.Close()
			t.Errorf("Open(%.60q) accepted", tc.params)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.want) {
			t.Errorf("Open(%.60q): %v, want %q", tc.params, err, tc.want)
		}
		if strings.Contains(msg, "hunter2") {
			t.Errorf("Open(%.60q): error echoes a password: %v", tc.params, err)
		}
		if len(msg) > 600 {
			t.Errorf("Open(%.60q): error of %d bytes: %.300s...", tc.params, len(msg), msg)
		}
	}
}
