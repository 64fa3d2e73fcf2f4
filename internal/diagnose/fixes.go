package diagnose

import (
	"cmp"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/opsagent/opsagent/internal/redact"
	"github.com/opsagent/opsagent/internal/termsafe"
)

// Helm's ownership marks on the objects it manages.
const (
	helmReleaseNameAnnotation      = "meta.helm.sh/release-name"
	helmReleaseNamespaceAnnotation = "meta.helm.sh/release-namespace"
)

// revisionAnnotation is where the Deployment controller numbers ReplicaSets.
const revisionAnnotation = "deployment.kubernetes.io/revision"

// workloadKinds are the owners whose spec a fix changes ("kubectl set
// resources deployment/x").
var workloadKinds = []string{"Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job", "ReplicaSet"}

// workloadOf returns the top-level workload that owns an object (from its
// owner chain), or false for a bare pod.
func workloadOf(owners []ObjectRef) (ObjectRef, bool) {
	if n := len(owners); n > 0 && slices.Contains(workloadKinds, owners[n-1].Kind) {
		return owners[n-1], true
	}
	return ObjectRef{}, false
}

// helmRelease returns the Helm release that manages the object with uid.
func (s *Snapshot) helmRelease(ref ObjectRef) (name, ns string, ok bool) {
	info, found := s.objects[ref.UID]
	if !found {
		return "", "", false
	}
	name = info.meta.Annotations[helmReleaseNameAnnotation]
	ns = cmp.Or(info.meta.Annotations[helmReleaseNamespaceAnnotation], info.meta.Namespace)
	return name, ns, name != ""
}

// previousRevision finds, for a pod of a Deployment, the ReplicaSet of the
// revision before the pod's and that revision's image of container, when it
// differs from the pod's: the rollback a broken image or release calls for.
func (s *Snapshot) previousRevision(pod *corev1.Pod, owners []ObjectRef, container string) (rev int, image string, ok bool) {
	if len(owners) < 2 || owners[0].Kind != "ReplicaSet" || owners[1].Kind != "Deployment" {
		return 0, "", false
	}
	var cur *appsv1.ReplicaSet
	rss := s.rsByOwner[owners[1].UID]
	for _, rs := range rss {
		if rs.UID == owners[0].UID {
			cur = rs
		}
	}
	if cur == nil {
		return 0, "", false
	}
	curRev := rsRevision(cur)
	var best *appsv1.ReplicaSet
	for _, rs := range rss {
		if r := rsRevision(rs); r < curRev && (best == nil || r > rsRevision(best)) {
			best = rs
		}
	}
	if best == nil {
		return 0, "", false
	}
	prev, now := templateImage(&best.Spec.Template.Spec, container), templateImage(&cur.Spec.Template.Spec, container)
	if prev == "" || prev == now {
		return 0, "", false
	}
	return rsRevision(best), prev, true
}

func rsRevision(rs *appsv1.ReplicaSet) int {
	n, _ := strconv.Atoi(rs.Annotations[revisionAnnotation])
	return n
}

func templateImage(spec *corev1.PodSpec, container string) string {
	for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
		if c.Name == container {
			return c.Image
		}
	}
	return ""
}

// shellf formats a command we suggest. The format is ours; every string
// argument is a value from the cluster and is shell-quoted, so a hostile
// name, annotation or probe path prints as one harmless word instead of a
// second command a person would paste (termsafe.Quote). Kubernetes names
// need no quotes and print as they are.
func shellf(format string, args ...any) string {
	quoted := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case fmt.Stringer:
			quoted[i] = termsafe.Quote(v.String())
		default:
			// Named string types too (corev1.ResourceName, ...).
			if reflect.ValueOf(a).Kind() == reflect.String {
				quoted[i] = termsafe.Quote(reflect.ValueOf(a).String())
			} else {
				quoted[i] = a
			}
		}
	}
	return fmt.Sprintf(format, quoted...)
}

// agentCommand suggests asking opsagent for request, quoted as one word:
// names interpolated into a double-quoted request would still expand $(…).
func agentCommand(request string) string { return termsafe.Command("opsagent", request) }

