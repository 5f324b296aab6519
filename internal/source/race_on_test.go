//go:build race

package source

// raceEnabled: the race detector makes big copies slow; single-goroutine
// model tests do less work under it.
const raceEnabled = true
