// Command mutate checks that the test suite catches real bugs: it applies
// each deliberate bug of mutations.go, one at a time, to a copy of the
// tree (never to the working tree), runs the suite there, and prints which
// bugs turned it red (caught) and which did not (missed). It exits non-zero
// when a bug survives, an entry no longer applies, or the unmutated copy is
// not green to begin with.
//
//	go run ./tests/cmd/mutate [-only a,b] [-list] [-check] [-full] [-no-baseline] [-keep]
//
// (make mutate). The suite is what make test runs, minus what no mutation
// here needs, with CI=true (the Docker tests must run): the unit tests
// without -race or fuzzing, then the harness against the built
// libdocker.so, not the cgocheck2 rerun. Each step fails fast (the table names the first
// failing tests) unless -full, which runs every test to name all that
// catch the bug. A caught bug costs seconds to a minute, a missed one a
// whole suite run (about a minute here). Logs go to build/mutate/.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

func main() {
	root := flag.String("root", ".", "module root to copy")
	only := flag.String("only", "", "comma-separated mutation names to run (default: all)")
	list := flag.Bool("list", false, "print the mutations and exit")
	check := flag.Bool("check", false, "only check that every mutation applies to the tree")
	noBaseline := flag.Bool("no-baseline", false, "skip the run of the unmutated copy")
	keep := flag.Bool("keep", false, "keep the copy of the tree")
	full := flag.Bool("full", false, "run every test on each mutation (name all that catch it), not only up to the first failure")
	flag.Parse()
	os.Exit(run(*root, *only, *list, *check, *noBaseline, *keep, *full))
}

func run(root, only string, list, check, noBaseline, keep, full bool) int {
	selected, err := selectMutations(mutations, only)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		return 2
	}
	if list {
		for _, m := range selected {
			fmt.Printf("%-24s %s\n%-24s   %s: %q -> %q\n%-24s   caught by: %s\n", m.Name, m.Bug, "", m.File, m.Old, m.New, "", m.Catch)
			if m.Needs != "" {
				fmt.Printf("%-24s   needs: %s\n", "", m.Needs)
			}
		}
		return 0
	}
	root, err = filepath.Abs(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		return 2
	}
	bad := 0
	for _, m := range selected {
		b, err := os.ReadFile(filepath.Join(root, m.File))
		if err == nil {
			_, err = m.apply(b)
		}
		if err != nil {
			fmt.Printf("NOT APPLIED  %s: %v\n", m.Name, err)
			bad++
		}
	}
	if check {
		if bad > 0 {
			return 1
		}
		fmt.Printf("all %d mutations apply\n", len(selected))
		return 0
	}

	work, err := os.MkdirTemp("", "docker-plugin-mutate-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		return 2
	}
	if keep {
		fmt.Println("copy of the tree:", work)
	} else {
		defer os.RemoveAll(work)
	}
	if err := copyTree(root, work); err != nil {
		fmt.Fprintln(os.Stderr, "mutate: copy the tree:", err)
		return 2
	}
	// The copy has no build outputs: the moby v2 dockerd of the engine
	// matrix (make engines) is used from the working tree.
	if os.Getenv("FDP_MOBY_DOCKERD") == "" {
		if p := filepath.Join(root, "build", "engines", "dockerd"); fileExists(p) {
			os.Setenv("FDP_MOBY_DOCKERD", p)
		}
	}
	logs := filepath.Join(root, "build", "mutate")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		return 2
	}

	if !noBaseline {
		fmt.Println("baseline: the suite on the unmutated copy ...")
		r := suite(work, filepath.Join(logs, "baseline.log"), full)
		if r.outcome != passed {
			fmt.Printf("baseline is not green (%s after %s: %s); see %s\n", r.outcome, r.elapsed.Round(time.Second), r.detail, r.log)
			return 2
		}
		fmt.Printf("baseline green in %s\n", r.elapsed.Round(time.Second))
	}

	type row struct {
		m mutation
		r result
	}
	var rows []row
	for _, m := range selected {
		path := filepath.Join(work, m.File)
		orig, err := os.ReadFile(path)
		if err != nil {
			rows = append(rows, row{m, result{outcome: notApplied, detail: err.Error()}})
			continue
		}
		mutated, err := m.apply(orig)
		if err != nil {
			rows = append(rows, row{m, result{outcome: notApplied, detail: err.Error()}})
			continue
		}
		fmt.Printf("%s: %s ...\n", m.Name, m.Bug)
		if err := os.WriteFile(path, mutated, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "mutate:", err)
			return 2
		}
		r := suite(work, filepath.Join(logs, m.Name+".log"), full)
		if err := os.WriteFile(path, orig, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "mutate: restore:", err)
			return 2
		}
		fmt.Printf("  %s in %s: %s\n", r.outcome.verdict(), r.elapsed.Round(time.Second), r.detail)
		rows = append(rows, row{m, r})
	}

	fmt.Printf("\n%-24s %-12s %-8s %s\n", "MUTATION", "RESULT", "TIME", "FAILING TESTS / NOTE")
	survived := 0
	for _, x := range rows {
		note := x.r.detail
		if x.r.outcome != failed && x.m.Needs != "" {
			note += " [needs " + x.m.Needs + "]"
		}
		fmt.Printf("%-24s %-12s %-8s %s\n", x.m.Name, x.r.outcome.verdict(), x.r.elapsed.Round(time.Second), note)
		if x.r.outcome != failed {
			survived++
		}
	}
	caught := len(rows) - survived
	fmt.Printf("\n%d of %d deliberate bugs caught; logs in %s\n", caught, len(rows), logs)
	if survived > 0 || bad > 0 {
		return 1
	}
	return 0
}

