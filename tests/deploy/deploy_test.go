// Package deploy tests what an operator installs and what Falco, systemd and
// Docker Compose read from deploy/: the install layout in a staging root,
// the release tarballs, the Falco config drop-in against Falco's config keys
// and the plugin's own init schema, the compose file through docker-compose,
// the systemd drop-in through systemd-analyze.
//
// DOCKER_PLUGIN_SO names the built plugin (make test sets it to the
// checkout's libdocker.so, which `make install` and `make package` then use
// without rebuilding it).
package deploy

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/xeipuuv/gojsonschema"
	"gopkg.in/yaml.v3"

	"github.com/falco-docker/docker-plugin/tests/harness"
)

var root = func() string {
	r, err := filepath.Abs("../..")
	if err != nil {
		panic(err)
	}
	return r
}()

const dropInName = "falco.docker_plugin.yaml"

// checkoutLib is the checkout's built libdocker.so, which the make targets
// under test install and pack. It must be the library under test.
func checkoutLib(t *testing.T) string {
	t.Helper()
	lib := filepath.Join(root, "libdocker.so")
	so := os.Getenv("DOCKER_PLUGIN_SO")
	if so == "" || filepath.Clean(so) != lib {
		if os.Getenv("CI") != "" {
			t.Fatalf("DOCKER_PLUGIN_SO=%q: CI must run this with the checkout's %s (make test)", so, lib)
		}
		t.Skipf("DOCKER_PLUGIN_SO=%q is not the checkout's %s: run through `make test` (or `make harness`)", so, lib)
	}
	if _, err := os.Stat(lib); err != nil {
		t.Fatal(err)
	}
	return lib
}

