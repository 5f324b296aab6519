package event

import "testing"

var (
	// Recorded from the real engines by the tests' engine scenario
	// (tests/testdata/engines): Podman 4.3.1, Docker Engine moby v2 (API 1.56,
	// read at 1.52), Docker 20.10 (API 1.41).
	podmanCreate       = `{"status":"create","id":"03728723944b493b2b4b340f8161e058a8a207711e63aa2ddd4a61682ef27fd6","from":"docker.io/library/falco-docker-plugin-testbox:b8d830751741-677df337a338","Type":"container","Action":"create","Actor":{"ID":"03728723944b493b2b4b340f8161e058a8a207711e63aa2ddd4a61682ef27fd6","Attributes":{"containerExitCode":"0","falco-docker-plugin-test":"000recorded0","image":"docker.io/library/falco-docker-plugin-testbox:b8d830751741-677df337a338","name":"fdp-c-000recorded0","podId":""}},"scope":"local","time":1796064153,"timeNano":1796064153988545145}`
	podmanExec         = `{"status":"exec","id":"03728723944b493b2b4b340f8161e058a8a207711e63aa2ddd4a61682ef27fd6","from":"docker.io/library/falco-docker-plugin-testbox:b8d830751741-677df337a338","Type":"container","Action":"exec","Actor":{"ID":"03728723944b493b2b4b340f8161e058a8a207711e63aa2ddd4a61682ef27fd6","Attributes":{"containerExitCode":"0","falco-docker-plugin-test":"000recorded0","image":"docker.io/library/falco-docker-plugin-testbox:b8d830751741-677df337a338","name":"fdp-c-000recorded0","podId":""}},"scope":"local","time":1796064154,"timeNano":1796064154190639713}`
	podmanExecDied     = `{"status":"exec_died","id":"03728723944b493b2b4b340f8161e058a8a207711e63aa2ddd4a61682ef27fd6","from":"docker.io/library/falco-docker-plugin-testbox:b8d830751741-677df337a338","Type":"container","Action":"exec_died","Actor":{"ID":"03728723944b493b2b4b340f8161e058a8a207711e63aa2ddd4a61682ef27fd6","Attributes":{"containerExitCode":"5","falco-docker-plugin-test":"000recorded0","image":"docker.io/library/falco-docker-plugin-testbox:b8d830751741-677df337a338","name":"fdp-c-000recorded0","podId":""}},"scope":"local","time":1796064154,"timeNano":1796064154281771499}`
	podmanKill         = `{"status":"kill","id":"03728723944b493b2b4b340f8161e058a8a207711e63aa2ddd4a61682ef27fd6","from":"docker.io/library/falco-docker-plugin-testbox:b8d830751741-677df337a338","Type":"container","Action":"kill","Actor":{"ID":"03728723944b493b2b4b340f8161e058a8a207711e63aa2ddd4a61682ef27fd6","Attributes":{"containerExitCode":"0","falco-docker-plugin-test":"000recorded0","image":"docker.io/library/falco-docker-plugin-testbox:b8d830751741-677df337a338","name":"fdp-c-000recorded0","podId":""}},"scope":"local","time":1796064154,"timeNano":1796064154306227284}`
	podmanDie          = `{"status":"die","id":"03728723944b493b2b4b340f8161e058a8a207711e63aa2ddd4a61682ef27fd6","from":"docker.io/library/falco-docker-plugin-testbox:b8d830751741-677df337a338","Type":"container","Action":"die","Actor":{"ID":"03728723944b493b2b4b340f8161e058a8a207711e63aa2ddd4a61682ef27fd6","Attributes":{"containerExitCode":"137","exitCode":"137","falco-docker-plugin-test":"000recorded0","image":"docker.io/library/falco-docker-plugin-testbox:b8d830751741-677df337a338","name":"fdp-c-000recorded0","podId":""}},"scope":"local","time":1796064154,"timeNano":1796064154332235335}`
	podmanRemove       = `{"status":"remove","id":"03728723944b493b2b4b340f8161e058a8a207711e63aa2ddd4a61682ef27fd6","from":"docker.io/library/falco-docker-plugin-testbox:b8d830751741-677df337a338","Type":"container","Action":"remove","Actor":{"ID":"03728723944b493b2b4b340f8161e058a8a207711e63aa2ddd4a61682ef27fd6","Attributes":{"containerExitCode":"0","falco-docker-plugin-test":"000recorded0","image":"docker.io/library/falco-docker-plugin-testbox:b8d830751741-677df337a338","name":"fdp-c-000recorded0","podId":""}},"scope":"local","time":1796064154,"timeNano":1796064154517116894}`
	podmanHealth       = `{"status":"health_status","id":"8d60340eb357dc0ccc236d30ace74d10ade8e45455312d3efb0176a4f9057360","from":"docker.io/library/falco-docker-plugin-testbox:b8d830751741-677df337a338","Type":"container","Action":"health_status","Actor":{"ID":"8d60340eb357dc0ccc236d30ace74d10ade8e45455312d3efb0176a4f9057360","Attributes":{"containerExitCode":"0","falco-docker-plugin-test":"000recorded0","image":"docker.io/library/falco-docker-plugin-testbox:b8d830751741-677df337a338","name":"fdp-h-000recorded0","podId":""}},"scope":"local","time":1796064157,"timeNano":1796064157315560440,"HealthStatus":"starting"}`
	podmanVolume       = `{"status":"create","Type":"volume","Action":"create","Actor":{"ID":"","Attributes":{"containerExitCode":"0","image":"","name":"fdp-v-000recorded0","podId":""}},"scope":"local","time":1796064156,"timeNano":1796064156489622974}`
	podmanVolumeRemove = `{"status":"remove","Type":"volume","Action":"remove","Actor":{"ID":"","Attributes":{"containerExitCode":"0","image":"","name":"fdp-v-000recorded0","podId":""}},"scope":"local","time":1796064156,"timeNano":1796064156511398011}`
	podmanConnect      = `{"status":"connect","id":"3480cb1c1cd440f2c29c256844b45de8b05382457d0c3ce2fcf073d8d1f7965c","Type":"network","Action":"connect","Actor":{"ID":"3480cb1c1cd440f2c29c256844b45de8b05382457d0c3ce2fcf073d8d1f7965c","Attributes":{"containerExitCode":"0","image":"","name":"fdp-d-000recorded0","podId":""}},"scope":"local","time":1796064155,"timeNano":1796064155059532746}`
	podmanLoad         = `{"status":"loadfromarchive","Type":"image","Action":"loadfromarchive","Actor":{"ID":"","Attributes":{"containerExitCode":"0","image":"","name":"/var/tmp/libpod-images-load.tar3166369019","podId":""}},"scope":"local","time":1796064156,"timeNano":1796064156875011542}`
	podmanPull         = `{"status":"pull","Type":"image","Action":"pull","Actor":{"ID":"","Attributes":{"containerExitCode":"0","image":"","name":"localhost/fdp-l-000recorded0:1","podId":""}},"scope":"local","time":1796064157,"timeNano":1796064157704867533}`
	podmanPod          = `{"status":"create","id":"4c5a456001c6da86975f5e8b6a57b12b49f69d16c00b87e67f7bef8e31d502af","Type":"pod","Action":"create","Actor":{"ID":"4c5a456001c6da86975f5e8b6a57b12b49f69d16c00b87e67f7bef8e31d502af","Attributes":{"containerExitCode":"0","image":"","name":"fdp-pod-000recorded0","podId":""}},"scope":"local","time":1796064158,"timeNano":1796064158213289142}`
	podmanSave         = `{"status":"save","id":"426a2a00106b40eaecb4f2023d56f66473522fe5f2dc30bd0c4384f63e7e00a5","Type":"image","Action":"save","Actor":{"ID":"426a2a00106b40eaecb4f2023d56f66473522fe5f2dc30bd0c4384f63e7e00a5","Attributes":{"containerExitCode":"0","image":"","name":"/var/tmp/api.tar43556836","podId":""}},"scope":"local","time":1796064156,"timeNano":1796064156786444555}`
	podmanTag          = `{"status":"tag","id":"426a2a00106b40eaecb4f2023d56f66473522fe5f2dc30bd0c4384f63e7e00a5","Type":"image","Action":"tag","Actor":{"ID":"426a2a00106b40eaecb4f2023d56f66473522fe5f2dc30bd0c4384f63e7e00a5","Attributes":{"containerExitCode":"0","image":"","name":"docker.io/library/fdp-t-000recorded0:t1","podId":""}},"scope":"local","time":1796064156,"timeNano":1796064156531389518}`
	mobyImageCreate    = `{"Type":"image","Action":"create","Actor":{"ID":"sha256:2876c5d3fcf0888742b90b8f645e3467e93cd6252ac9edf016b06edc89c43dcb","Attributes":{"falco-docker-plugin-test":"000recorded0","name":"sha256:2876c5d3fcf0888742b90b8f645e3467e93cd6252ac9edf016b06edc89c43dcb"}},"scope":"local","time":1796064150,"timeNano":1796064150517155899}`
	mobyPrune          = `{"Type":"image","Action":"prune","Actor":{"ID":"","Attributes":{"reclaimed":"0"}},"scope":"local","time":1796064151,"timeNano":1796064151480110715}`
	mobyExecStart      = `{"Type":"container","Action":"exec_start: sh -c id","Actor":{"ID":"404892a03fa773523983b7243b7ded10deb4cddd9a709b0a96ba9e601e8bdc87","Attributes":{"execID":"88030e9c9dc2e714cd7b8709980516b3fd6b824004f58653e9a9e206deabe9ec","falco-docker-plugin-test":"000recorded0","image":"falco-docker-plugin-testbox:b8d830751741-677df337a338","name":"fdp-c-000recorded0"}},"scope":"local","time":1796064149,"timeNano":1796064149767119163}`
	docker2010Prune    = `{"status":"prune","Type":"image","Action":"prune","Actor":{"ID":"","Attributes":{"reclaimed":"0"}},"scope":"local","time":1796064147,"timeNano":1796064147567258335}`
	docker2010Health   = `{"status":"health_status: healthy","id":"e50618e66a4571aa1a21da91687f90bb49e58f6c22912fd1e321537045f756ca","from":"falco-docker-plugin-testbox:b8d830751741-677df337a338","Type":"container","Action":"health_status: healthy","Actor":{"ID":"e50618e66a4571aa1a21da91687f90bb49e58f6c22912fd1e321537045f756ca","Attributes":{"falco-docker-plugin-test":"000recorded0","image":"falco-docker-plugin-testbox:b8d830751741-677df337a338","name":"fdp-h-000recorded0"}},"scope":"local","time":1796064148,"timeNano":1796064148821831987}`
	docker2010Load     = `{"status":"load","id":"sha256:376f929f3f2a97fcbcd0e54e332a120417f36b92649c44d50104a44db4575ed7","Type":"image","Action":"load","Actor":{"ID":"sha256:376f929f3f2a97fcbcd0e54e332a120417f36b92649c44d50104a44db4575ed7","Attributes":{"name":"sha256:376f929f3f2a97fcbcd0e54e332a120417f36b92649c44d50104a44db4575ed7"}},"scope":"local","time":1796064147,"timeNano":1796064147544854456}`
)