func selectMutations(all []mutation, only string) ([]mutation, error) {
	if only == "" {
		return all, nil
	}
	byName := map[string]mutation{}
	for _, m := range all {
		byName[m.Name] = m
	}
	var out []mutation
	for _, n := range strings.Split(only, ",") {
		m, ok := byName[strings.TrimSpace(n)]
		if !ok {
			return nil, fmt.Errorf("no mutation named %q (see -list)", n)
		}
		out = append(out, m)
	}
	return out, nil
}

// apply returns content with m's bug in it: Old must occur exactly once.
func (m mutation) apply(content []byte) ([]byte, error) {
	switch n := bytes.Count(content, []byte(m.Old)); n {
	case 1:
		return bytes.Replace(content, []byte(m.Old), []byte(m.New), 1), nil
	case 0:
		return nil, fmt.Errorf("%s no longer contains %q: update the entry in tests/cmd/mutate/mutations.go", m.File, m.Old)
	default:
		return nil, fmt.Errorf("%s contains %q %d times: make the entry's line unique", m.File, m.Old, n)
	}
}

type outcome int

const (
	passed     outcome = iota // the suite stayed green: the bug survived
	failed                    // a test failed: the bug was caught
	broken                    // the mutated tree does not build: the entry is wrong
	notApplied                // the entry does not apply to the tree
)

func (o outcome) String() string {
	return [...]string{"passed", "failed", "did not build", "not applied"}[o]
}

// verdict is the outcome from the mutation's point of view.
func (o outcome) verdict() string {
	return [...]string{"MISSED", "caught", "INVALID", "NOT APPLIED"}[o]
}

type result struct {
	outcome outcome
	elapsed time.Duration
	detail  string
	log     string
}

// suite runs the checks in dir, with every step's output in logPath. It
// stops at the first step that fails, unless full (then only a build
// failure stops it).
func suite(dir, logPath string, full bool) result {
	start := time.Now()
	res := func(o outcome, detail string) result {
		return result{outcome: o, elapsed: time.Since(start), detail: detail, log: logPath}
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return res(broken, err.Error())
	}
	defer logf.Close()
	so := filepath.Join(dir, "libdocker.so")
	failfast := "-failfast"
	if full {
		failfast = "-failfast=false"
	}
	steps := []struct {
		name string
		env  []string
		args []string
	}{
		{"build", nil, []string{"build", "-buildmode=c-shared", "-o", so, "./plugin"}},
		{"unit", []string{"CI=true"}, []string{"test", "-count=1", failfast, "./internal/...", "./rules/..."}},
		{"harness", []string{"CI=true", "DOCKER_PLUGIN_SO=" + so, "HARNESS_PLUGIN="},
			[]string{"test", "-count=1", failfast, "-timeout", "15m", "./tests/..."}},
	}
	var caught []string
	for _, st := range steps {
		var out bytes.Buffer
		cmd := exec.Command("go", st.args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), st.env...)
		cmd.Stdout = io.MultiWriter(&out, logf)
		cmd.Stderr = cmd.Stdout
		fmt.Fprintf(logf, "\n=== %s: go %s\n", st.name, strings.Join(st.args, " "))
		err := cmd.Run()
		if err == nil {
			continue
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return res(broken, fmt.Sprintf("%s: %v", st.name, err))
		}
		if st.name == "build" || buildFailed.Match(out.Bytes()) {
			return res(broken, fmt.Sprintf("%s: does not compile (see %s)", st.name, logPath))
		}
		caught = append(caught, fmt.Sprintf("%s: %s", st.name, failingTests(out.Bytes())))
		if !full {
			break
		}
	}
	if len(caught) > 0 {
		return res(failed, strings.Join(caught, "; "))
	}
	return res(passed, "suite green")
}

var (
	buildFailed = regexp.MustCompile(`\[(build|setup) failed\]`)
	failLine    = regexp.MustCompile(`(?m)^\s*--- FAIL: (\S+)`)
	panicLine   = regexp.MustCompile(`(?m)^(panic|FAIL): .*`) // a panic, or TestMain refusing to run
)

// failingTests names the failed tests of go test's output (at most eight).
func failingTests(out []byte) string {
	var names []string
	seen := map[string]bool{}
	for _, m := range failLine.FindAllSubmatch(out, -1) {
		n := string(m[1])
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		if p := panicLine.Find(out); p != nil {
			if len(p) > 160 {
				p = append(p[:160:160], "..."...)
			}
			return string(p)
		}
		return "the step failed (see its log)"
	}
	if len(names) > 8 {
		names = append(names[:8], fmt.Sprintf("and %d more", len(names)-8))
	}
	return strings.Join(names, ", ")
}

// copyTree copies the files git knows in root (tracked, and untracked ones
// not ignored: the working tree as it is, without build outputs) to dst.
func copyTree(root, dst string) error {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("git ls-files: %w", err)
	}
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if rel == "" {
			continue
		}
		src := filepath.Join(root, rel)
		st, err := os.Lstat(src)
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the working tree
		}
		if err != nil {
			return err
		}
		if !st.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(to, b, st.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