func plugin(t *testing.T) *harness.Plugin {
	t.Helper()
	p, err := harness.Load(checkoutLib(t))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// runMake runs make in the checkout without rebuilding the library (-o):
// under test it is the library the harness loaded. umask 077 proves that
// the modes come from the recipes, not from the caller's umask.
func runMake(t *testing.T, args ...string) (string, error) {
	t.Helper()
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	cmd := exec.Command("bash", "-c", "umask 077 && exec make --no-print-directory -o libdocker.so "+strings.Join(quoted, " "))
	cmd.Dir = root
	// Not the flags and jobserver of a make running the tests, nor its
	// install variables.
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "DESTDIR", "PREFIX", "FALCO_ETC", "DIST":
		default:
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// tree lists what is under dir: path -> mode (type and permissions).
func tree(t *testing.T, dir string) map[string]fs.FileMode {
	t.Helper()
	out := map[string]fs.FileMode{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[rel] = info.Mode()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameFile(t *testing.T, got, want string) {
	t.Helper()
	a, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("%s differs from %s", got, want)
	}
}

// TestInstallLayout: `make install DESTDIR=staging` writes the library, the
// rules and the config drop-in where a packaged Falco reads them, with fixed
// modes, and nothing else; `make uninstall` removes exactly those files.
func TestInstallLayout(t *testing.T) {
	lib := checkoutLib(t)
	for _, tc := range []struct {
		name    string
		vars    []string
		lib     string // installed paths, relative to DESTDIR
		rules   string
		dropIn  string
		libPath string // library_path in the installed drop-in
	}{
		{"defaults", nil,
			"usr/share/falco/plugins/libdocker.so", "etc/falco/rules.d/docker_rules.yaml", "etc/falco/config.d/" + dropInName,
			"/usr/share/falco/plugins/libdocker.so"},
		{"PREFIX and FALCO_ETC", []string{"PREFIX=/usr/local", "FALCO_ETC=/opt/falco/etc"},
			"usr/local/share/falco/plugins/libdocker.so", "opt/falco/etc/rules.d/docker_rules.yaml", "opt/falco/etc/config.d/" + dropInName,
			"/usr/local/share/falco/plugins/libdocker.so"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "stage root") // a space: every path is quoted
			args := append([]string{"install", "DESTDIR=" + dest}, tc.vars...)
			if out, err := runMake(t, args...); err != nil {
				t.Fatalf("make %v: %v\n%s", args, err, out)
			}
			got := tree(t, dest)
			want := map[string]fs.FileMode{tc.lib: 0o644, tc.rules: 0o644, tc.dropIn: 0o644}
			for _, f := range []string{tc.lib, tc.rules, tc.dropIn} {
				for d := filepath.Dir(f); d != "."; d = filepath.Dir(d) {
					want[d] = fs.ModeDir | 0o755
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("staging root holds\n%v\nwant\n%v", got, want)
			}
			sameFile(t, filepath.Join(dest, tc.lib), lib)
			sameFile(t, filepath.Join(dest, tc.rules), filepath.Join(root, "rules", "docker_rules.yaml"))
			installed, err := os.ReadFile(filepath.Join(dest, tc.dropIn))
			if err != nil {
				t.Fatal(err)
			}
			src, err := os.ReadFile(filepath.Join(root, "deploy", dropInName))
			if err != nil {
				t.Fatal(err)
			}
			wantDropIn := strings.Replace(string(src), "    library_path: /usr/share/falco/plugins/libdocker.so\n", "    library_path: "+tc.libPath+"\n", 1)
			if string(installed) != wantDropIn {
				t.Errorf("installed drop-in:\n%s\nwant deploy/%s with library_path %s", installed, dropInName, tc.libPath)
			}
			if d := parseDropIn(t, installed); d.Plugins[0].LibraryPath != tc.libPath {
				t.Errorf("installed drop-in loads %s, want %s", d.Plugins[0].LibraryPath, tc.libPath)
			}

			// An edited drop-in survives a reinstall (an upgrade); the rest is refreshed.
			edited := append(installed, []byte("# edited by the operator\n")...)
			if err := os.WriteFile(filepath.Join(dest, tc.dropIn), edited, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dest, tc.rules), []byte("stale"), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := runMake(t, args...)
			if err != nil {
				t.Fatalf("make %v again: %v\n%s", args, err, out)
			}
			if b, _ := os.ReadFile(filepath.Join(dest, tc.dropIn)); !bytes.Equal(b, edited) {
				t.Error("reinstall overwrote the edited drop-in")
			}
			if !strings.Contains(out, "kept "+filepath.Join(dest, tc.dropIn)) {
				t.Errorf("reinstall did not say it kept the edited drop-in:\n%s", out)
			}
			sameFile(t, filepath.Join(dest, tc.rules), filepath.Join(root, "rules", "docker_rules.yaml"))

			// uninstall: no file left, only the (shared) directories.
			if out, err := runMake(t, append([]string{"uninstall", "DESTDIR=" + dest}, tc.vars...)...); err != nil {
				t.Fatalf("make uninstall: %v\n%s", err, out)
			}
			for p, m := range tree(t, dest) {
				if !m.IsDir() {
					t.Errorf("uninstall left %s", p)
				}
			}
		})
	}
}

// TestInstallRefusesUnsafePrefix: a PREFIX that the drop-in's YAML or sed
// would mangle is refused before anything is written.
func TestInstallRefusesUnsafePrefix(t *testing.T) {
	checkoutLib(t)
	for _, prefix := range []string{"/usr/my dir", "/usr/a|b", "/usr/a&b", `/usr/a\b`, "/usr/a'b"} {
		dest := filepath.Join(t.TempDir(), "root")
		out, err := runMake(t, "install", "DESTDIR="+dest, "PREFIX="+prefix)
		if err == nil || !strings.Contains(out, "only letters, digits") {
			t.Errorf("PREFIX=%q: %v\n%s", prefix, err, out)
		}
		if _, err := os.Stat(dest); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("PREFIX=%q: install wrote into the staging root", prefix)
		}
	}
}

// tarEntries reads a .tar.gz: name -> header, and contents.
func tarEntries(t *testing.T, path string) (map[string]*tar.Header, map[string][]byte) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	hdrs, data := map[string]*tar.Header{}, map[string][]byte{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		hdrs[h.Name], data[h.Name] = h, b
	}
	return hdrs, data
}

