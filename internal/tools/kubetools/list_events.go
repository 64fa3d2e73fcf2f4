package kubetools

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/resolve"
	"github.com/opsagent/opsagent/internal/tools"
)

// ListEventsArgs are list_events' arguments.
type ListEventsArgs struct {
	Namespace    string `json:"namespace,omitempty" description:"Default: current namespace"`
	Kind         string `json:"kind,omitempty" description:"Kind of the object (needs name)"`
	Name         string `json:"name,omitempty" description:"Only events of this object"`
	WarningsOnly bool   `json:"warnings_only,omitempty" description:"Only Warning events"`
	Limit        int    `json:"limit,omitempty" description:"Max events (default 50)"`
}

// Validate implements tools.Validator.
func (a ListEventsArgs) Validate() error {
	if err := CheckNamespace(a.Namespace); err != nil {
		return err
	}
	if a.Kind != "" && a.Name == "" {
		return fmt.Errorf("kind %q needs a name: events are listed for one object, or for the whole namespace without kind and name", a.Kind)
	}
	if a.Name != "" {
		if err := CheckName("name", a.Name); err != nil {
			return err
		}
	}
	return CheckRange("limit", a.Limit, 0, maxListLimit)
}

// EventsResult is the newest events of a namespace or one object.
type EventsResult struct {
	Namespace string `json:"namespace"`
	// Object is the object the events were matched to, when one was named.
	Object    string     `json:"object,omitempty"`
	Count     int        `json:"count"`
	Events    []EventRow `json:"events"`
	Truncated bool       `json:"truncated,omitempty"`
	Note      string     `json:"note,omitempty"`
}

// ListEvents declares list_events.
func ListEvents(c *kube.Clients) tools.Tool {
	return tools.Define(NameListEvents,
		"Recent events of a namespace or object.",
		tools.Read,
		func(ctx context.Context, a ListEventsArgs) (tools.Action, error) {
			return tools.ReadResult(func(ctx context.Context) (any, error) { return listEvents(ctx, c, a) }), nil
		})
}

func listEvents(ctx context.Context, c *kube.Clients, a ListEventsArgs) (*EventsResult, error) {
	ns := NamespaceFor(c, a.Namespace)
	q := eventQuery{Namespace: ns, WarningsOnly: a.WarningsOnly, Limit: cmp.Or(a.Limit, defaultListLimit)}
	res := &EventsResult{Namespace: ns}
	if a.Name != "" {
		obj, uids, err := eventSubject(ctx, c, ns, a.Kind, a.Name)
		if err != nil {
			return nil, err
		}
		res.Object, q.UIDs = obj, uids
	}
	page, err := queryEvents(ctx, c, q)
	if err != nil {
		return nil, err
	}
	res.Events, res.Count = page.Rows, len(page.Rows)
	if res.Events == nil {
		res.Events = []EventRow{}
	}
	switch {
	case page.Partial:
		res.Truncated = true
		res.Note = fmt.Sprintf("the namespace has more than %d events; only the first %d read were sorted, name an object to narrow", maxEventsScanned, maxEventsScanned)
	case page.Matched > res.Count:
		res.Truncated = true
		res.Note = fmt.Sprintf("showing the newest %d of %d events; raise limit (max %d) or set warnings_only", res.Count, page.Matched, maxListLimit)
	case res.Count == 0:
		res.Note = "no events; events expire after about an hour, so older problems leave none"
	}
	return res, nil
}

// eventSubject resolves the named object and returns how to call it and
// the UIDs whose events belong to it: its own, and for a workload those of
// the ReplicaSets and pods it controls, where its failures are reported.
func eventSubject(ctx context.Context, c *kube.Clients, ns, kind, name string) (string, []string, error) {
	if prefix, rest := resolve.SplitKind(name); prefix != "" {
		if kind != "" && !strings.EqualFold(kind, prefix) {
			return "", nil, fmt.Errorf("%w: name %q names kind %s but kind is %s", tools.ErrInvalidArgs, name, prefix, kind)
		}
		kind, name = prefix, rest
	}
	if kind == "" {
		p, err := c.Typed.CoreV1().Pods(ns).Get(ctx, resolve.NormalizeName(name), metav1.GetOptions{})
		switch {
		case err == nil:
			return "pod/" + p.Name, []string{string(p.UID)}, nil
		case !apierrors.IsNotFound(err) && !apierrors.IsInvalid(err):
			return "", nil, fmt.Errorf("get pod %s in %s: %w", name, ns, err)
		}
		ref, err := resolveWorkload(ctx, c, ns, "", name, podKinds)
		if err != nil {
			return "", nil, fmt.Errorf("no pod named %q in namespace %s, so it was looked up as a workload: %w", name, ns, err)
		}
		kind, name = string(ref.Kind), ref.Name
	}
	k, err := ResolveKind(c.Mapper, kind)
	if err != nil {
		return "", nil, err
	}
	u, err := ResolveObject(ctx, c, k, ns, name)
	if err != nil {
		return "", nil, err
	}
	subject, uids := k.label()+"/"+u.GetName(), []string{string(u.GetUID())}
	if wk, ok := resolve.LookupKind(k.label()); ok && wk.Workload && k.GVK.Group == wk.Group {
		owned := ownedUIDs(ctx, c, workloadRef{Kind: workloadKind(wk.Name()), Name: u.GetName(), Namespace: u.GetNamespace()}, u.GetUID())
		if len(owned) > 0 {
			subject += " (with its replicasets and pods)"
			uids = append(uids, owned...)
		}
	}
	return subject, uids, nil
}
