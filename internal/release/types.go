package release

import (
	"time"

	helmrelease "helm.sh/helm/v3/pkg/release"
)

// Action says what a deploy does to the release.
type Action string

const (
	ActionInstall Action = "install"
	ActionUpgrade Action = "upgrade"
)

// Release summarises one revision of a release, without its values (which may
// hold credentials) or rendered manifest.
type Release struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Revision  int    `json:"revision"`
	// Status is Helm's: deployed, failed, pending-upgrade, superseded, ...
	Status      string    `json:"status"`
	Chart       string    `json:"chart"`
	AppVersion  string    `json:"appVersion,omitempty"`
	Updated     time.Time `json:"updated"`
	Description string    `json:"description,omitempty"`
}

// summarise converts a Helm release record.
func summarise(r *helmrelease.Release) Release {
	if r == nil {
		return Release{}
	}
	out := Release{Name: r.Name, Namespace: r.Namespace, Revision: r.Version}
	if r.Info != nil {
		out.Status = r.Info.Status.String()
		out.Updated = r.Info.LastDeployed.Time
		out.Description = r.Info.Description
	}
	if r.Chart != nil && r.Chart.Metadata != nil {
		out.Chart = r.Chart.Metadata.Name + "-" + r.Chart.Metadata.Version
		out.AppVersion = r.Chart.Metadata.AppVersion
	}
	return out
}
