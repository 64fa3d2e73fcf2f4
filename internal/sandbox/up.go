package sandbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Up starts the sandbox described by cfg and returns once the API is ready,
// every node is Ready and the default ServiceAccount exists. On failure it
// stops whatever it started and the error carries the tail of the failing
// component's log.
func Up(ctx context.Context, cfg Config) (*State, error) {
	start := time.Now()
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()

	if prev, err := LoadState(cfg.StateDir); err == nil {
		if alive := prev.running(); len(alive) > 0 {
			names := make([]string, 0, len(alive))
			for _, p := range alive {
				names = append(names, fmt.Sprintf("%s (pid %d)", p.Name, p.PID))
			}
			return nil, fmt.Errorf("%w: sandbox %q has %s; see `opsagent sandbox status --name %s`, or stop it with `opsagent sandbox down --name %s`",
				ErrAlreadyRunning, cfg.Name, strings.Join(names, ", "), cfg.Name, cfg.Name)
		}
	}
	if err := checkBinaries(cfg.BinDir); err != nil {
		return nil, err
	}
	if err := cfg.Ports.resolve(); err != nil {
		return nil, err
	}
	for _, d := range []string{"logs", "pki", "etcd", "volumes", "podlogs", "config"} {
		if err := os.MkdirAll(filepath.Join(cfg.StateDir, d), 0o700); err != nil {
			return nil, fmt.Errorf("create state folder: %w", err)
		}
	}
	p, err := ensurePKI(filepath.Join(cfg.StateDir, "pki"))
	if err != nil {
		return nil, fmt.Errorf("create certificates: %w", err)
	}
	if err := ensureMetricsServerPKI(p); err != nil {
		return nil, fmt.Errorf("create metrics-server certificates: %w", err)
	}

	ctxName := "opsagent-" + cfg.Name
	st := &State{
		Name:       cfg.Name,
		Dir:        cfg.StateDir,
		Kubeconfig: filepath.Join(cfg.StateDir, "kubeconfig"),
		Context:    ctxName,
		Server:     "https://127.0.0.1:" + itoa(cfg.Ports.APIServer),
		Ports:      cfg.Ports,
		StartedAt:  start,
	}
	for i := range cfg.Nodes {
		st.Nodes = append(st.Nodes, nodeName(i))
	}
	u := &upper{cfg: cfg, st: st, pki: p}
	if err := u.run(ctx); err != nil {
		// Leave nothing behind: a half-started sandbox holds ports and
		// blocks the next `up`.
		for i := len(st.Processes) - 1; i >= 0; i-- {
			_ = st.Processes[i].stop(5 * time.Second)
		}
		_ = os.Remove(stateFile(cfg.StateDir))
		return nil, err
	}
	st.ReadyAfter = time.Since(start).Round(time.Millisecond)
	if err := st.save(); err != nil {
		return nil, err
	}
	return st, nil
}

type upper struct {
	cfg Config
	st  *State
	pki pki
}

func (u *upper) progress(format string, args ...any) {
	_, _ = fmt.Fprintf(u.cfg.Progress, format+"\n", args...) // progress is informational: a closed terminal must not stop start-up
}

func (u *upper) path(parts ...string) string {
	return filepath.Join(append([]string{u.cfg.StateDir}, parts...)...)
}

func (u *upper) start(name string, args []string) (*process, error) {
	proc, err := startProcess(name, filepath.Join(u.cfg.BinDir, name), args, u.path("logs", name+".log"), nil)
	if err != nil {
		return nil, err
	}
	u.st.Processes = append(u.st.Processes, proc)
	// Record each process as soon as it runs, so `down` can stop a sandbox
	// whose `up` was interrupted.
	return proc, u.st.save()
}

