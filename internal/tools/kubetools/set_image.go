package kubetools

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
)

// SetImageArgs are set_image's arguments.
type SetImageArgs struct {
	Kind           string `json:"kind,omitempty" enum:"deployment,statefulset,daemonset" description:"Optional"`
	Name           string `json:"name" description:"Workload name"`
	Namespace      string `json:"namespace,omitempty" description:"Default: current namespace"`
	Container      string `json:"container,omitempty" description:"Required if the pod has several"`
	Image          string `json:"image" description:"e.g. todo-backend:1.4"`
	Wait           *bool  `json:"wait,omitempty" description:"Default true"`
	TimeoutSeconds int    `json:"timeout_seconds,omitempty" description:"Default 120"`
}

// Validate implements tools.Validator.
func (a SetImageArgs) Validate() error {
	if err := checkWorkloadArgs(a.Kind, a.Name, a.Namespace, a.TimeoutSeconds, rolloutKinds); err != nil {
		return err
	}
	return checkImage(a.Image)
}

// checkImage accepts what a container runtime can pull: a reference in the
// distribution grammar ("nginx", "nginx:1.27", "ghcr.io/org/app@sha256:…";
// see imageref.go).
func checkImage(image string) error {
	if image == "" {
		return fmt.Errorf("image is required")
	}
	if strings.TrimSpace(image) != image {
		return fmt.Errorf("image %q has leading or trailing spaces", image)
	}
	if err := parseImageReference(image); err != nil {
		return fmt.Errorf("image %q is not a valid image reference (%v); use name[:tag][@digest], e.g. registry.example/app:1.4", image, err)
	}
	return nil
}

// SetImage declares set_image.
func SetImage(c *kube.Clients) tools.Tool {
	return tools.Define(NameSetImage,
		"Set a container's image.",
		tools.Write,
		func(ctx context.Context, a SetImageArgs) (tools.Action, error) {
			req := containerRequest{Kind: a.Kind, Name: a.Name, Namespace: a.Namespace, Container: a.Container, Wait: a.Wait, TimeoutSeconds: a.TimeoutSeconds}
			return prepareContainerEdit(ctx, c, req, setImage(a.Image))
		})
}

func setImage(image string) containerEdit {
	return func(_ context.Context, _ workloadRef, _ *corev1.PodSpec, ctr *corev1.Container) (containerChange, error) {
		if ctr.Image == image {
			return containerChange{Unchanged: "already runs image " + image}, nil
		}
		change := containerChange{Summary: fmt.Sprintf("image %s → %s", ctr.Image, image)}
		ctr.Image = image
		return change, nil
	}
}
