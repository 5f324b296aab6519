package dockertest

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

// daemonProc is a container engine daemon the tests run themselves: in
// network and mount namespaces of its own, in a process group of its own,
// logging to a file, and killed with the test binary if that dies.
//
// Own network namespace: a dockerd started with --bridge=none deletes any
// docker0 interface it sees (the system daemon's, in the host namespace),
// and Podman's netavark would add bridges and firewall rules to the host's.
// Own mount namespace (CLONE_NEWNS also makes the child's / private): its
// mounts (dockerd bind-mounts its data root onto itself) never reach the
// host.
type daemonProc struct {
	proc   *os.Process // signalled through Go's pidfd: never a reused pid
	exited chan error  // receives the exit once
}

// startDaemonProc starts name with args and extra environment, stdout and
// stderr appended to logPath.
func startDaemonProc(name string, args, env []string, logPath string) (*daemonProc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	started := make(chan error, 1)
	d := &daemonProc{exited: make(chan error, 1)}
	go func() {
		// Pdeathsig fires when the thread that forked exits, not the
		// process: this goroutine keeps its thread until the daemon is gone,
		// so a test binary that dies (a timeout panic) takes the daemon with
		// it and a Go thread that merely retires does not.
		//
		// It unlocks once the daemon has exited, and must: a goroutine that
		// ends while locked makes the runtime end its thread, and a thread
		// of this process that once called into the plugin carries an M of
		// the plugin's Go runtime, which that runtime drops from a pthread
		// key destructor as the thread exits; dropping it unblocks signals
		// on a thread whose M this runtime has already torn down, and a
		// pending SIGURG then faults in this runtime's handler (seen: the
		// harness under cgocheck2 killed by SIGSEGV in adjustSignalStack).
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer logf.Close()
		cmd := exec.Command(name, args...)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.Env = append(os.Environ(), env...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM,
			Unshareflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWNS}
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		d.proc = cmd.Process
		started <- nil
		d.exited <- cmd.Wait()
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return d, nil
}

// stop sends SIGTERM (what an operator's restart does: the daemon closes
// its event streams) and waits up to grace, then kills the whole process
// group. It reports whether SIGTERM was enough.
func (d *daemonProc) stop(grace time.Duration) error {
	d.proc.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
		return nil
	case <-time.After(grace):
	}
	syscall.Kill(-d.proc.Pid, syscall.SIGKILL)
	<-d.exited
	return errors.New("ignored SIGTERM; killed")
}
