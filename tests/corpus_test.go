package tests

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
)

// genCorpus returns n realistic Docker event messages: the mix a busy host
// produces (container lifecycle and exec events dominate), attribute counts
// and sizes like real daemons send (compose and swarm labels, OCI image
// labels; every 20th container carries a 60-label set), alternating the
// pre-1.52 shape (status/id/from) and the 1.52 shape.
func genCorpus(n int, seed int64) [][]byte {
	rng := rand.New(rand.NewSource(seed))
	hex := func(k int) string {
		const digits = "0123456789abcdef"
		b := make([]byte, k)
		for i := range b {
			b[i] = digits[rng.Intn(16)]
		}
		return string(b)
	}
	images := []string{"alpine:3.20", "nginx:1.27", "registry.example.com:5000/team/api:2.14.1", "postgres:16", "redis:7.2-alpine"}
	out := make([][]byte, 0, n)
	ts := int64(1700000000000000000)
	for i := 0; i < n; i++ {
		ts += int64(rng.Intn(5_000_000))
		id := hex(64)
		img := images[rng.Intn(len(images))]
		name := fmt.Sprintf("proj-%s-%d", []string{"web", "db", "cache", "worker"}[rng.Intn(4)], rng.Intn(9)+1)
		attrs := map[string]string{"image": img, "name": name,
			"com.docker.compose.project": "proj", "com.docker.compose.service": "web", "com.docker.compose.version": "2.29.1",
			"com.docker.compose.container-number": "1", "com.docker.compose.oneoff": "False",
			"org.opencontainers.image.source": "https://github.com/example/app", "org.opencontainers.image.version": "2.14.1"}
		if i%20 == 0 {
			for k := 0; k < 60; k++ {
				attrs[fmt.Sprintf("com.example.team.label%02d", k)] = hex(24)
			}
		}
		typ, action := "container", ""
		switch r := rng.Intn(100); {
		case r < 20:
			action = "create"
		case r < 35:
			action = "start"
		case r < 50:
			action = "exec_create: sh -c 'cat /etc/os-release'"
			attrs["execID"] = hex(64)
		case r < 60:
			action = "exec_start: sh -c 'cat /etc/os-release'"
			attrs["execID"] = hex(64)
		case r < 70:
			action = "die"
			attrs["exitCode"] = fmt.Sprint(rng.Intn(2) * 137)
		case r < 75:
			action = "kill"
			attrs["signal"] = "9"
		case r < 80:
			action = "health_status: healthy"
		case r < 88:
			typ, action = "network", "connect"
			attrs = map[string]string{"container": id, "name": "proj_default", "type": "bridge"}
			id = hex(64)
		case r < 94:
			typ, action = "image", "pull"
			attrs = map[string]string{"name": img, "org.opencontainers.image.version": "2.14.1"}
			id = img
		default:
			typ, action = "volume", "mount"
			attrs = map[string]string{"container": id, "destination": "/var/lib/data", "driver": "local", "propagation": "", "read/write": "true"}
			id = "proj_data"
		}
		m := map[string]any{"Type": typ, "Action": action, "Actor": map[string]any{"ID": id, "Attributes": attrs},
			"scope": "local", "time": ts / 1e9, "timeNano": ts}
		if i%2 == 0 && (typ == "container" || typ == "image") {
			m["status"], m["id"] = action, id
			if typ == "container" {
				m["from"] = img
			}
		}
		b, _ := json.Marshal(m)
		out = append(out, b)
	}
	return out
}

// writeCorpus writes n generated events as a .jsonl file in dir.
func writeCorpus(t testing.TB, dir string, n int) string {
	t.Helper()
	path := filepath.Join(dir, fmt.Sprintf("corpus-%d.jsonl", n))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for _, l := range genCorpus(n, 42) {
		w.Write(l)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path
}
