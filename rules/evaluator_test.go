package rules

import (
	"strings"
	"testing"
)

// The evaluator must be right for the rules tests to mean anything: these tables
// pin its parsing, precedence, list and macro expansion, operators and the
// missing-value semantics on real events (parsed and extracted by the plugin's
// code), and make sure what must not compile does not.

var (
	evKill9       = `{"Type":"container","Action":"kill","Actor":{"ID":"aaaa1111","Attributes":{"com.docker.compose.project":"shop","image":"nginx:1.27","name":"web","signal":"9","weird key":"a b"}},"scope":"local","time":1760000000,"timeNano":1760000000000000000}`
	evDie137      = `{"status":"die","id":"bbbb2222","from":"alpine:3.20","Type":"container","Action":"die","Actor":{"ID":"bbbb2222","Attributes":{"exitCode":"137","image":"alpine:3.20","name":"worker"}},"scope":"local","time":1760000001,"timeNano":1760000001000000000}`
	evPull        = `{"Type":"image","Action":"pull","Actor":{"ID":"registry.example.com:5000/team/app:1.4","Attributes":{"name":"registry.example.com:5000/team/app"}},"scope":"local","time":1760000002,"timeNano":1760000002000000000}`
	evExecSh      = `{"Type":"container","Action":"exec_start: sh ","Actor":{"ID":"aaaa1111","Attributes":{"execID":"cccc3333","image":"nginx:1.27","name":"web"}},"scope":"local","time":1760000003,"timeNano":1760000003000000000}`
	evExecBinBash = `{"Type":"container","Action":"exec_start: /bin/bash ","Actor":{"ID":"aaaa1111","Attributes":{"execID":"cccc4444","image":"nginx:1.27","name":"web"}},"scope":"local","time":1760000005,"timeNano":1760000005000000000}`
	evExecBashC   = `{"Type":"container","Action":"exec_start: bash -c cat /etc/shadow","Actor":{"ID":"aaaa1111","Attributes":{"execID":"cccc5555","image":"nginx:1.27","name":"web"}},"scope":"local","time":1760000006,"timeNano":1760000006000000000}`
	evExecSSH     = `{"Type":"container","Action":"exec_start: ssh host","Actor":{"ID":"aaaa1111","Attributes":{"execID":"cccc6666","image":"nginx:1.27","name":"web"}},"scope":"local","time":1760000007,"timeNano":1760000007000000000}`
	evExecCatSh   = `{"Type":"container","Action":"exec_start: cat /bin/sh","Actor":{"ID":"aaaa1111","Attributes":{"execID":"cccc7777","image":"nginx:1.27","name":"web"}},"scope":"local","time":1760000008,"timeNano":1760000008000000000}`
	evExecDie     = `{"Type":"container","Action":"exec_die","Actor":{"ID":"aaaa1111","Attributes":{"execID":"cccc3333","exitCode":"0","image":"nginx:1.27","name":"web"}},"scope":"local","time":1760000009,"timeNano":1760000009000000000}`
	// Recorded from Podman 4.3 (tests/testdata/engines).
	evPodman = `{"status":"die","id":"0927f37df9dec85559ce0991934e46178ce70c31dc0922b888977501833e80a1","from":"docker.io/library/falco-docker-plugin-testbox:b8d830751741-6b7adbd0719f","Type":"container","Action":"die","Actor":{"ID":"0927f37df9dec85559ce0991934e46178ce70c31dc0922b888977501833e80a1","Attributes":{"containerExitCode":"137","exitCode":"137","falco-docker-plugin-test":"000recorded0","image":"docker.io/library/falco-docker-plugin-testbox:b8d830751741-6b7adbd0719f","name":"fdp-c-000recorded0","podId":""}},"scope":"local","time":1796064587,"timeNano":1796064587429736877}`
)

