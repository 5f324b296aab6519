package fields

import (
	"testing"

	"github.com/falco-docker/docker-plugin/internal/event"
)

// A realistic container event: compose labels and a dozen image labels, as
// daemons send for compose-managed containers (~1 KiB).
var benchEvent = []byte(`{"status":"die","id":"e327f1fa52a90d79421e416aed60e6de6872231f31101a1cc63401e90cef4bd6","from":"registry.example.com/shop/api:1.4.2","Type":"container","Action":"die","Actor":{"ID":"e327f1fa52a90d79421e416aed60e6de6872231f31101a1cc63401e90cef4bd6","Attributes":{"com.docker.compose.config-hash":"9f1c3c5f4d0a0c1e8b3b7e9a1f3d5c7b9a1e3f5d7c9b1a3e5f7d9c1b3a5e7f9d","com.docker.compose.container-number":"1","com.docker.compose.depends_on":"db:service_started:false","com.docker.compose.image":"sha256:2b1e0c3d4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c","com.docker.compose.oneoff":"False","com.docker.compose.project":"shop","com.docker.compose.project.config_files":"/srv/shop/compose.yaml","com.docker.compose.project.working_dir":"/srv/shop","com.docker.compose.service":"api","com.docker.compose.version":"2.29.1","exitCode":"137","image":"registry.example.com/shop/api:1.4.2","name":"shop-api-1","org.opencontainers.image.created":"2024-05-01T10:00:00Z","org.opencontainers.image.revision":"4f2a9c1","org.opencontainers.image.source":"https://git.example.com/shop/api","org.opencontainers.image.title":"api","org.opencontainers.image.version":"1.4.2"}},"scope":"local","time":1714560000,"timeNano":1714560000123456789}`)

type discard struct{ n int }

func (d *discard) String(s string) { d.n += len(s) }
func (d *discard) Uint64(uint64)   { d.n++ }
func (d *discard) Bool(bool)       { d.n++ }

// BenchmarkParse: one pass over the message (what the first field of an
// event costs before extraction proper).
func BenchmarkParse(b *testing.B) {
	var e event.Event
	b.SetBytes(int64(len(benchEvent)))
	b.ReportAllocs()
	for b.Loop() {
		e.Parse(benchEvent)
	}
}

// BenchmarkExtractEveryField: every field of the table on a parsed event
// (docker.attributes with a label key); one op = one field.
func BenchmarkExtractEveryField(b *testing.B) {
	var e event.Event
	e.Parse(benchEvent)
	var out discard
	b.ReportAllocs()
	for b.Loop() {
		for id := range numFields {
			Extract(uint64(id), "com.docker.compose.project", Table[id].ArgRequired, &e, &out)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*numFields), "ns/field")
}

// BenchmarkParseAndExtractAll: the per-event cost with a fresh event (the
// registry plugin's json.Unmarshal path costs 10-25 µs here).
func BenchmarkParseAndExtractAll(b *testing.B) {
	var e event.Event
	var out discard
	b.ReportAllocs()
	for b.Loop() {
		e.Parse(benchEvent)
		for id := range numFields {
			Extract(uint64(id), "com.docker.compose.project", Table[id].ArgRequired, &e, &out)
		}
	}
}
