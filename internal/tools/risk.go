package tools

import (
	"encoding/json"
	"fmt"
)

// Risk says how much a tool can change. It is fixed in code for each tool; a
// model or a request never chooses it.
type Risk int

const (
	// Read tools only look at the cluster and run without approval.
	Read Risk = iota
	// Write tools change the cluster in a way that can be undone
	// (scale, restart, rollback, install). They need approval.
	Write
	// Destructive tools remove something (delete a pod, uninstall a
	// release). They need approval and --allow-destructive.
	Destructive
)

func (r Risk) String() string {
	switch r {
	case Read:
		return "read"
	case Write:
		return "write"
	case Destructive:
		return "destructive"
	}
	return fmt.Sprintf("Risk(%d)", int(r))
}

// Mutates reports whether tools of this risk change the cluster.
func (r Risk) Mutates() bool { return r != Read }

// MarshalJSON writes the risk by name so JSON output stays readable and stable.
func (r Risk) MarshalJSON() ([]byte, error) { return json.Marshal(r.String()) }