func testEnv() *env {
	return newEnv(
		map[string][]string{
			"shells":      {"sh", "bash"},
			"inner_names": {"web"},
			"names":       {"inner_names", "db"},
			"regs":        {"docker.io", "ghcr.io", "*.example.com"},
			"nums":        {"137", "139"},
			"empty":       {},
			"spaced":      {"sh ", `"bash "`},
			"loop_a":      {"loop_b"},
			"loop_b":      {"loop_a"},
		},
		map[string]string{
			"is_container": "docker.type = container",
			"is_kill":      "(docker.action.name = kill)",
			"chain":        "is_container and is_kill",
			"self_loop":    "self_loop or docker.type = x",
			"bad_body":     "docker.type >",
		},
	)
}

func TestEvaluatorTable(t *testing.T) {
	cases := []struct {
		cond  string
		event string
		want  bool
	}{
		// equality and types
		{`docker.type = container`, evKill9, true},
		{`docker.type = image`, evKill9, false},
		{`docker.type != image`, evKill9, true},
		{`docker.type == container`, evKill9, true},
		{`docker.type=container`, evKill9, true},
		{`docker.container.signal = 9`, evKill9, true},
		{`docker.container.signal = "9"`, evKill9, true},
		{`docker.container.signal = 09`, evKill9, false}, // a string field compares strings
		{`docker.container.exitcode = 137`, evDie137, true},
		{`docker.container.exitcode = 0x89`, evDie137, true},
		{`docker.container.exitcode > 128`, evDie137, true},
		{`docker.container.exitcode>128`, evDie137, true},
		{`docker.container.exitcode < 137`, evDie137, false},
		{`docker.container.exitcode <= 137`, evDie137, true},
		{`docker.container.exitcode >= 138`, evDie137, false},
		{`docker.container.exitcode != 137`, evDie137, false},
		{`docker.container.exitcode in (1, 137)`, evDie137, true},
		{`docker.container.exitcode in (nums)`, evDie137, true},
		{`docker.container.exitcode in (nums)`, evPodman, true}, // Podman's containerExitCode, normalised
		{`docker.action.name = die and docker.status = die`, evPodman, true},
		{`docker.time > 1760000000000000000`, evDie137, true},

		// a missing value fails every comparison; not inverts that
		{`docker.container.exitcode = 137`, evKill9, false},
		{`docker.container.exitcode != 137`, evKill9, false},
		{`not docker.container.exitcode = 137`, evKill9, true},
		{`docker.container.exitcode exists`, evKill9, false},
		{`docker.container.exitcode exists`, evDie137, true},
		{`docker.image.name exists`, evKill9, false},
		{`docker.image.name exists`, evPull, true},
		{`docker.attributes[missing] exists`, evKill9, false},
		{`not docker.attributes[missing] exists`, evKill9, true},
		{`docker.exec.cmdline startswith sh`, evKill9, false},

		// precedence: not > and > or
		{`docker.type = container or docker.type = image and docker.action.name = die`, evKill9, true},
		{`(docker.type = container or docker.type = image) and docker.action.name = die`, evKill9, false},
		{`not docker.type = container and docker.action.name = die`, evKill9, false},
		{`not (docker.type = container and docker.action.name = die)`, evKill9, true},
		{`not(docker.type = image)`, evKill9, true},
		{`not not docker.type = container`, evKill9, true},
		{"docker.type\n  = container\n and\tdocker.action.name = kill", evKill9, true},
		{`((docker.type = container))`, evKill9, true},

		// macros
		{`is_container and is_kill`, evKill9, true},
		{`chain`, evKill9, true},
		{`chain`, evDie137, false},
		{`not is_kill`, evKill9, false},
		{`(is_kill)`, evKill9, true},

		// lists
		{`docker.container.name in (names)`, evKill9, true}, // nested list
		{`docker.container.name in (db, inner_names)`, evKill9, true},
		{`docker.container.name in (db, "inner_names")`, evKill9, false}, // quoted: not a list name
		{`docker.container.name in (empty)`, evKill9, false},
		{`not docker.container.name in (empty)`, evKill9, true},
		{`docker.container.name in ()`, evKill9, false},
		// the daemon's "exec_start: sh ": command line and arguments without its
		// trailing space, action and status as sent
		{`docker.exec.cmdline in (shells)`, evExecSh, true},
		{`docker.exec.cmdline in (spaced)`, evExecSh, false},
		{`docker.exec.cmdline in ("sh ")`, evExecSh, false},
		{`docker.exec.cmdline glob "sh *"`, evExecSh, false},
		{`docker.exec.cmdline = "sh "`, evExecSh, false},
		{`docker.exec.cmdline = sh`, evExecSh, true},
		{`docker.action.args = sh`, evExecSh, true},
		{`docker.action = "exec_start: sh "`, evExecSh, true},
		{`docker.status = "exec_start: sh "`, evExecSh, true},
		{`docker.action.name = exec_start`, evExecSh, true},
		{`docker.exec.exe = sh`, evExecSh, true},
		{`docker.exec.exe in (shells)`, evExecSh, true},
		{`docker.exec.exe in (spaced)`, evExecSh, false},
		{`docker.exec.exe exists`, evKill9, false}, // not an exec
		{`docker.exec.exe in (shells)`, evExecBinBash, false},
		{`docker.exec.exe = /bin/bash`, evExecBinBash, true},
		{`docker.exec.cmdline = /bin/bash`, evExecBinBash, true},
		{`docker.exec.exe endswith /bash`, evExecBinBash, true},
		{`docker.exec.exe = bash`, evExecBashC, true},
		{`docker.exec.cmdline = "bash -c cat /etc/shadow"`, evExecBashC, true},
		{`docker.exec.exe in (shells)`, evExecSSH, false}, // ssh is not sh
		{`docker.exec.exe = ssh`, evExecSSH, true},
		{`docker.exec.cmdline = "ssh host"`, evExecSSH, true},
		{`docker.exec.exe in (shells, "/bin/sh")`, evExecCatSh, false}, // a shell as an argument
		{`docker.exec.exe = cat`, evExecCatSh, true},
		{`docker.exec.cmdline endswith /bin/sh`, evExecCatSh, true},
		{`docker.exec.exe exists`, evExecDie, false}, // exec_die carries no command line
		{`docker.exec.cmdline exists`, evExecDie, false},
		{`docker.exec.id exists`, evExecDie, true},

		// string operators
		{`docker.container.image startswith nginx`, evKill9, true},
		{`docker.container.image startswith alpine`, evKill9, false},
		{`docker.container.image endswith ":1.27"`, evKill9, true},
		{`docker.container.image contains "x:1"`, evKill9, true},
		{`docker.container.image icontains NGINX`, evKill9, true},
		{`docker.container.image contains NGINX`, evKill9, false},
		{`docker.container.image glob "nginx:*"`, evKill9, true},
		{`docker.container.image glob nginx`, evKill9, false},
		{`docker.container.image glob "*[.:]*"`, evKill9, true},
		{`docker.container.image glob "ngin?:1.2[0-9]"`, evKill9, true},
		{`docker.container.image glob "ngin[!a]:*"`, evKill9, true},
		{`docker.container.image glob "ngin[!x]:*"`, evKill9, false},
		{`docker.container.image iglob "NGINX:*"`, evKill9, true},
		{`docker.attributes[com.docker.compose.project] = shop`, evKill9, true},
		{`docker.attributes["weird key"] = "a b"`, evKill9, true},
		{`docker.attributes['weird key'] = 'a b'`, evKill9, true},

		// pmatch: whole components, glob components
		{`docker.image.name pmatch (registry.example.com:5000)`, evPull, true},
		{`docker.image.name pmatch (registry.example.com)`, evPull, false},
		{`docker.image.name pmatch (registry.example.com:5000/team)`, evPull, true},
		{`docker.image.name pmatch (registry.example.com:5000/tea)`, evPull, false},
		{`docker.image.name pmatch (registry.example.com:5000/team/app/more)`, evPull, false},
		{`docker.image.name pmatch ("*.example.com:5000")`, evPull, true},
		{`docker.image.name pmatch (regs)`, evPull, false},
		{`docker.image.name pmatch (docker.io, registry.example.com:5000)`, evPull, true},
		{`docker.image.name pmatch (empty)`, evPull, false},
	}
	for _, c := range cases {
		e := testEnv()
		x, err := e.compile(c.cond)
		if err != nil {
			t.Errorf("%q: %v", c.cond, err)
			continue
		}
		got, err := x.eval(newEventSource([]byte(c.event)))
		if err != nil {
			t.Errorf("%q: eval: %v", c.cond, err)
			continue
		}
		if got != c.want {
			t.Errorf("%q on %.60s...: got %v, want %v", c.cond, c.event, got, c.want)
		}
	}
}

