package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// process is one started component as recorded in the state file, so a later
// opsagent invocation (status, down) can find it again.
type process struct {
	Name   string   `json:"name"`
	PID    int      `json:"pid"`
	Binary string   `json:"binary"`
	Args   []string `json:"args"`
	Log    string   `json:"log"`

	// exited is closed when the process ends, if this invocation started it.
	exited chan struct{} `json:"-"`
	// waitErr is the exit status, valid after exited is closed.
	waitErr error `json:"-"`
}

// startProcess starts binary with args in its own session (so a terminal's
// Ctrl-C after `up` returns does not reach it and it outlives opsagent), with
// stdout and stderr appended to logPath.
func startProcess(name, binary string, args []string, logPath string, env []string) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open log for %s: %w", name, err)
	}
	defer func() { _ = logFile.Close() }() // the child has its own descriptor
	if _, err := fmt.Fprintf(logFile, "\n==== %s starting %s at %s ====\n", name, binary, time.Now().Format(time.RFC3339)); err != nil {
		return nil, fmt.Errorf("write log for %s: %w", name, err)
	}

	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Stdin = nil
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", name, binary, err)
	}
	p := &process{Name: name, PID: cmd.Process.Pid, Binary: binary, Args: args, Log: logPath, exited: make(chan struct{})}
	// Reap the child while this invocation lives, and learn at once when a
	// component dies during start-up instead of waiting for a timeout.
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// hasExited reports whether a process started by this invocation has ended.
func (p *process) hasExited() bool {
	if p.exited == nil {
		return !p.alive()
	}
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// alive reports whether the recorded PID still runs the recorded binary
// (PIDs are reused; a zombie counts as dead).
func (p *process) alive() bool {
	if p.PID <= 0 {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(p.PID) + "/stat")
	if err != nil {
		return false
	}
	// The state field follows the parenthesised command name.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
		return false
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(p.PID) + "/cmdline")
	if err != nil {
		return false
	}
	argv0, _, _ := strings.Cut(string(cmdline), "\x00")
	return argv0 == p.Binary
}

// stop sends SIGTERM to the process group, waits up to grace, then SIGKILLs.
// It returns once the process is gone.
func (p *process) stop(grace time.Duration) error {
	if !p.alive() {
		return nil
	}
	_ = syscall.Kill(-p.PID, syscall.SIGTERM)
	if p.waitGone(grace) {
		return nil
	}
	_ = syscall.Kill(-p.PID, syscall.SIGKILL)
	if p.waitGone(5 * time.Second) {
		return nil
	}
	return fmt.Errorf("%s (pid %d) did not exit after SIGKILL", p.Name, p.PID)
}

func (p *process) waitGone(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if p.hasExited() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return p.hasExited()
}

// exitDescription says how a process started by this invocation ended.
func (p *process) exitDescription() string {
	if p.waitErr == nil {
		return "exited with status 0"
	}
	var ee *exec.ExitError
	if errors.As(p.waitErr, &ee) {
		return ee.String()
	}
	return p.waitErr.Error()
}

// tailFile returns up to n final lines of a log file.
func tailFile(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer func() { _ = f.Close() }() // read-only
	const maxRead = 64 << 10
	if st, err := f.Stat(); err == nil && st.Size() > maxRead {
		_, _ = f.Seek(st.Size()-maxRead, io.SeekStart)
	}
	data, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
