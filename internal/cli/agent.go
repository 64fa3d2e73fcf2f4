package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/opsagent/opsagent/internal/agent"
	"github.com/opsagent/opsagent/internal/agent/report"
	"github.com/opsagent/opsagent/internal/config"
	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/session"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/releasetools"
	"github.com/opsagent/opsagent/internal/toolset"
)

// maxRequestsPerFile bounds -f; a longer batch is surely a mistake.
const maxRequestsPerFile = 1000

// maxRequestBytes bounds one request: a request is a sentence or a short
// paragraph, and everything in it is sent to the model on every step.
const maxRequestBytes = 16 << 10

// maxToolTimeout is the longest wait any tool accepts (timeout_seconds
// 1800); a longer --timeout would make every tool call invalid.
const maxToolTimeout = 30 * time.Minute

// AgentOptions are the flags of `opsagent REQUEST`.
type AgentOptions struct {
	approvalFlags
	Model           string
	MaxSteps        int
	PlannerOnly     bool
	Output          string
	File            string
	ContinueOnError bool
	Timeout         time.Duration

	// ChartDirs are the folders (--chart-dir) the model may deploy charts
	// and values files from; none: only the built-in chart.
	ChartDirs []string

	global *GlobalOptions
	genericiooptions.IOStreams
	output *outputFlag

	// Resolved by Complete.
	requests    []string
	cfg         config.Config
	clients     *kube.Clients
	interactive bool
	progress    bool

	// Seams for tests.
	getenv     func(string) string
	newTools   func(*kube.Clients) []tools.Tool
	isTerminal func(any) bool
}

// NewAgentOptions returns the defaults.
func NewAgentOptions(g *GlobalOptions, streams genericiooptions.IOStreams) *AgentOptions {
	o := &AgentOptions{
		MaxSteps:   agent.DefaultMaxSteps,
		global:     g,
		IOStreams:  streams,
		getenv:     os.Getenv,
		isTerminal: isTerminal,
	}
	o.newTools = func(c *kube.Clients) []tools.Tool {
		return toolset.New(c, toolset.Options{Helm: releasetools.Options{ChartRoots: o.ChartDirs}})
	}
	return o
}

// addAgentCommand makes the root command run the agent on its arguments.
func addAgentCommand(root *cobra.Command, g *GlobalOptions, streams genericiooptions.IOStreams) {
	bindAgentCommand(root, NewAgentOptions(g, streams))
}

// bindAgentCommand makes root run the agent with o and its flags; eval binds
// its own options to a command of its own, so its runs parse flags alike.
func bindAgentCommand(root *cobra.Command, o *AgentOptions) {
	root.Example = `  opsagent "scale backend to 3"
  opsagent restart the frontend --yes
  opsagent "why is the backend failing?" -n todo
  opsagent "scale backend to 3" --dry-run
  opsagent "set backend image to todo-backend:1.4" -n todo --yes
  opsagent "give the backend 512Mi memory" -n todo --yes
  opsagent "autoscale backend from 2 to 5 at 70% cpu" -n todo --yes
  opsagent "expose frontend on port 80" -n todo --yes
  opsagent "resize the database volume to 5Gi" -n todo --yes
  opsagent "scale backend up by 100%" -n todo --yes
  opsagent "cordon minikube" --yes --allow-privileged
  opsagent -f requests.txt -o json --yes     # one request per line; # comments`
	root.Long += `

Changes: each write is previewed and asked about on a terminal (y/N), or
approved with --yes. --yes covers the request's namespace only (-n, else the
kubeconfig's); a change elsewhere is asked on the terminal or refused.
Destructive changes (deletions, scale to 0, drain, an upgrade that removes
objects) also need --allow-destructive; privileged ones (RBAC, cluster-scoped
objects such as nodes, webhooks, CRDs, privileged or hostPath pods) also need
--allow-privileged. Without a terminal (or with --non-interactive) nothing
unapproved is changed. Details: docs/risk.md.

Output: text by default. -o json prints one JSON document on stdout:
  {"request", "mode": "llm"|"fallback", "fallbackReason",
   "actions": [{"tool", "args", "risk", "approved", "approvedBy", "preview",
                "dryRun", "result" | "error"}],
   "answer", "error", "usage"}
With -f the document is {"runs": [...]}, one object per request, in order.
Logs and progress go to stderr.

Exit codes: 0 done; 1 an action failed; 2 bad input (unknown workload,
invalid value, request not understood); 3 a change needed approval that was
not given; 5 a change was made but did not converge (rollout or drain timed
out).`
	run := runOptions(o)
	root.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 && o.File == "" {
			return cmd.Help()
		}
		return run(cmd, args)
	}
	f := root.Flags()
	f.StringVar(&o.Model, "model", "", "model name (default $"+config.KeyModel+", else "+config.DefaultModel+")")
	f.IntVar(&o.MaxSteps, "max-steps", o.MaxSteps, "maximum model calls per request")
	o.approvalFlags.addFlags(f, approvalOffer{destructive: true})
	f.BoolVar(&o.PlannerOnly, "no-llm", false, "use the deterministic planner even if a model is configured")
	f.StringArrayVar(&o.ChartDirs, "chart-dir", nil, "folder the model may deploy Helm charts and values files from (repeatable; default: only the built-in chart)")
	o.output = addOutputFlag(root, &o.Output)
	f.StringVarP(&o.File, "filename", "f", "", "read requests from a file, one per line ('-' for stdin; blank lines and # comments skipped)")
	f.BoolVar(&o.ContinueOnError, "continue-on-error", false, "with -f, run the remaining requests after a failure")
	f.DurationVar(&o.Timeout, "timeout", 0, "how long changes wait for the workload to be ready (default: the tool's, 2m)")
}

