package tests

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// These helpers look at, or poke, the OS thread a harness call runs on. A
// cgo call runs on the calling goroutine's thread, so a goroutine locked to
// its thread knows which thread the plugin's C code will run on.

// lockedThread locks the calling goroutine to its OS thread and returns the
// thread id. The caller unlocks (or exits, which ends the thread).
func lockedThread() int {
	runtime.LockOSThread()
	return unix.Gettid()
}

// signalThread sends SIGURG (the Go runtimes' preemption signal, which a
// real Falco process receives too) to thread tid every interval until the
// returned stop is called; stop (which may be called again) returns how
// many were sent. A thread blocked in poll(2) returns from it with EINTR on
// each.
func signalThread(tid int, interval time.Duration) (stop func() int64) {
	var sent atomic.Int64
	var once sync.Once
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		pid := os.Getpid()
		for {
			select {
			case <-done:
				return
			default:
			}
			if unix.Tgkill(pid, tid, unix.SIGURG) == nil {
				sent.Add(1)
			}
			time.Sleep(interval)
		}
	}()
	return func() int64 {
		once.Do(func() { close(done) })
		<-finished
		return sent.Load()
	}
}

// pollSyscall is the system call C's poll(3) makes on this architecture
// (arm64 has no poll(2): glibc uses ppoll).
var pollSyscall = map[string]int{"amd64": unix.SYS_POLL, "arm64": unix.SYS_PPOLL}

// inPoll reports whether thread tid is blocked in poll with one
// descriptor: the C wait of abi/nextbatch.c (Go's own waits use ppoll,
// epoll or futexes, never poll with one descriptor), read from
// /proc/self/task/<tid>/syscall ("<nr> <arg1> <arg2> ..." while blocked in
// a system call).
func inPoll(tid int) (bool, error) {
	nr, ok := pollSyscall[runtime.GOARCH]
	if !ok {
		return false, fmt.Errorf("no poll system call number known for %s", runtime.GOARCH)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/syscall", tid))
	if err != nil {
		return false, err
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return false, nil // "running", or not in a system call
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n != nr {
		return false, nil
	}
	nfds, err := strconv.ParseUint(strings.TrimPrefix(f[2], "0x"), 16, 64)
	return err == nil && nfds == 1, nil
}
