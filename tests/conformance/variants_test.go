package conformance

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// variant is one build of testdata/ctest.c: -DV_<name> breaks exactly one
// rule, and exactly the check that enforces it must FAIL.
type variant struct {
	name string
	fail string // the one check that must FAIL ("" for none)
	// For a crash or a hang: the signal ("hang" for the watchdog) and a
	// piece of the last call the report must name.
	crash, call string
	// Checks expected at WARN or INFO (best-practice variants), besides
	// what the baseline gives.
	warn, info []string
}

var variants = []variant{
	{name: ""}, // the baseline passes everything
	{name: "MISSING_CONTACT", fail: "symbols.required", warn: []string{"info.naming"}},
	{name: "API_GARBAGE", fail: "api-version.parse"},
	{name: "API_NEWER", fail: "api-version.compatible"},
	{name: "VERSION_BAD", fail: "version.parse"},
	{name: "NO_CLOSE", fail: "capabilities"},
	{name: "NULL_SOURCE", fail: "source.identity", warn: []string{"info.naming"}},
	{name: "SYSCALL_SOURCE", fail: "source.identity"},
	{name: "FIELD_BAD_TYPE", fail: "fields.schema"},
	{name: "CRASH_GET_FIELDS", fail: "fields.schema", crash: "SIGSEGV", call: "plugin_get_fields"},
	{name: "FIELD_ARG_KIND", fail: "fields.schema"},
	{name: "FIELD_EVT_OVERLAP", fail: "fields.overlap", warn: []string{"fields.class"}},
	{name: "EXTRACT_SOURCES_BAD", fail: "extract-sources.json"},
	{name: "SCHEMA_NOT_OBJECT", fail: "init-schema.json"},
	{name: "INIT_RC_UNSET", fail: "init"},
	{name: "INIT_CRASH_EMPTY", fail: "init.other-configs", crash: "SIGSEGV", call: `plugin_init("{}")`},
	{name: "OPEN_PARAMS_BAD", fail: "open-params.list"},
	{name: "CRASH_LIST_OPEN", fail: "open-params.list", crash: "SIGSEGV", call: "plugin_list_open_params"},
	{name: "OPEN_FAILS", fail: "open"},
	{name: "CLOSE_NULL_CRASH", fail: "open.bad-params", crash: "SIGSEGV", call: "plugin_close(state, 0x0)"},
	{name: "BATCH_EMPTY_SUCCESS", fail: "next-batch.contract"},
	{name: "NEVTS_UNSET", fail: "next-batch.contract"},
	{name: "EOF_NOT_STICKY", fail: "next-batch.eof"},
	{name: "SLOW_CALL", fail: "next-batch.blocking"},
	{name: "HANG", fail: "next-batch.blocking", crash: "hang", call: "plugin_next_batch"},
	{name: "WRONG_EVENT_TYPE", fail: "events.type"},
	{name: "WRONG_PLUGIN_ID", fail: "events.plugin-id"},
	{name: "BAD_LEN", fail: "events.length"},
	{name: "READONLY_EVENTS", fail: "events.writable", crash: "SIGSEGV", call: "in-place write"},
	{name: "NULL_STRING", fail: "extract.values"},
	{name: "WRONG_VALUE_TYPE", fail: "extract.values"},
	{name: "LIST_FOR_SCALAR", fail: "extract.values"},
	{name: "RES_LEN_UNSET", fail: "extract.values"},
	{name: "CRASH_EMPTY_KEY", fail: "extract.args", crash: "SIGSEGV", call: `plugin_extract_fields(ctest.attr[""])`},
	{name: "CRASH_HOSTILE", fail: "extract.hostile", crash: "SIGSEGV", call: "plugin_extract_fields(ctest.n)"},
	{name: "BAD_EVTSTR", fail: "event-to-string"},
	{name: "PROGRESS_OVER", fail: "progress"},
	{name: "METRIC_NULL_NAME", fail: "metrics"},
	{name: "METRICS_RACE_CRASH", fail: "metrics.concurrent", crash: "SIGSEGV", call: "plugin_get_metrics on a second thread"},
	{name: "LEAK_FD", fail: "lifecycle.open-close"},
	{name: "LEAK_THREAD", fail: "lifecycle.init-destroy"},
	{name: "LASTERR_BAD", fail: "last-error"},
	// Best practices only: WARN or INFO, never FAIL.
	{name: "CAPITAL_FIELDS", warn: []string{"fields.naming"}},
	{name: "NO_SCHEMA", info: []string{"init-schema.docs"}},
	{name: "SCHEMA_UNDOCUMENTED", warn: []string{"init-schema.docs"}},
}

// variantOpts keep the C variants quick: SLOW_CALL sleeps 1.5 s in a call,
// beyond this 1 s bound; HANG never returns and the watchdog kills it at
// CallBound+Grace.
func variantOpts(so string) Options {
	return Options{Plugin: so, CallBound: time.Second, Grace: 4 * time.Second, ConcurrentTime: 200 * time.Millisecond}
}

