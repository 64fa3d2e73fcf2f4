package kubetools

import corev1 "k8s.io/api/core/v1"

// ClaimDetail is a PersistentVolumeClaim's binding state; a Pending claim
// is a common reason for a pod that never starts.
type ClaimDetail struct {
	Status       string      `json:"status"`
	Volume       string      `json:"volume,omitempty"`
	StorageClass string      `json:"storageClass,omitempty"`
	Requested    string      `json:"requested,omitempty"`
	Capacity     string      `json:"capacity,omitempty"`
	AccessModes  string      `json:"accessModes,omitempty"`
	Conditions   []Condition `json:"conditions,omitempty"`
}

func describeClaim(p *corev1.PersistentVolumeClaim) *ClaimDetail {
	row := pvcRow(p)
	d := &ClaimDetail{Status: row.Status, Volume: row.Volume, StorageClass: row.StorageClass, Capacity: row.Capacity, AccessModes: accessModes(p.Spec.AccessModes)}
	if q, ok := p.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
		d.Requested = q.String()
	}
	for _, c := range p.Status.Conditions {
		d.Conditions = append(d.Conditions, condition(string(c.Type), string(c.Status), c.Reason, c.Message, c.LastTransitionTime))
	}
	return d
}