// componentFailed builds the error for a component that died or never
// became healthy, with the end of its log.
func componentFailed(proc *process, what string) error {
	state := "did not become ready"
	if proc.hasExited() {
		state = proc.exitDescription()
	}
	return fmt.Errorf("%s %s (%s); last lines of %s:\n%s", proc.Name, state, what, proc.Log, indent(tailFile(proc.Log, 20)))
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

func (u *upper) run(ctx context.Context) error {
	cfg, st, p := u.cfg, u.st, u.pki
	ports := cfg.Ports
	loop := func(port int) string { return "127.0.0.1:" + itoa(port) }

	u.progress("starting etcd on %s", loop(ports.EtcdClient))
	etcd, err := u.start("etcd", []string{
		"--name=sandbox",
		"--data-dir=" + u.path("etcd"),
		"--listen-client-urls=http://" + loop(ports.EtcdClient),
		"--advertise-client-urls=http://" + loop(ports.EtcdClient),
		"--listen-peer-urls=http://" + loop(ports.EtcdPeer),
		"--initial-advertise-peer-urls=http://" + loop(ports.EtcdPeer),
		"--initial-cluster=sandbox=http://" + loop(ports.EtcdPeer),
		// A throwaway cluster: durability is not worth the fsync latency.
		"--unsafe-no-fsync=true",
		"--quota-backend-bytes=4294967296",
		"--log-level=warn",
	})
	if err != nil {
		return err
	}
	if err := waitHTTP(ctx, etcd, nil, "http://"+loop(ports.EtcdClient)+"/health"); err != nil {
		return componentFailed(etcd, err.Error())
	}

	u.progress("starting kube-apiserver on https://%s", loop(ports.APIServer))
	api, err := u.start("kube-apiserver", append([]string{
		"--etcd-servers=http://" + loop(ports.EtcdClient),
		"--bind-address=127.0.0.1",
		"--secure-port=" + itoa(ports.APIServer),
		"--advertise-address=127.0.0.1",
		// The endpoint reconciler refuses a loopback advertise address.
		"--endpoint-reconciler-type=none",
		"--tls-cert-file=" + p.path("apiserver.crt"),
		"--tls-private-key-file=" + p.path("apiserver.key"),
		"--client-ca-file=" + p.path("ca.crt"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + p.path("sa.pub"),
		"--service-account-signing-key-file=" + p.path("sa.key"),
		"--service-cluster-ip-range=10.96.0.0/16",
		"--authorization-mode=Node,RBAC",
		"--allow-privileged=true",
		// For logs: the apiserver connects to kwok's kubelet API.
		"--kubelet-client-certificate=" + p.path("apiserver-kubelet-client.crt"),
		"--kubelet-client-key=" + p.path("apiserver-kubelet-client.key"),
		"--kubelet-preferred-address-types=InternalIP,Hostname",
		"--profiling=false",
		"--v=0",
	}, frontProxyArgs(p)...))
	if err != nil {
		return err
	}
	if err := waitHTTP(ctx, api, u.adminTLS(), st.Server+"/readyz"); err != nil {
		return componentFailed(api, err.Error())
	}

	for _, id := range []string{"admin", "controller-manager", "scheduler", "kwok", "provisioner", metricsServerName} {
		path := u.path("config", id+".kubeconfig")
		if id == "admin" {
			path = st.Kubeconfig
		}
		if err := writeKubeconfig(path, st.Server, st.Context, p, id); err != nil {
			return err
		}
	}

	u.progress("creating nodes, StorageClass standard, IngressClass nginx")
	b, err := newBootstrapper(st.Kubeconfig)
	if err != nil {
		return err
	}
	if err := b.apply(ctx, u); err != nil {
		return fmt.Errorf("bootstrap cluster objects: %w", err)
	}
	caPEM, err := os.ReadFile(p.path("ca.crt"))
	if err != nil {
		return err
	}
	if err := b.applyMetricsAPI(ctx, ports.MetricsServer, caPEM); err != nil {
		return fmt.Errorf("register the metrics API: %w", err)
	}

	u.progress("starting kube-controller-manager, kube-scheduler, kwok, metrics-server, provisioner")
	kcm, err := u.start("kube-controller-manager", []string{
		"--kubeconfig=" + u.path("config", "controller-manager.kubeconfig"),
		"--authentication-kubeconfig=" + u.path("config", "controller-manager.kubeconfig"),
		"--authorization-kubeconfig=" + u.path("config", "controller-manager.kubeconfig"),
		"--bind-address=127.0.0.1",
		"--secure-port=" + itoa(ports.ControllerManager),
		"--leader-elect=false",
		"--use-service-account-credentials=true",
		"--service-account-private-key-file=" + p.path("sa.key"),
		"--root-ca-file=" + p.path("ca.crt"),
		"--cluster-signing-cert-file=" + p.path("ca.crt"),
		"--cluster-signing-key-file=" + p.path("ca.key"),
		// Fast enough to create thousands of pods for benchmarks.
		"--kube-api-qps=200",
		"--kube-api-burst=400",
		"--profiling=false",
	})
	if err != nil {
		return err
	}
	sched, err := u.start("kube-scheduler", []string{
		"--kubeconfig=" + u.path("config", "scheduler.kubeconfig"),
		"--authentication-kubeconfig=" + u.path("config", "scheduler.kubeconfig"),
		"--authorization-kubeconfig=" + u.path("config", "scheduler.kubeconfig"),
		"--bind-address=127.0.0.1",
		"--secure-port=" + itoa(ports.Scheduler),
		"--leader-elect=false",
		"--kube-api-qps=200",
		"--kube-api-burst=400",
		"--profiling=false",
	})
	if err != nil {
		return err
	}
	stages, err := writeStages(u.path("config", "kwok-stages.yaml"))
	if err != nil {
		return err
	}
	kwok, err := u.start("kwok", []string{
		"--kubeconfig=" + u.path("config", "kwok.kubeconfig"),
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		"--node-ip=127.0.0.1",
		"--node-port=" + itoa(ports.Kwok),
		"--server-address=127.0.0.1:" + itoa(ports.Kwok),
		"--tls-cert-file=" + p.path("kwok-serving.crt"),
		"--tls-private-key-file=" + p.path("kwok-serving.key"),
		"--node-lease-duration-seconds=40",
		// Room for thousands of pod IPs (the default is a /24).
		"--cidr=10.244.0.1/16",
		"--enable-crds=Logs,ClusterLogs",
		"--config=" + stages,
	})
	if err != nil {
		return err
	}
	ms, err := u.start(metricsServerName, u.metricsServerArgs())
	if err != nil {
		return err
	}
	provArgs := append(append([]string(nil), cfg.ProvisionerCommand[1:]...),
		"--kubeconfig="+u.path("config", "provisioner.kubeconfig"), "--volumes="+u.path("volumes"))
	prov, err := startProcess("provisioner", cfg.ProvisionerCommand[0], provArgs, u.path("logs", "provisioner.log"), cfg.ProvisionerEnv)
	if err != nil {
		return err
	}
	st.Processes = append(st.Processes, prov)
	if err := st.save(); err != nil {
		return err
	}

	// Any of these dying now is the likeliest reason the nodes never turn Ready.
	watch := []*process{etcd, api, kcm, sched, kwok, ms, prov}
	u.progress("waiting for %d node(s) Ready and the default ServiceAccount", cfg.Nodes)
	// The controller-manager, scheduler and kwok serve with self-signed
	// certificates; the probe checks liveness, not identity.
	selfSigned := &tls.Config{InsecureSkipVerify: true} //nolint:gosec // loopback probe of our own child
	checks := []healthCheck{
		{kcm, "https://" + loop(ports.ControllerManager) + "/healthz", selfSigned},
		{sched, "https://" + loop(ports.Scheduler) + "/healthz", selfSigned},
		{kwok, "https://" + loop(ports.Kwok) + "/healthz", selfSigned},
		// Live, not ready: ready waits for two scrapes (about 20 s), which
		// only `top` needs, not the rest of the sandbox.
		{ms, "https://" + loop(ports.MetricsServer) + "/livez", u.adminTLS()},
	}
	if err := b.waitReady(ctx, st.Nodes, watch, checks); err != nil {
		return err
	}
	// The API server serves metrics.k8s.io only once it has reached
	// metrics-server; `top` right after `up` must not find it missing.
	for {
		state := b.metricsAPIState(ctx)
		if state == metricsAPIAvailable {
			return nil
		}
		if ms.hasExited() {
			return componentFailed(ms, "while registering the metrics API")
		}
		select {
		case <-ctx.Done():
			return componentFailed(ms, state)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// adminTLS is a TLS config that trusts the sandbox CA and presents the
// admin certificate, for health checks before any kubeconfig exists.
func (u *upper) adminTLS() *tls.Config { return adminTLSFrom(u.pki) }

// waitHTTP polls url until it answers 200, the process exits, or ctx ends.
func waitHTTP(ctx context.Context, proc *process, tlsCfg *tls.Config, url string) error {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	defer client.CloseIdleConnections()
	var last error
	for {
		if proc.hasExited() {
			return errors.New("exited during start-up")
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close() // the status code is the answer
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("%s answered %s", url, resp.Status)
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last: %v)", url, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func nodeName(i int) string {
	if i == 0 {
		return "minikube"
	}
	return fmt.Sprintf("minikube-m%02d", i+1)
}