func TestEvaluatorRejects(t *testing.T) {
	cases := []struct{ cond, err string }{
		{`docker.nope = 1`, "unknown field"},
		{`evt.num > 0`, "unknown field"},
		{`docker.type > 1`, "needs a numeric field"},
		{`docker.container.exitcode startswith 1`, "needs a string field"},
		{`docker.container.exitcode pmatch (1)`, "needs a string field"},
		{`docker.container.exitcode glob "1*"`, "needs a string field"},
		{`docker.container.exitcode = abc`, "not a number"},
		{`docker.container.exitcode in (1, two)`, "not a number"},
		{`docker.attributes = x`, "requires an argument"},
		{`docker.type[x] = y`, "takes no argument"},
		{`docker.attributes[] = x`, "empty argument"},
		{`undefined_macro`, "undefined macro"},
		{`self_loop`, "references itself"},
		{`bad_body`, "expected a value"},
		{`docker.container.name in (loop_a)`, "references itself"},
		{`(docker.type = container`, "expected ')'"},
		{`docker.type = container)`, "unexpected"},
		{`docker.type = container and`, "unexpected"},
		{`docker.type = container and `, "expected a condition"},
		{`and docker.type = container`, "unexpected"},
		{`docker.type container`, "expected an operator"},
		{`docker.type in shells`, "expected '('"},
		{`docker.type in (a b)`, "expected ','"},
		{`docker.type = "unterminated`, "unterminated string"},
		{`docker.type regex ".*"`, "expected an operator"},
		{`docker.type =`, "expected a value"},
		{``, "expected a condition"},
		{strings.Repeat("(", 300) + "docker.type = x" + strings.Repeat(")", 300), "nesting"},
	}
	for _, c := range cases {
		_, err := testEnv().compile(c.cond)
		if err == nil {
			t.Errorf("%q compiled, want an error containing %q", c.cond, c.err)
			continue
		}
		if !strings.Contains(err.Error(), c.err) {
			t.Errorf("%q: error %q, want it to contain %q", c.cond, err, c.err)
		}
	}
}