// jsonText is v as compact JSON, for a patch argument of shellf, with
// placeholders such as <value> left readable.
func jsonText(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("<patch: %v>", err) // cannot happen: only maps of strings reach here
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// rollbackFixes suggests rolling a Deployment back to the revision before.
func rollbackFixes(w ObjectRef, rev int, image string) []Fix {
	return []Fix{
		{Description: fmt.Sprintf("Roll back to revision %d (image %s), which ran before this rollout", rev, image),
			Command: shellf("kubectl rollout undo deployment/%s -n %s --to-revision=%d", w.Name, w.Namespace, rev)},
		{Description: "or ask opsagent to do it (previewed, needs approval)",
			Command: agentCommand(fmt.Sprintf("roll back %s in %s", w.Name, w.Namespace))},
	}
}

// restartFix re-rolls a workload once its cause is fixed.
func restartFix(w ObjectRef, ok bool, pod ObjectRef) Fix {
	switch {
	case ok && (w.Kind == "Deployment" || w.Kind == "StatefulSet" || w.Kind == "DaemonSet"):
		return Fix{Description: "After fixing the cause, restart the workload",
			Command: shellf("kubectl rollout restart %s -n %s", w.kubectlName(), w.Namespace)}
	case ok:
		return Fix{Description: fmt.Sprintf("After fixing the cause, delete the pod; %s re-creates it", w.kubectlName()),
			Command: shellf("kubectl delete pod %s -n %s", pod.Name, pod.Namespace)}
	}
	return Fix{Description: "After fixing the cause, re-create the pod from its manifest",
		Command: shellf("kubectl delete pod %s -n %s && kubectl apply -f <pod manifest>", pod.Name, pod.Namespace)}
}

// exitCause explains a container's exit in plain words.
func exitCause(code int32, reason string, signal int32) string {
	switch {
	case reason == "OOMKilled":
		return "it was killed for using more memory than its limit (OOMKilled)"
	case code == 0:
		return "its process exited successfully (exit code 0), but a long-running container must not exit: check its command and arguments"
	case code == 1:
		return "the application exited with an error (exit code 1) soon after starting; the log of that run usually says why (a missing setting, a refused connection, a bad flag)"
	case code == 2:
		return "the process exited with code 2, usually a wrong command-line argument or a shell script error"
	case code == 126:
		return "the command could not be executed (exit code 126): the file is not executable or the image is for another CPU architecture"
	case code == 127:
		return "the command was not found in the image (exit code 127): check the container's command and the image"
	case code == 137 || signal == 9:
		return "it was killed with SIGKILL (exit code 137): a failing liveness probe, a memory limit, or the node killed it"
	case code == 139 || signal == 11:
		return "it crashed with a segmentation fault (exit code 139)"
	case code == 143 || signal == 15:
		return "it was stopped with SIGTERM (exit code 143), usually by a failing liveness probe or a restart"
	case code > 128:
		return fmt.Sprintf("it was killed by signal %d (exit code %d)", code-128, code)
	}
	return fmt.Sprintf("it exited with code %d", code)
}

// describeTermination is a status line for a terminated container state.
func describeTermination(t *corev1.ContainerStateTerminated) string {
	s := fmt.Sprintf("terminated: reason %s, exit code %d", cmp.Or(t.Reason, "none"), t.ExitCode)
	if t.Signal != 0 {
		s += fmt.Sprintf(", signal %d", t.Signal)
	}
	if t.Message != "" {
		s += ", message: " + trimLine(t.Message)
	}
	return s
}

// doubled is a quantity twice as large, written the way people write it
// (64Mi → 128Mi, 500m → 1).
func doubled(q resource.Quantity) string {
	d := q.DeepCopy()
	d.Add(q)
	if d.Format == resource.BinarySI {
		v := d.Value()
		for _, u := range []struct {
			suffix string
			size   int64
		}{{"Gi", 1 << 30}, {"Mi", 1 << 20}, {"Ki", 1 << 10}} {
			if v%u.size == 0 {
				return fmt.Sprintf("%d%s", v/u.size, u.suffix)
			}
		}
	}
	return d.String()
}

// cut shortens s to at most n bytes on a rune boundary, marking the cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return redact.Truncate(s, n) + "…"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func quoteList(names []string, max int) string {
	q := make([]string, 0, len(names))
	for i, n := range names {
		if i == max {
			q = append(q, fmt.Sprintf("and %d more", len(names)-max))
			break
		}
		q = append(q, n)
	}
	return strings.Join(q, ", ")
}
