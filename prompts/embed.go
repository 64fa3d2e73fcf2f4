// Package prompts holds the prompts sent to the model, as files embedded at
// build time so they can be read and reviewed on their own.
package prompts

import _ "embed"

//go:embed system.md
var system string

// System returns the system prompt template. It is a text/template with
// fields .Context (the kube context) and .Namespace (the default namespace).
func System() string { return system }
