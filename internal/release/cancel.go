package release

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/kube"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/wait"
)

// Cancellation. Helm v3.22's actions wait with a Timeout and no context:
// Rollback.Run and Uninstall.Run take none, and Install/Upgrade's
// RunWithContext return when the context ends but leave the wait running
// in a goroutine until its timeout. Their waits all go through the action
// Configuration's KubeClient, so each operation gets a copy of the
// Configuration whose KubeClient waits under the operation's context
// (actionConfig): a Ctrl-C ends a rollback's or uninstall's wait within one
// poll (2 s), and Helm then records the revision as failed, as it does for
// a timeout, instead of leaving it pending.
//
// What cannot be cancelled is bounded: the API requests of an apply or
// delete (each one short), and hook waits (WatchUntilReady: Helm watches
// without a context), which we stop waiting for at cancellation while
// Helm's goroutine ends at the hook's own timeout.

// actionConfig returns the Configuration for one action run under ctx.
func (c *Client) actionConfig(ctx context.Context) *action.Configuration {
	cfg := *c.cfg
	if kc, ok := c.cfg.KubeClient.(*kube.Client); ok {
		cfg.KubeClient = &cancellableKube{Client: kc, ctx: ctx}
	}
	return &cfg
}

// cancellableKube is Helm's kube client with waits that end with ctx. It
// embeds *kube.Client so that the optional interfaces Helm probes for
// (InterfaceExt, InterfaceThreeWayMerge, ...) stay implemented.
type cancellableKube struct {
	*kube.Client
	ctx context.Context
}

var (
	_ kube.Interface                    = (*cancellableKube)(nil)
	_ kube.InterfaceExt                 = (*cancellableKube)(nil)
	_ kube.InterfaceThreeWayMerge       = (*cancellableKube)(nil)
	_ kube.InterfaceDeletionPropagation = (*cancellableKube)(nil)
)

// Helm's wait loop, kept: poll every 2 s, tolerate up to 30 transient
// errors in a row per object (pkg/kube/wait.go).
const (
	waitInterval   = 2 * time.Second
	maxWaitRetries = 30
)

// Wait implements kube.Interface with Helm's readiness rules.
func (k *cancellableKube) Wait(resources kube.ResourceList, timeout time.Duration) error {
	return k.waitReady(resources, timeout)
}

// WaitWithJobs implements kube.Interface; Jobs must complete too.
func (k *cancellableKube) WaitWithJobs(resources kube.ResourceList, timeout time.Duration) error {
	return k.waitReady(resources, timeout, kube.CheckJobs(true))
}

func (k *cancellableKube) waitReady(resources kube.ResourceList, timeout time.Duration, opts ...kube.ReadyCheckerOption) error {
	cs, err := k.Factory.KubernetesClientSet()
	if err != nil {
		return err
	}
	checker := kube.NewReadyChecker(cs, k.Log, append(opts, kube.PausedAsReady(true))...)
	ctx, cancel := context.WithTimeout(k.ctx, timeout)
	defer cancel()
	failures := make([]int, len(resources))
	return wait.PollUntilContextCancel(ctx, waitInterval, true, func(ctx context.Context) (bool, error) {
		for i, r := range resources {
			ready, err := checker.IsReady(ctx, r)
			if err != nil && retryable(err) && ctx.Err() == nil {
				if failures[i]++; failures[i] > maxWaitRetries {
					return false, err
				}
				return false, nil
			}
			failures[i] = 0
			if !ready {
				return false, err
			}
		}
		return true, nil
	})
}

// retryable is Helm's rule: transport errors, 429 and 5xx except 501.
func retryable(err error) bool {
	var st *apierrors.StatusError
	if !errors.As(err, &st) {
		return true
	}
	code := st.Status().Code
	return code == 0 || code == http.StatusTooManyRequests || (code >= 500 && code != http.StatusNotImplemented)
}

// WaitForDelete implements kube.InterfaceExt.
func (k *cancellableKube) WaitForDelete(resources kube.ResourceList, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(k.ctx, timeout)
	defer cancel()
	return wait.PollUntilContextCancel(ctx, waitInterval, true, func(context.Context) (bool, error) {
		for _, r := range resources {
			if err := r.Get(); err == nil || !apierrors.IsNotFound(err) {
				return false, err
			}
		}
		return true, nil
	})
}

// WatchUntilReady implements kube.Interface for hooks. Helm's watch takes
// no context: stop waiting at cancellation and leave its goroutine to end
// at timeout.
func (k *cancellableKube) WatchUntilReady(resources kube.ResourceList, timeout time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- k.Client.WatchUntilReady(resources, timeout) }()
	select {
	case err := <-done:
		return err
	case <-k.ctx.Done():
		return fmt.Errorf("stopped waiting for the hook (it goes on in the cluster until it ends or %s pass): %w", timeout, k.ctx.Err())
	}
}
