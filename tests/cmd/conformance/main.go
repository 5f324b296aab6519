// Command conformance runs the plugin conformance suite (tests/conformance)
// on any Falco plugin .so and prints its report as a table and, with -json,
// as JSON. It exits 1 when a check FAILs, 2 when the suite cannot run.
//
//	go run ./tests/cmd/conformance -plugin /path/libfoo.so [-init CONFIG] [-open PARAMS] [-json report.json] [-v]
//
// HARNESS_INIT and HARNESS_OPEN are the defaults of -init and -open: unset,
// the init config is built from the defaults of the plugin's init schema
// and the open params are "" (Falco's defaults).
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/falco-docker/docker-plugin/tests/conformance"
)

func main() {
	// The suite runs the plugin in children re-executing this program.
	conformance.ChildMain()

	var (
		plugin    = flag.String("plugin", "", "path of the plugin .so (required)")
		jsonOut   = flag.String("json", "", "also write the report as JSON to this file (- for stdout, after the table)")
		verbose   = flag.Bool("v", false, "every detail, and the rule and its source for each WARN and FAIL")
		callBound = flag.Duration("call-bound", 0, "longest a plugin call may block (default 5s)")
		loopTime  = flag.Duration("loop-time", 0, "time bound of the next_batch loop (default 10s)")
		maxEvents = flag.Int("max-events", 0, "event bound of the next_batch loop (default 2000)")
		stderr    = flag.Bool("stderr", false, "pass the plugin's stderr through (default: kept for crash reports only)")
	)
	var initCfg, openParams optString
	if v, ok := os.LookupEnv("HARNESS_INIT"); ok {
		initCfg.set(v)
	}
	if v, ok := os.LookupEnv("HARNESS_OPEN"); ok {
		openParams.set(v)
	}
	flag.Var(&initCfg, "init", "init config (default: $HARNESS_INIT, else the init schema's defaults)")
	flag.Var(&openParams, "open", "open params (default: $HARNESS_OPEN, else \"\")")
	flag.Parse()
	if *plugin == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	opts := conformance.Options{Plugin: *plugin, InitConfig: initCfg.p, OpenParams: openParams.p,
		CallBound: *callBound, LoopTime: *loopTime, MaxEvents: *maxEvents}
	if *stderr {
		opts.Stderr = os.Stderr
	}
	start := time.Now()
	rep, err := conformance.Run(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	rep.WriteTable(os.Stdout, *verbose)
	fmt.Printf("(%s, %d child process(es))\n", time.Since(start).Round(100*time.Millisecond), rep.Children)
	switch *jsonOut {
	case "":
	case "-":
		rep.WriteJSON(os.Stdout)
	default:
		f, err := os.Create(*jsonOut)
		if err == nil {
			err = rep.WriteJSON(f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Printf("JSON report: %s\n", *jsonOut)
	}
	if rep.Failed() {
		os.Exit(1)
	}
}

// optString is a string flag that knows whether it was set.
type optString struct{ p *string }

func (o *optString) set(v string) { o.p = &v }

func (o *optString) String() string {
	if o == nil || o.p == nil {
		return ""
	}
	return *o.p
}

func (o *optString) Set(v string) error {
	o.set(v)
	return nil
}