// TestPackage: `make package` builds docker-<version>-linux-<arch>.tar.gz
// (the library and its LICENSE, at the archive's root) beside
// docker-rules-<version>.tar.gz, falcosecurity's naming for a plugin index.
func TestPackage(t *testing.T) {
	p := plugin(t)
	dist := t.TempDir()
	out, err := runMake(t, "package", "DIST="+dist)
	if err != nil {
		t.Fatalf("make package: %v\n%s", err, out)
	}
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]
	if arch == "" {
		arch = runtime.GOARCH
	}
	pkg := fmt.Sprintf("docker-%s-linux-%s.tar.gz", p.Version(), arch)
	rules := fmt.Sprintf("docker-rules-%s.tar.gz", p.Version())
	var names []string
	for n := range tree(t, dist) {
		names = append(names, n)
	}
	sort.Strings(names)
	if want := []string{pkg, rules}; fmt.Sprint(names) != fmt.Sprint(want) {
		t.Fatalf("dist holds %v, want %v", names, want)
	}
	for _, tc := range []struct {
		tarball string
		files   map[string]string
	}{
		{pkg, map[string]string{"libdocker.so": filepath.Join(root, "libdocker.so"), "LICENSE": filepath.Join(root, "LICENSE")}},
		{rules, map[string]string{"docker_rules.yaml": filepath.Join(root, "rules", "docker_rules.yaml")}},
	} {
		hdrs, data := tarEntries(t, filepath.Join(dist, tc.tarball))
		if len(hdrs) != len(tc.files) {
			t.Errorf("%s holds %d entries, want %v", tc.tarball, len(hdrs), tc.files)
		}
		for name, src := range tc.files {
			h := hdrs[name]
			if h == nil {
				t.Errorf("%s lacks %s", tc.tarball, name)
				continue
			}
			if h.Typeflag != tar.TypeReg || h.Mode&0o777 != 0o644 || h.Uid != 0 || h.Gid != 0 {
				t.Errorf("%s: %s type %c mode %o owner %d:%d, want a regular file 0644 owned 0:0", tc.tarball, name, h.Typeflag, h.Mode, h.Uid, h.Gid)
			}
			want, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(data[name], want) {
				t.Errorf("%s: %s differs from %s", tc.tarball, name, src)
			}
		}
	}
}

// dropIn holds the two Falco config keys the drop-in may set. Their shapes
// are Falco's (falco 0.44.1, config_json_schema.h: `load_plugins` an array
// of strings; `plugins` an array of Plugin objects with required string
// `name` and `library_path`, `init_config` an object, string or null,
// `open_params` a string, and no other property).
type dropIn struct {
	Plugins []struct {
		Name        string  `yaml:"name"`
		LibraryPath string  `yaml:"library_path"`
		InitConfig  *string `yaml:"init_config"`
		OpenParams  *string `yaml:"open_params"`
	} `yaml:"plugins"`
	LoadPlugins []string `yaml:"load_plugins"`
}

// parseDropIn decodes a drop-in strictly: only the keys above, every
// scalar a YAML string (no number or boolean where Falco wants a string).
func parseDropIn(t *testing.T, b []byte) dropIn {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("drop-in is not YAML: %v", err)
	}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode && n.Tag != "!!str" {
			t.Errorf("drop-in line %d: %q is %s, Falco wants strings", n.Line, n.Value, n.Tag)
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&doc)
	var d dropIn
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("drop-in holds a key Falco's config schema does not allow here: %v", err)
	}
	for i, p := range d.Plugins {
		if p.Name == "" || p.LibraryPath == "" {
			t.Errorf("plugins[%d]: name and library_path are required", i)
		}
	}
	return d
}

// TestDropIn: deploy/falco.docker_plugin.yaml uses only Falco's config keys
// with their types, loads this plugin by its name from the installed path,
// and its init_config is valid for the plugin's own init schema and accepted
// by plugin_init; its open params open.
func TestDropIn(t *testing.T) {
	p := plugin(t)
	b, err := os.ReadFile(filepath.Join(root, "deploy", dropInName))
	if err != nil {
		t.Fatal(err)
	}
	d := parseDropIn(t, b)
	if len(d.Plugins) != 1 || len(d.LoadPlugins) != 1 {
		t.Fatalf("drop-in: %d plugins entries and load_plugins %v, want one docker entry and [docker]", len(d.Plugins), d.LoadPlugins)
	}
	e := d.Plugins[0]
	if e.Name != p.Name() || d.LoadPlugins[0] != p.Name() {
		t.Errorf("drop-in names %q and loads %v; the plugin is %q", e.Name, d.LoadPlugins, p.Name())
	}
	if e.LibraryPath != "/usr/share/falco/plugins/libdocker.so" {
		t.Errorf("library_path %s: want the packaged Falco's plugins directory, where make install puts it", e.LibraryPath)
	}
	if e.InitConfig == nil || e.OpenParams == nil {
		t.Fatal("drop-in: init_config and open_params should be spelled out, for the operator to edit")
	}

	schema, typ := p.InitSchema()
	if typ != 1 {
		t.Fatalf("plugin_get_init_schema type %d, want JSON", typ)
	}
	res, err := gojsonschema.Validate(gojsonschema.NewStringLoader(schema), gojsonschema.NewStringLoader(*e.InitConfig))
	if err != nil {
		t.Fatalf("init_config %s: %v", *e.InitConfig, err)
	}
	if !res.Valid() {
		t.Errorf("init_config %s fails the plugin's init schema: %v", *e.InitConfig, res.Errors())
	}
	s, rc := p.Init(*e.InitConfig)
	if rc != harness.Success {
		t.Fatalf("plugin_init(%s): %s", *e.InitConfig, p.LastError(s))
	}
	defer p.Destroy(s)
	// Empty open params with failFast off (the default) open without a
	// daemon too: the plugin keeps reconnecting in the background.
	inst, rc := p.Open(s, *e.OpenParams)
	if rc != harness.Success {
		t.Fatalf("plugin_open(%q): %s", *e.OpenParams, p.LastError(s))
	}
	p.Close(s, inst)

	// Falco reads config.d in name order: this drop-in comes after the
	// container plugin's, so the plugins load as [container, docker].
	if names := []string{dropInName, "falco.container_plugin.yaml"}; sort.StringsAreSorted(names) {
		t.Errorf("%s would be read before falco.container_plugin.yaml", dropInName)
	}
	// README's tuning file sorts after the rules in rules.d.
	if !sort.StringsAreSorted([]string{"docker_rules.yaml", "docker_rules_local.yaml"}) {
		t.Error("docker_rules_local.yaml would be read before docker_rules.yaml")
	}
}

