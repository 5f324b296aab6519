package main

// mutation is one deliberate bug: Old, which must occur exactly once in
// File, replaced by New. Each is small, compiles, and is a bug a real
// change could bring; the suite must fail on every one.
type mutation struct {
	Name  string
	Bug   string // what goes wrong for a user
	File  string
	Old   string
	New   string
	Catch string // the tests written to catch it
	Needs string // a change from another branch the suite needs to catch it ("" when this tree's tests do)
}

// mutations: the gaps a mutation check found (issue 18), each now a bug the
// suite must catch, plus a few neighbours of them. Keep each a one-line
// change on a line that occurs once, so the list survives unrelated edits;
// when a line moves or changes, update the entry (make mutate reports it
// as not applied).
var mutations = []mutation{
	{
		Name:  "plugin-id",
		Bug:   "the plugin announces id 6 instead of the registry's 5: existing falco.yaml entries and captures no longer match",
		File:  "plugin/docker.go",
		Old:   "\tpluginID     = 5\n",
		New:   "\tpluginID     = 6\n",
		Catch: "the harness's identity check (every docker test runs, none skips, when HARNESS_PLUGIN names no other plugin)",
		Needs: "issue 16: the harness asserts the docker plugin's identity (before it, a changed id skipped 32 tests)",
	},
	{
		Name:  "since-history",
		Bug:   "the first connection asks since=1: the daemon replays its stored history (up to 256 old events) on every Falco start",
		File:  "internal/source/live.go",
		Old:   "\tsince := uint64(l.opened.UnixNano())\n",
		New:   "\tsince := uint64(1)\n",
		Catch: "TestLiveStartsAtOpen",
	},
	{
		Name:  "tls-no-verify",
		Bug:   "TLS certificate verification always skipped: any server can pose as the daemon",
		File:  "internal/source/live.go",
		Old:   "\t\tif !t.Verify {\n",
		New:   "\t\tif true || !t.Verify {\n",
		Catch: "TestLiveTLS (a server with a foreign CA is refused)",
	},
	{
		Name:  "tls-plain-http",
		Bug:   "the events request goes out as plain HTTP to a TLS endpoint: no event ever arrives",
		File:  "internal/source/live.go",
		Old:   "\t\tu.Scheme = \"https\"\n",
		New:   "\t\tu.Scheme = \"http\"\n",
		Catch: "TestLiveTLS (events delivered over verified TLS)",
	},
	{
		Name:  "replay-size-check",
		Bug:   "replay's size check removed: a line longer than maxEventSize is cut to maxEventSize and delivered, not skipped and counted",
		File:  "internal/source/replay.go",
		Old:   "\tif len(line) > r.env.Config.MaxEventSize {\n",
		New:   "\tif false && len(line) > r.env.Config.MaxEventSize {\n",
		Catch: "TestReplayMaxEventSize, TestMaxEventSize/replay",
	},
	{
		Name:  "replay-size-off-by-one",
		Bug:   "replay skips an event of exactly maxEventSize bytes",
		File:  "internal/source/replay.go",
		Old:   "\tif len(line) > r.env.Config.MaxEventSize {\n",
		New:   "\tif len(line) >= r.env.Config.MaxEventSize {\n",
		Catch: "TestReplayMaxEventSize, TestMaxEventSize/replay",
	},
	{
		Name:  "live-size-check",
		Bug:   "the live reader's size check removed: a daemon message longer than maxEventSize is cut and delivered",
		File:  "internal/source/live.go",
		Old:   "\tif len(line) > maxSize {\n",
		New:   "\tif false && len(line) > maxSize {\n",
		Catch: "TestLiveBadMessagesAreCounted, TestMaxEventSize/live",
	},
	{
		Name:  "batch-cut-by-one",
		Bug:   "an event of exactly maxEventSize bytes is truncated by one byte in the batch",
		File:  "abi/batch.go",
		Old:   "payloadOffset)), b.maxData), data)\n",
		New:   "payloadOffset)), b.maxData-1), data)\n",
		Catch: "TestMaxEventSize",
	},
	{
		Name:  "rebind-disabled",
		Bug:   "an instance opened under one plugin state and used from another keeps the first one's config and counters",
		File:  "abi/state.go",
		Old:   "\tif ps != i.plugin {\n",
		New:   "\tif false && ps != i.plugin {\n",
		Catch: "TestRebindToCallingState",
	},
	{
		Name:  "is-socket-false",
		Bug:   "plugin_list_open_params lists nothing: no socket is ever recognised",
		File:  "internal/source/live.go",
		Old:   "\treturn err == nil && st.Mode()&os.ModeSocket != 0\n",
		New:   "\treturn false && err == nil && st.Mode()&os.ModeSocket != 0\n",
		Catch: "TestIsSocket, TestListOpenParams",
	},
	{
		Name:  "wait-x10",
		Bug:   "next_batch waits 10 x waitMs: Falco's event loop is blocked ten times longer than configured",
		File:  "abi/state.go",
		Old:   "\t\twait:   time.Duration(p.cfg.WaitMs) * time.Millisecond,\n",
		New:   "\t\twait:   time.Duration(p.cfg.WaitMs) * 10 * time.Millisecond,\n",
		Catch: "TestNextBatchWaitBounds",
	},
	{
		Name:  "wake-up-lost",
		Bug:   "the idle C wait sleeps instead of polling: an event arriving during the wait waits for the next call",
		File:  "abi/nextbatch.c",
		Old:   "\t\tint r = poll(&p, 1, left_ms);\n",
		New:   "\t\tint r = poll(&p, 1, 0); if (r == 0) { struct timespec ts = {left_ms / 1000, (left_ms % 1000) * 1000000L}; nanosleep(&ts, NULL); }\n",
		Catch: "TestLiveIdleWaitWakesOnEvent; also TestPanicContainment, whose signalled idle calls see the sleep end early",
	},
	{
		Name:  "eintr-enters-go",
		Bug:   "a signal interrupting the idle C wait sends the call into Go (the TestPanicContainment flake)",
		File:  "abi/nextbatch.c",
		Old:   "\t\tif (r >= 0 || errno != EINTR) return r;\n",
		New:   "\t\tif (1) return r;\n",
		Catch: "TestPanicContainment (idle calls on a signalled thread)",
	},
	{
		Name:  "xtable-key-evtnum",
		Bug:   "the value table in C ignores the event number: Falco's reused event buffer gets the previous event's values",
		File:  "abi/extract.c",
		Old:   "\t    evt->evtnum == c->evtnum && evt->evtsrc == c->evtsrc && evt->evt->len == c->evtlen &&\n",
		New:   "\t    evt->evtsrc == c->evtsrc && evt->evt->len == c->evtlen &&\n",
		Catch: "TestExtractValueTable (events overwritten in one buffer, numbers counting up)",
	},
	{
		Name:  "scan-backslash-unchecked",
		Bug:   "the SWAR string scan no longer stops at backslashes: escapes go unvalidated and undecoded",
		File:  "internal/event/scan.go",
		Old:   "\treturn ((y - lsb*0x21) | (b - lsb)) &^ x & msb\n",
		New:   "\treturn ((y - lsb*0x21) | (b-lsb)&0) &^ x & msb\n",
		Catch: "TestSpecialMask, TestScanTopMatchesReference, TestParseHostile and others in internal/event",
	},
	{
		Name:  "ci-only-true",
		Bug:   "only CI=true counts as CI: under CI=1 an unreachable daemon silently skips every Docker test",
		File:  "tests/dockertest/daemon.go",
		Old:   "func inCI(ci string) bool { return ci != \"\" }\n",
		New:   "func inCI(ci string) bool { return ci == \"true\" }\n",
		Catch: "TestInCI",
	},
}