// recorded lists the recorded lines (for the reference and fuzz tests).
var recorded = []string{
	podmanCreate, podmanExec, podmanExecDied, podmanKill, podmanDie, podmanRemove, podmanHealth, podmanVolume, podmanVolumeRemove,
	podmanConnect, podmanLoad, podmanPull, podmanPod, podmanSave, podmanTag, mobyImageCreate, mobyPrune, mobyExecStart,
	docker2010Prune, docker2010Health, docker2010Load,
}

// Every engine's dialect read in Docker's terms, on lines the real engines
// sent: what Podman sends differently is mapped, what it sends empty or
// about another object gives no value, what it does not say has none.
func TestDialects(t *testing.T) {
	const (
		podC   = "03728723944b493b2b4b340f8161e058a8a207711e63aa2ddd4a61682ef27fd6"
		podImg = "docker.io/library/falco-docker-plugin-testbox:b8d830751741-677df337a338"
		podD   = "3480cb1c1cd440f2c29c256844b45de8b05382457d0c3ce2fcf073d8d1f7965c"
	)
	type acc struct {
		dialect                                        Dialect
		action, name, args, status, id, from, exit     Str
		container, network, networkName, volume, actor Str
		ref                                            Str
	}
	cases := []struct {
		name string
		msg  string
		want acc
	}{
		{"podman create: containerExitCode 0 is no exit code", podmanCreate, acc{dialect: Podman, action: s("create"), name: s("create"), status: s("create"),
			id: s(podC), from: s(podImg), container: s(podC), actor: s(podC)}},
		{"podman exec is exec_start, without a command", podmanExec, acc{dialect: Podman, action: s("exec_start"), name: s("exec_start"), status: s("exec_start"),
			id: s(podC), from: s(podImg), container: s(podC), actor: s(podC)}},
		{"podman exec_died: the exec's code in containerExitCode", podmanExecDied, acc{dialect: Podman, action: s("exec_die"), name: s("exec_die"), status: s("exec_die"),
			id: s(podC), from: s(podImg), exit: s("5"), container: s(podC), actor: s(podC)}},
		{"podman kill: no signal", podmanKill, acc{dialect: Podman, action: s("kill"), name: s("kill"), status: s("kill"), id: s(podC), from: s(podImg), container: s(podC), actor: s(podC)}},
		{"podman die: exitCode", podmanDie, acc{dialect: Podman, action: s("die"), name: s("die"), status: s("die"), id: s(podC), from: s(podImg), exit: s("137"), container: s(podC), actor: s(podC)}},
		{"podman remove is destroy", podmanRemove, acc{dialect: Podman, action: s("destroy"), name: s("destroy"), status: s("destroy"), id: s(podC), from: s(podImg), container: s(podC), actor: s(podC)}},
		{"podman health_status: the status from HealthStatus", podmanHealth, acc{dialect: Podman, action: s("health_status: starting"), name: s("health_status"), args: s("starting"),
			status: s("health_status: starting"), id: s("8d60340eb357dc0ccc236d30ace74d10ade8e45455312d3efb0176a4f9057360"), from: s(podImg),
			container: s("8d60340eb357dc0ccc236d30ace74d10ade8e45455312d3efb0176a4f9057360"), actor: s("8d60340eb357dc0ccc236d30ace74d10ade8e45455312d3efb0176a4f9057360")}},
		{"podman volume: named by name, no status/id for volumes", podmanVolume, acc{dialect: Podman, action: s("create"), name: s("create"), volume: s("fdp-v-000recorded0")}},
		{"podman volume remove is destroy", podmanVolumeRemove, acc{dialect: Podman, action: s("destroy"), name: s("destroy"), volume: s("fdp-v-000recorded0")}},
		{"podman network connect is about the container", podmanConnect, acc{dialect: Podman, action: s("connect"), name: s("connect"), container: s(podD), actor: s(podD)}},
		{"podman loadfromarchive is load; the archive is no reference", podmanLoad, acc{dialect: Podman, action: s("load"), name: s("load"), status: s("load")}},
		{"podman pull: no id, the reference in name", podmanPull, acc{dialect: Podman, action: s("pull"), name: s("pull"), status: s("pull"), ref: s("localhost/fdp-l-000recorded0:1")}},
		{"podman pod: no status/id for pods", podmanPod, acc{dialect: Podman, action: s("create"), name: s("create"), actor: s("4c5a456001c6da86975f5e8b6a57b12b49f69d16c00b87e67f7bef8e31d502af")}},
		{"podman save: the archive path is no reference", podmanSave, acc{dialect: Podman, action: s("save"), name: s("save"), status: s("save"),
			id: s("426a2a00106b40eaecb4f2023d56f66473522fe5f2dc30bd0c4384f63e7e00a5"), actor: s("426a2a00106b40eaecb4f2023d56f66473522fe5f2dc30bd0c4384f63e7e00a5")}},
		{"podman tag: a bare hex id is no reference", podmanTag, acc{dialect: Podman, action: s("tag"), name: s("tag"), status: s("tag"),
			id: s("426a2a00106b40eaecb4f2023d56f66473522fe5f2dc30bd0c4384f63e7e00a5"), actor: s("426a2a00106b40eaecb4f2023d56f66473522fe5f2dc30bd0c4384f63e7e00a5"),
			ref: s("docker.io/library/fdp-t-000recorded0:t1")}},
		{"moby image create (API >= 1.46), 1.52 shape", mobyImageCreate, acc{action: s("create"), name: s("create"), status: s("create"),
			id: s("sha256:2876c5d3fcf0888742b90b8f645e3467e93cd6252ac9edf016b06edc89c43dcb"), actor: s("sha256:2876c5d3fcf0888742b90b8f645e3467e93cd6252ac9edf016b06edc89c43dcb")}},
		{"moby prune: no Actor.ID, no id", mobyPrune, acc{action: s("prune"), name: s("prune"), status: s("prune")}},
		{"moby exec_start, 1.52 shape", mobyExecStart, acc{action: s("exec_start: sh -c id"), name: s("exec_start"), args: s("sh -c id"), status: s("exec_start: sh -c id"),
			id: s("404892a03fa773523983b7243b7ded10deb4cddd9a709b0a96ba9e601e8bdc87"), from: s("falco-docker-plugin-testbox:b8d830751741-677df337a338"),
			container: s("404892a03fa773523983b7243b7ded10deb4cddd9a709b0a96ba9e601e8bdc87"), actor: s("404892a03fa773523983b7243b7ded10deb4cddd9a709b0a96ba9e601e8bdc87")}},
		{"docker 20.10 prune: no id", docker2010Prune, acc{action: s("prune"), name: s("prune"), status: s("prune")}},
		{"docker 20.10 health_status", docker2010Health, acc{action: s("health_status: healthy"), name: s("health_status"), args: s("healthy"), status: s("health_status: healthy"),
			id: s("e50618e66a4571aa1a21da91687f90bb49e58f6c22912fd1e321537045f756ca"), from: s("falco-docker-plugin-testbox:b8d830751741-677df337a338"),
			container: s("e50618e66a4571aa1a21da91687f90bb49e58f6c22912fd1e321537045f756ca"), actor: s("e50618e66a4571aa1a21da91687f90bb49e58f6c22912fd1e321537045f756ca")}},
		{"docker 20.10 load: names the image by id", docker2010Load, acc{action: s("load"), name: s("load"), status: s("load"),
			id: s("sha256:376f929f3f2a97fcbcd0e54e332a120417f36b92649c44d50104a44db4575ed7"), actor: s("sha256:376f929f3f2a97fcbcd0e54e332a120417f36b92649c44d50104a44db4575ed7")}},
	}
	var e Event
	for _, tc := range cases {
		e.Parse([]byte(tc.msg))
		ref, ok := e.ImageRef()
		got := acc{dialect: e.Dialect(), action: e.Action(), name: e.ActionName(), args: e.ActionArgs(), status: e.Status(), id: e.ID(), from: e.From(),
			exit: e.ExitCode(), container: e.ContainerID(), network: e.NetworkID(), networkName: e.NetworkName(), volume: e.VolumeName(),
			actor: e.ActorID(), ref: Str{S: ref, OK: ok}}
		if got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
		// Typed attributes: Podman's empty image/podId give no value; the
		// raw accessor keeps them.
		if e.Dialect() == Podman {
			if e.Value("podId").OK || (e.Attr("image").S == "" && e.Value("image").OK) || !e.Attr("podId").OK {
				t.Errorf("%s: podId %+v/%+v image %+v/%+v", tc.name, e.Attr("podId"), e.Value("podId"), e.Attr("image"), e.Value("image"))
			}
		}
	}
}

// A Docker container labelled podId (no daemon adds it) reads as
// Podman's: the one ambiguity of the detection, whose effect is that its
// empty attributes give no value.
func TestDialectDetection(t *testing.T) {
	var e Event
	for _, tc := range []struct {
		msg  string
		want Dialect
	}{
		{v152Die, Docker}, {pre152Create, Docker}, {podmanDie, Podman}, {podmanVolume, Podman},
		{`{"Type":"container","Action":"start","Actor":{"ID":"c","Attributes":{"podId":"x"}}}`, Podman},
		{`{"Type":"container","Action":"start","Actor":{"ID":"c","Attributes":{"podid":""}}}`, Docker},
		{`{"Type":"container","Actor":{"Attributes":{"podId":""}},"Actor":{"ID":"c"}}`, Docker}, // the last Actor wins
	} {
		e.Parse([]byte(tc.msg))
		if e.Dialect() != tc.want {
			t.Errorf("%.120s: dialect %v, want %v", tc.msg, e.Dialect(), tc.want)
		}
	}
}