// composeConfig renders deploy/docker-compose.yaml through docker-compose.
func composeConfig(t *testing.T, env ...string) map[string]any {
	t.Helper()
	cmd := exec.Command("docker-compose", "-f", filepath.Join(root, "deploy", "docker-compose.yaml"), "config")
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("docker-compose config: %v\n%s", err, stderr.String())
	}
	var doc map[string]any
	if err := yaml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestComposeFile: docker-compose accepts the file; the service mounts the
// Docker socket read-only where DOCKER_HOST points, and the library, rules
// and drop-in where Falco's packaged config reads them; it runs the docker
// source only, with no capability; DOCKER_PLUGIN_DIR relocates the sources
// (a Swarm node); `docker stack config` accepts it too.
func TestComposeFile(t *testing.T) {
	requireTool(t, "docker-compose", "docker-compose")
	for _, tc := range []struct {
		env []string
		dir string
	}{
		{[]string{"DOCKER_PLUGIN_DIR="}, root}, // empty counts as unset (${DOCKER_PLUGIN_DIR:-..})
		{[]string{"DOCKER_PLUGIN_DIR=/opt/docker-plugin"}, "/opt/docker-plugin"},
	} {
		doc := composeConfig(t, tc.env...)
		svc, _ := doc["services"].(map[string]any)["falco"].(map[string]any)
		if svc == nil {
			t.Fatalf("no falco service in %v", doc)
		}
		image, _ := svc["image"].(string)
		if !strings.HasPrefix(image, "falcosecurity/falco:0.") {
			t.Errorf("image %q: want a pinned falcosecurity/falco release", image)
		}
		if fmt.Sprint(svc["command"]) != "[/usr/bin/falco --disable-source syscall]" {
			t.Errorf("command %v", svc["command"])
		}
		if fmt.Sprint(svc["cap_drop"]) != "[ALL]" || fmt.Sprint(svc["security_opt"]) != "[no-new-privileges:true]" {
			t.Errorf("cap_drop %v security_opt %v", svc["cap_drop"], svc["security_opt"])
		}
		if svc["privileged"] != nil {
			t.Error("privileged container")
		}
		env, _ := svc["environment"].(map[string]any)
		wantMounts := map[string]string{
			"/host/var/run/docker.sock":                    "/var/run/docker.sock",
			"/usr/share/falco/plugins/libdocker.so":        filepath.Join(tc.dir, "libdocker.so"),
			"/etc/falco/rules.d/docker_rules.yaml":         filepath.Join(tc.dir, "rules", "docker_rules.yaml"),
			"/etc/falco/config.d/falco.docker_plugin.yaml": filepath.Join(tc.dir, "deploy", dropInName),
		}
		if env["DOCKER_HOST"] != "unix:///host/var/run/docker.sock" {
			t.Errorf("DOCKER_HOST %v does not name the mounted socket", env["DOCKER_HOST"])
		}
		vols, _ := svc["volumes"].([]any)
		if len(vols) != len(wantMounts) {
			t.Errorf("%d volumes, want %d", len(vols), len(wantMounts))
		}
		for _, v := range vols {
			m, _ := v.(map[string]any)
			target, _ := m["target"].(string)
			if m["type"] != "bind" || m["read_only"] != true || m["source"] != wantMounts[target] {
				t.Errorf("volume %v: want a read-only bind of %q", m, wantMounts[target])
			}
			if tc.dir == root {
				if _, err := os.Stat(m["source"].(string)); err != nil && target != "/host/var/run/docker.sock" {
					t.Errorf("mount source: %v", err)
				}
			}
		}
		if d, _ := svc["deploy"].(map[string]any); d == nil || d["mode"] != "global" {
			t.Errorf("deploy %v: want mode global (one Falco per Swarm node)", svc["deploy"])
		}
	}
	if exec.Command("docker", "stack", "config", "--help").Run() == nil {
		if out, err := exec.Command("docker", "stack", "config", "-c", filepath.Join(root, "deploy", "docker-compose.yaml")).CombinedOutput(); err != nil {
			t.Errorf("docker stack config: %v\n%s", err, out)
		}
	}
}