func TestFnmatch(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "a/b c", true}, // '*' crosses '/' and spaces (no FNM_PATHNAME)
		{"sh *", "sh ", true},
		{"sh *", "sh -c id", true},
		{"sh *", "ssh host", false},
		{"sh *", "sh", false},
		{"/*/sh *", "/bin/sh ", true},
		{"/*/sh *", "/usr/bin/sh -i", true},
		{"/*/sh *", "/usr/bin/ssh host", false},
		{"/*/sh *", "/bin/bash -c x", false},
		{"*[.:]*/*", "nginx", false},
		{"*[.:]*/*", "bitnami/redis", false},
		{"*[.:]*/*", "library/my.app", false},
		{"*[.:]*/*", "ghcr.io/org/app", true},
		{"*[.:]*/*", "localhost:5000/x", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"[abc]x", "bx", true},
		{"[!abc]x", "bx", false},
		{"[^abc]x", "dx", true},
		{"[a-c]", "b", true},
		{"[a-c]", "d", false},
		{"[]]", "]", true},
		{"[!]]", "a", true},
		{"[a-]", "-", true},
		{`\*`, "*", true},
		{`\*`, "a", false},
		{"[", "[", true}, // unterminated bracket: literal
		{"a*b*c", "a-b-b-c", true},
		{"a*b*c", "a-b-b-d", false},
	}
	for _, c := range cases {
		if got := fnmatch(c.pattern, c.s); got != c.want {
			t.Errorf("fnmatch(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

func TestPathPrefixMatch(t *testing.T) {
	cases := []struct {
		prefix, s string
		want      bool
	}{
		{"/var/run", "/var/run/docker", true}, // libsinsp's own examples
		{"/var/run", "/boot", false},
		{"/var/run", "/var/lib/messages", false},
		{"/var/run", "/var", false},
		{"/", "/anything", true},
		{"docker.io", "docker.io/library/alpine", true},
		{"docker.io", "docker.io", true},
		{"docker.io", "docker.iox/a", false},
		{"ghcr.io", "ghcr.io.evil.example/org/app", false},
		{"ghcr.io/org", "ghcr.io/org/app", true},
		{"ghcr.io/org", "ghcr.io/organisation/app", false},
		{"*.dkr.ecr.eu-west-1.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app", true},
		{"registry.example.com:5000", "registry.example.com:5000/team/api", true},
		{"falcosecurity", "falcosecurity/falco:0.41.0", true},
		{"falcosecurity", "myorg/falcosecurity", false},
	}
	for _, c := range cases {
		if got := pathPrefixMatch(c.prefix, c.s); got != c.want {
			t.Errorf("pmatch(%q, %q) = %v, want %v", c.prefix, c.s, got, c.want)
		}
	}
}

func TestQuotedStrings(t *testing.T) {
	cases := map[string]string{
		`"a b"`:       "a b",
		`'a b'`:       "a b",
		`"a\"b"`:      `a"b`,
		`'it\'s'`:     "it's",
		`"tab\there"`: "tab\there",
		`"back\\"`:    `back\`,
		`"\d"`:        `\d`,
	}
	for in, want := range cases {
		got, err := (&parser{s: in}).quoted()
		if err != nil || got != want {
			t.Errorf("quoted(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
	if got := unquoteItem(`"bash "`); got != "bash " {
		t.Errorf("unquoteItem = %q", got)
	}
	if got := unquoteItem(`plain`); got != "plain" {
		t.Errorf("unquoteItem = %q", got)
	}
}

// TestEvaluatorNotVacuous: no compiled rule is trivially true (each is false on an
// event of a type none of them looks at), a truncated condition does not compile,
// and a misspelt key in a rules file is refused rather than ignored.
func TestEvaluatorNotVacuous(t *testing.T) {
	rs := loadRules(t)
	rules, _, err := rs.compile(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	unrelated := `{"Type":"node","Action":"update","Actor":{"ID":"q1w2e3r4t5y6","Attributes":{"name":"node-1","state.new":"ready","state.old":"down"}},"scope":"swarm","time":1760000000,"timeNano":1760000000000000000}`
	for _, r := range rules {
		got, err := r.cond.eval(newEventSource([]byte(unrelated)))
		if err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
		if got {
			t.Errorf("rule %q matches a swarm node update", r.Name)
		}
	}
	broken, err := parseRuleset([]byte("- rule: x\n  desc: d\n  condition: docker.type = container and\n  output: o %docker.type\n  priority: DEBUG\n  source: docker\n  tags: [docker]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := broken.compile(nil, nil); err == nil {
		t.Error("a truncated condition compiled")
	}
	if _, err := parseRuleset([]byte("- rule: x\n  desc: d\n  conditon: docker.type = container\n")); err == nil {
		t.Error("a misspelt key was accepted")
	}
}