// Complete reads the requests and resolves the configuration; clients are
// built by Run.
func (o *AgentOptions) Complete(args []string) error {
	if o.File != "" {
		reqs, err := o.readRequests()
		if err != nil {
			return BadInput(err)
		}
		o.requests = reqs
	} else {
		o.requests = []string{strings.Join(args, " ")}
	}
	cfg, err := config.Load(o.getenv)
	if err != nil {
		return BadInput(err)
	}
	if o.Model != "" {
		cfg.Model = o.Model
	}
	if o.AuditLog != "" {
		cfg.AuditLog = o.AuditLog
	}
	o.cfg = cfg
	if err := checkChartDirs(o.ChartDirs); err != nil {
		return BadInput(err)
	}
	// Answers are read from stdin, so only when it is a terminal and not
	// the request file.
	o.interactive = !o.NonInteractive && o.File != "-" && o.isTerminal(o.In)
	o.progress = o.isTerminal(o.ErrOut)
	return nil
}

// checkChartDirs makes sure each --chart-dir names a folder, so that a
// typo is reported instead of silently allowing nothing.
func checkChartDirs(dirs []string) error {
	for _, d := range dirs {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("--chart-dir %s: %w", d, err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("--chart-dir %s is not a folder; name the folder that holds the charts and values files", d)
		}
	}
	return nil
}

func (o *AgentOptions) readRequests() ([]string, error) {
	var r io.Reader
	if o.File == "-" {
		r = o.In
	} else {
		f, err := os.Open(o.File)
		if err != nil {
			return nil, fmt.Errorf("read requests: %w", err)
		}
		defer func() { _ = f.Close() }() // read-only
		r = f
	}
	var reqs []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := checkRequest(line); err != nil {
			return nil, fmt.Errorf("%s: %w", o.File, err)
		}
		reqs = append(reqs, line)
		if len(reqs) > maxRequestsPerFile {
			return nil, fmt.Errorf("%s has more than %d requests; split it", o.File, maxRequestsPerFile)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read requests from %s: %w", o.File, err)
	}
	if len(reqs) == 0 {
		return nil, fmt.Errorf("%s holds no requests (blank lines and # comments are skipped)", o.File)
	}
	return reqs, nil
}

// Validate checks the flags and the request on the command line; Complete
// checks the requests of a file as it reads them.
func (o *AgentOptions) Validate(args []string) error {
	if o.File != "" && len(args) > 0 {
		return errors.New("give a request or -f FILE, not both")
	}
	if err := o.output.validate(); err != nil {
		return err
	}
	if o.MaxSteps < 1 || o.MaxSteps > 50 {
		return fmt.Errorf("--max-steps must be between 1 and 50, got %d", o.MaxSteps)
	}
	if o.Timeout < 0 || o.Timeout > maxToolTimeout {
		return fmt.Errorf("--timeout must be between 0 and %s (the longest a tool waits), got %s", maxToolTimeout, o.Timeout)
	}
	if o.ContinueOnError && o.File == "" {
		return errors.New("--continue-on-error needs -f FILE")
	}
	if o.File == "" {
		return checkRequest(strings.Join(args, " "))
	}
	return nil
}

// checkRequest checks one request.
func checkRequest(r string) error {
	if strings.TrimSpace(r) == "" {
		return errors.New("the request is empty; say what to do, e.g. \"scale backend to 3\"")
	}
	if len(r) > maxRequestBytes {
		return fmt.Errorf("the request is %d bytes, more than %d; say it in fewer words (put long material in the cluster, not the request)", len(r), maxRequestBytes)
	}
	return nil
}

// Run connects to the cluster, answers each request in order and prints
// the outcome. Clients are built here, after Validate, so bad input is
// reported as such (exit 2) even without a reachable kubeconfig.
func (o *AgentOptions) Run(ctx context.Context) error {
	clients, err := kube.NewClients(o.global.ConfigFlags)
	if err != nil {
		return err
	}
	o.clients = clients
	log := slog.Default()
	ag, err := o.newAgent(log)
	if err != nil {
		return err
	}
	var runs []*agent.Run
	var firstErr error
	for _, req := range o.requests {
		run, err := ag.Run(ctx, req)
		runs = append(runs, run)
		if o.Output == outputText {
			opts := report.Options{ShowRequest: len(o.requests) > 1, ShowReadResults: run.Mode == agent.ModeFallback}
			if werr := report.Text(o.Out, run, opts); werr != nil {
				return fmt.Errorf("write output: %w", werr)
			}
		}
		if err != nil { // cancelled
			firstErr = &ExitError{Code: ExitFailed, Err: err}
			break
		}
		if run.Err() != nil && firstErr == nil {
			// Action errors are in the text report already; others (and
			// everything in JSON mode) go to stderr through Execute.
			firstErr = &ExitError{Code: exitCodeFor(run.Err()), Err: run.Err(),
				Silent: o.Output == outputText && report.ActionError(run)}
		}
		if run.Err() != nil && !o.ContinueOnError {
			break
		}
	}
	if o.Output == outputJSON {
		if err := o.writeJSON(runs); err != nil {
			return err
		}
	}
	return firstErr
}