// systemdUnit is a stand-in for the Falco package's unit (its relevant
// settings: stdout to null, the falco.service alias), for systemd-analyze.
const systemdUnit = `[Unit]
Description=stand-in for a packaged Falco unit
[Service]
Type=simple
ExecStart=/bin/true
StandardOutput=null
[Install]
WantedBy=multi-user.target
Alias=falco.service
`

// verifyUnit lays out the stand-in unit, its falco.service alias and the
// drop-in in the alias' .d directory, and runs systemd-analyze verify.
func verifyUnit(t *testing.T, dropIn []byte) string {
	t.Helper()
	dir := t.TempDir()
	unit := filepath.Join(dir, "falco-modern-bpf.service")
	if err := os.WriteFile(unit, []byte(systemdUnit), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("falco-modern-bpf.service", filepath.Join(dir, "falco.service")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "falco.service.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "falco.service.d", "docker-plugin.conf"), dropIn, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("systemd-analyze", "verify", unit).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	var mine []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, dir) {
			mine = append(mine, l)
		}
	}
	return strings.Join(mine, "\n")
}

// TestSystemdDropIn: the drop-in orders Falco after Docker without tying
// their lives together, sends stderr (the plugin's log lines) to the
// journal, and systemd-analyze verify reads it, through the falco.service
// alias, without a complaint.
func TestSystemdDropIn(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "deploy", "falco-docker-plugin.conf"))
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	section := ""
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "["):
			section = l
		default:
			k, v, _ := strings.Cut(l, "=")
			settings[section+k] = v
		}
	}
	if !strings.Contains(" "+settings["[Unit]After"]+" ", " docker.service ") {
		t.Errorf("After=%q: want docker.service", settings["[Unit]After"])
	}
	for _, k := range []string{"Requires", "Wants", "BindsTo", "PartOf", "Requisite"} {
		if strings.Contains(settings["[Unit]"+k], "docker") {
			t.Errorf("%s=%s ties Falco's life to Docker's", k, settings["[Unit]"+k])
		}
	}
	if settings["[Service]StandardError"] != "journal" {
		t.Errorf("StandardError=%q, want journal", settings["[Service]StandardError"])
	}
	requireTool(t, "systemd-analyze", "systemd")
	if out := verifyUnit(t, b); out != "" {
		t.Errorf("systemd-analyze verify complains about the drop-in:\n%s", out)
	}
	// Control: the same drop-in with a misspelt key is reported, so the
	// silence above means it was read.
	bad := bytes.Replace(b, []byte("StandardError="), []byte("StandardErorr="), 1)
	if out := verifyUnit(t, bad); !strings.Contains(out, "StandardErorr") {
		t.Errorf("systemd-analyze did not read the drop-in through the alias:\n%s", out)
	}
}

// requireTool skips the test when a command it checks the files with is
// missing, except in CI (CI set to anything), where make test installs it
// (make test-tools) and it must run.
func requireTool(t *testing.T, name, debianPackage string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if ci := os.Getenv("CI"); ci != "" {
			t.Fatalf("CI=%s: %s not found (Debian package %s; make test-tools installs it)", ci, name, debianPackage)
		}
		t.Skipf("%s not installed (Debian package %s): not checked", name, debianPackage)
	}
}
