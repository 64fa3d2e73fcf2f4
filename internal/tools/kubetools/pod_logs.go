package kubetools

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/resolve"
	"github.com/opsagent/opsagent/internal/tools"
)

// PodLogsArgs are pod_logs' arguments.
type PodLogsArgs struct {
	Name      string `json:"name" description:"Pod or workload name"`
	Namespace string `json:"namespace,omitempty" description:"Default: current namespace"`
	Container string `json:"container,omitempty" description:"Container (if several)"`
	Tail      int    `json:"tail,omitempty" description:"Lines (default 100, max 2000)"`
	Previous  bool   `json:"previous,omitempty" description:"The previous (crashed) container"`
}

// Bounds for log reads.
const (
	defaultTail = 100
	maxTail     = 2000
	// maxLogBytes is what the result carries; the newest bytes are kept.
	maxLogBytes = 64 << 10
	// maxLogRead bounds what is read from the API to find those bytes.
	maxLogRead = 4 << 20
)

// Validate implements tools.Validator.
func (a PodLogsArgs) Validate() error {
	if err := CheckName("name", a.Name); err != nil {
		return err
	}
	if err := CheckNamespace(a.Namespace); err != nil {
		return err
	}
	return CheckRange("tail", a.Tail, 0, maxTail)
}

// LogsResult is the tail of one container's log.
type LogsResult struct {
	Pod       string `json:"pod"`
	Namespace string `json:"namespace"`
	Container string `json:"container"`
	Previous  bool   `json:"previous,omitempty"`
	// Workload is set when the name given was a workload's.
	Workload string `json:"workload,omitempty"`
	// OtherPods are the workload's other pods, for a follow-up call.
	OtherPods []string `json:"otherPods,omitempty"`
	Lines     int      `json:"lines"`
	Log       string   `json:"log"`
	Truncated bool     `json:"truncated,omitempty"`
	Note      string   `json:"note,omitempty"`
}

// PodLogs declares pod_logs.
func PodLogs(c *kube.Clients) tools.Tool {
	return tools.Define(NamePodLogs,
		"kubectl logs of a pod or workload.",
		tools.Read,
		func(ctx context.Context, a PodLogsArgs) (tools.Action, error) {
			return tools.ReadResult(func(ctx context.Context) (any, error) { return podLogs(ctx, c, a) }), nil
		})
}

func podLogs(ctx context.Context, c *kube.Clients, a PodLogsArgs) (*LogsResult, error) {
	ns := NamespaceFor(c, a.Namespace)
	rp, err := resolvePods(ctx, c, ns, a.Name)
	if err != nil {
		return nil, err
	}
	sortForTroubleshooting(rp.Pods)
	pod := &rp.Pods[0]
	res := &LogsResult{Pod: pod.Name, Namespace: ns, Previous: a.Previous}
	if rp.Via != nil {
		res.Workload = rp.Via.String()
		res.OtherPods = podNames(rp.Pods[1:])[:min(len(rp.Pods)-1, resolve.MaxListed)]
	}
	if res.Container, err = pickContainer(pod, a.Container); err != nil {
		return nil, err
	}
	tail := int64(cmp.Or(a.Tail, defaultTail))
	limit := int64(maxLogRead)
	stream, err := c.Typed.CoreV1().Pods(ns).GetLogs(pod.Name, &corev1.PodLogOptions{
		Container: res.Container, TailLines: &tail, Previous: a.Previous, LimitBytes: &limit,
	}).Stream(ctx)
	if err != nil {
		return nil, logsError(pod, res.Container, a.Previous, err)
	}
	defer func() { _ = stream.Close() }() // read-only stream: nothing to lose on close
	raw, err := io.ReadAll(io.LimitReader(stream, maxLogRead))
	if err != nil {
		return nil, fmt.Errorf("read logs of pod %s/%s container %s: %w", ns, pod.Name, res.Container, err)
	}
	res.Log, res.Truncated = keepTail(raw, maxLogBytes)
	res.Lines = strings.Count(res.Log, "\n")
	switch {
	case len(raw) >= maxLogRead:
		res.Truncated = true
		res.Note = fmt.Sprintf("the last %d lines exceed %d MiB; showing the newest 64 KiB that were read; lower tail to see the latest lines", tail, maxLogRead>>20)
	case res.Truncated:
		res.Note = fmt.Sprintf("log truncated to the newest 64 KiB of the last %d lines; lower tail for whole lines", tail)
	case len(raw) == 0:
		res.Note = "the container has written no log lines"
	}
	return res, nil
}

// pickContainer chooses the container to read (see chooseContainer).
func pickContainer(pod *corev1.Pod, want string) (string, error) {
	return chooseContainer("pod "+pod.Namespace+"/"+pod.Name, &pod.Spec, pod.Annotations, want)
}

// chooseContainer chooses a container of a pod (or of a pod template, which
// owner describes): the one asked for, the only one, or the one named by
// the kubectl.kubernetes.io/default-container annotation (as kubectl
// does). Otherwise it is ambiguous and the error lists the choices.
func chooseContainer(owner string, spec *corev1.PodSpec, annotations map[string]string, want string) (string, error) {
	var names []string
	for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
		names = append(names, c.Name)
	}
	for _, c := range spec.EphemeralContainers {
		names = append(names, c.Name)
	}
	switch {
	case want != "":
		if slices.Contains(names, want) {
			return want, nil
		}
		return "", fmt.Errorf("%w: %s has no container %q; its containers are: %s",
			tools.ErrNotFound, owner, want, strings.Join(names, ", "))
	case len(spec.Containers) == 1:
		return spec.Containers[0].Name, nil
	}
	if d := annotations["kubectl.kubernetes.io/default-container"]; d != "" && slices.Contains(names, d) {
		return d, nil
	}
	return "", fmt.Errorf("%w: %s has %d containers (%s); pass container to choose one",
		tools.ErrAmbiguous, owner, len(spec.Containers), strings.Join(names, ", "))
}

// keepTail returns the newest n bytes of b, starting at a line boundary
// when one is near, and whether anything was cut.
func keepTail(b []byte, n int) (string, bool) {
	if len(b) <= n {
		return string(b), false
	}
	b = b[len(b)-n:]
	if i := bytes.IndexByte(b, '\n'); i >= 0 && i < len(b)-1 {
		b = b[i+1:]
	}
	return string(b), true
}

func logsError(pod *corev1.Pod, container string, previous bool, err error) error {
	base := fmt.Errorf("read logs of pod %s/%s container %s: %w", pod.Namespace, pod.Name, container, err)
	switch {
	case previous && (apierrors.IsBadRequest(err) || apierrors.IsNotFound(err)):
		return fmt.Errorf("%w (there is no previous instance unless the container has restarted; try previous=false)", base)
	case apierrors.IsBadRequest(err) && pod.Spec.NodeName == "":
		return fmt.Errorf("%w (the pod is not scheduled yet, so it has no logs; get_resource on the pod says why)", base)
	case apierrors.IsBadRequest(err):
		return fmt.Errorf("%w (the container may not have started yet; get_resource on the pod shows its state)", base)
	}
	return base
}