// buildCTest compiles testdata/ctest.c with -DV_<name> (none for "") with
// the system C compiler ($CC, else cc).
func buildCTest(t *testing.T, dir, name string) string {
	t.Helper()
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "cc"
	}
	abi, err := filepath.Abs("../../abi")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "libctest"+strings.ToLower(name)+".so")
	args := []string{"-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-I" + abi, "-o", out, "testdata/ctest.c", "-lpthread"}
	if name != "" {
		args = append(args, "-DV_"+name)
	}
	if b, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", cc, strings.Join(args, " "), err, b)
	}
	return out
}

// TestCVariants proves that each FAIL check can fail, alone: the baseline
// build passes every check; each violation is reported by exactly its
// check, crashes and hangs with their signal and last call; best-practice
// violations give WARN or INFO and no FAIL.
func TestCVariants(t *testing.T) {
	dir := t.TempDir()
	base := map[string]Status{}
	covered := map[string]bool{}
	for _, v := range variants {
		covered[v.fail] = true
	}
	// Every FAIL check of the catalog has a variant that fails it.
	for _, c := range Catalog {
		if c.Level == Fail && c.ID != "load" && !covered[c.ID] {
			t.Errorf("no C variant fails check %s", c.ID)
		}
	}
	t.Run("baseline", func(t *testing.T) {
		rep := runVariant(t, dir, variants[0])
		for _, r := range rep.Results {
			base[r.ID] = r.Status
			if r.Status == Skip && r.Level == Fail {
				t.Errorf("baseline: FAIL check %s skipped: %v", r.ID, r.Details)
			}
		}
	})
	for _, v := range variants[1:] {
		v := v
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			rep := runVariant(t, dir, v)
			for _, w := range v.warn {
				if s := rep.Result(w).Status; s != Warn {
					t.Errorf("%s: %s, want WARN: %v", w, s, rep.Result(w).Details)
				}
			}
			for _, w := range v.info {
				if s := rep.Result(w).Status; s != Info {
					t.Errorf("%s: %s, want INFO: %v", w, s, rep.Result(w).Details)
				}
			}
			for _, r := range rep.Results {
				if r.Status == Warn && !contains(v.warn, r.ID) && base[r.ID] != Warn {
					t.Errorf("unexpected WARN %s: %v", r.ID, r.Details)
				}
			}
		})
	}
}

// runVariant builds and runs one variant and checks its FAIL set.
func runVariant(t *testing.T, dir string, v variant) *Report {
	t.Helper()
	so := buildCTest(t, dir, v.name)
	rep, err := Run(variantOpts(so))
	if err != nil {
		t.Fatal(err)
	}
	fails := rep.IDs(Fail)
	want := []string{}
	if v.fail != "" {
		want = []string{v.fail}
	}
	sort.Strings(want)
	if strings.Join(fails, ",") != strings.Join(want, ",") {
		for _, id := range fails {
			r := rep.Result(id)
			t.Logf("FAIL %s: %v %v", id, r.Details, r.Crash)
		}
		t.Fatalf("FAIL checks %v, want %v", fails, want)
	}
	// A restart after a crash or a hang goes on with what remains: every
	// check ends with a result or a skip that says why.
	for _, r := range rep.Results {
		if r.Status == Skip && (len(r.Details) == 0 || r.Details[0] == "not run") {
			t.Errorf("%s was not run, with no reason", r.ID)
		}
	}
	if v.fail == "" {
		return rep
	}
	r := rep.Result(v.fail)
	if len(r.Details) == 0 && r.Crash == nil {
		t.Errorf("%s failed without a detail", v.fail)
	}
	switch {
	case v.crash == "" && r.Crash != nil:
		t.Errorf("%s: unexpected crash %s", v.fail, r.Crash)
	case v.crash == "":
	case r.Crash == nil:
		t.Errorf("%s: want a %s, got details %v", v.fail, v.crash, r.Details)
	case v.crash == "hang" && !r.Crash.Hang, v.crash != "hang" && r.Crash.Signal != v.crash:
		t.Errorf("%s: crash %s, want %s", v.fail, r.Crash, v.crash)
	case !strings.Contains(r.Crash.LastCall, v.call):
		t.Errorf("%s: last call %q, want it to name %q", v.fail, r.Crash.LastCall, v.call)
	}
	if testing.Verbose() {
		fmt.Printf("%-20s %-24s %s\n", v.name, v.fail, firstDetail(r))
	}
	return rep
}

func firstDetail(r Result) string {
	if r.Crash != nil {
		return "crash: " + r.Crash.String()
	}
	if len(r.Details) > 0 {
		return r.Details[0]
	}
	return ""
}
