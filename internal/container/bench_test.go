package container

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/falco-docker/docker-plugin/internal/metrics"
)

// BenchmarkEnricherAdd: the live path's cost per event in the reader (the
// enricher takes each event it reads): an event of a container whose
// context is cached (parse, look up, insert the member, deliver) against an
// event that names no container (parse, deliver as is). One op = one event.
func BenchmarkEnricherAdd(b *testing.B) {
	f := newFake()
	f.add("c1", true)
	for _, tc := range []struct{ name, msg string }{
		{"cached container", msg("container", "exec_start: sh -c id", "c1", 0, `"execID":"x","image":"nginx:1.27","name":"web","com.docker.compose.project":"shop"`)},
		{"no container", msg("image", "pull", "nginx:1.27", 0, `"name":"nginx"`)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var n atomic.Int64
			e := New(Config{Timeout: 5 * time.Second, Concurrency: 1, CacheSize: 16, MaxEventSize: 65536, MaxPending: 64}, &metrics.Counters{}, quiet{},
				func(p []byte, ts uint64) { n.Add(int64(len(p))) })
			defer e.Close()
			e.SetInspector(f)
			line := []byte(tc.msg)
			e.Add(line, 0)
			for deadline := time.Now().Add(10 * time.Second); n.Load() == 0; time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					b.Fatal("the first event was never delivered")
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for k := 0; k < b.N; k++ {
				e.Add(line, uint64(k))
			}
		})
	}
}
