// Command opsagent is a natural-language operations agent for Kubernetes.
package main

import (
	"os"

	"github.com/opsagent/opsagent/internal/cli"
)

func main() {
	os.Exit(cli.Execute())
}