// writeJSON prints one document: the run for a single request, or
// {"runs": [...]} for -f.
func (o *AgentOptions) writeJSON(runs []*agent.Run) error {
	enc := json.NewEncoder(o.Out)
	enc.SetIndent("", "  ")
	var doc any = struct {
		Runs []*agent.Run `json:"runs"`
	}{runs}
	if o.File == "" && len(runs) == 1 {
		doc = runs[0]
	}
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write JSON output: %w", err)
	}
	return nil
}

func (o *AgentOptions) newAgent(log *slog.Logger) (*agent.Agent, error) {
	reg := tools.NewRegistry(o.newTools(o.clients)...)
	var prog agent.Progress
	if o.progress {
		prog = newSpinner(o.ErrOut)
	}
	settings := o.gateSettings(o.cfg.AuditLog)
	if o.interactive {
		settings.Ask = newAsker(o.In, o.ErrOut, prog).ask
	}
	return session.NewAgent(o.clients, session.NewGate(reg, o.clients, settings), session.AgentSettings{
		Config: o.cfg, PlannerOnly: o.PlannerOnly, MaxSteps: o.MaxSteps, ToolTimeout: o.Timeout, Progress: prog, Logger: log,
	})
}

// exitCodeFor maps a failed run to the documented exit codes.
func exitCodeFor(err error) int {
	switch {
	case errors.Is(err, tools.ErrApprovalRequired), errors.Is(err, tools.ErrDeclined):
		return ExitApprovalRequired
	case tools.IsBadInput(err):
		return ExitBadInput
	case errors.Is(err, tools.ErrNotConverged):
		return ExitNotConverged
	}
	return ExitFailed
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// asker asks for approval on a terminal, one action at a time.
type asker struct {
	in       *bufio.Reader
	out      io.Writer
	progress agent.Progress
	// mask hides secret-looking argument values in the prompt.
	mask func(json.RawMessage) json.RawMessage
}

func newAsker(in io.Reader, out io.Writer, progress agent.Progress) *asker {
	return &asker{in: bufio.NewReader(in), out: out, progress: progress, mask: session.MaskArgs}
}

func (a *asker) ask(ctx context.Context, req tools.ApprovalRequest) (bool, error) {
	if a.progress != nil {
		a.progress.Stop()
	}
	if _, err := fmt.Fprint(a.out, approvalPrompt(req, a.mask)+"Apply this change? [y/N]: "); err != nil {
		return false, fmt.Errorf("show approval prompt: %w", err)
	}
	answer, err := a.readLine(ctx)
	if err != nil {
		return false, err
	}
	ok := answer == "y" || answer == "yes"
	if ok && a.progress != nil {
		a.progress.Start("applying " + req.Tool + " …")
	}
	return ok, nil
}

// readLine reads one answer, giving up when ctx ends (Ctrl-C). The read
// itself cannot be interrupted; its goroutine ends with the next line or
// with the process.
func (a *asker) readLine(ctx context.Context) (string, error) {
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		line, err := a.in.ReadString('\n')
		ch <- result{line, err}
	}()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case r := <-ch:
		switch {
		case r.err == nil, errors.Is(r.err, io.EOF):
			// A last line without newline counts; no answer at all is a no.
			return strings.ToLower(strings.TrimSpace(r.line)), nil
		default:
			return "", fmt.Errorf("read answer: %w", r.err)
		}
	}
}

// spinner shows progress on a terminal's stderr.
type spinner struct {
	out io.Writer

	mu   sync.Mutex
	stop chan struct{}
	done chan struct{}
}

func newSpinner(out io.Writer) *spinner { return &spinner{out: out} }

var _ agent.Progress = (*spinner)(nil)

func (s *spinner) Start(msg string) {
	s.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	go s.spin(msg, s.stop, s.done)
}

func (s *spinner) Stop() {
	s.mu.Lock()
	stop, done := s.stop, s.done
	s.stop, s.done = nil, nil
	s.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

func (s *spinner) spin(msg string, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	frames := []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	start := time.Now()
	for i := 0; ; i++ {
		_, _ = fmt.Fprintf(s.out, "\r\033[K%s %s %s", frames[i%len(frames)], msg, time.Since(start).Round(time.Second)) // best effort
		select {
		case <-stop:
			_, _ = fmt.Fprint(s.out, "\r\033[K")
			return
		case <-t.C:
		}
	}
}
