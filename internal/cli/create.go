package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/configtools"
)

// NewCmdCreate builds `opsagent create`: a Secret or a ConfigMap from local
// files and values. The values go to the tool directly, never into the
// tool's arguments, so they are not in the output, the audit log or any
// request to a model.
func NewCmdCreate(g *GlobalOptions, streams genericiooptions.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a Secret or ConfigMap from files, stdin or generated values",
		Args:  exactArgs(0),
	}
	cmd.AddCommand(NewCmdCreateSecret(g, streams), NewCmdCreateConfigMap(g, streams))
	return cmd
}

// CreateSecretOptions are the flags of `opsagent create secret`.
type CreateSecretOptions struct {
	*releaseOptions
	FromFile  []string
	StdinKey  string
	Generate  []string
	Type      string
	stdinUsed bool

	args   configtools.SourcedSecretArgs
	values map[string][]byte
}

// NewCmdCreateSecret builds `opsagent create secret`.
func NewCmdCreateSecret(g *GlobalOptions, streams genericiooptions.IOStreams) *cobra.Command {
	o := &CreateSecretOptions{releaseOptions: newReleaseOptions(g, streams)}
	cmd := &cobra.Command{
		Use:   "secret NAME",
		Short: "Create a Secret, or set keys of an existing one, from files, stdin or generated values",
		Long: `Create a Secret, or set keys of an existing one (other keys are kept).

Values are read from files (--from-file), from stdin (--from-literal-stdin) or
generated (--generate). They are handed to the create_secret tool directly:
the preview, the output (also -o json) and the audit log show keys, sizes and
where each value came from, never a value. Replacing an existing key's value
loses the old one, so it is destructive and needs --allow-destructive.

Exit codes: 0 done; 1 failed; 2 bad input; 3 approval needed and not given.`,
		Example: `  opsagent create secret db-credentials -n todo --from-file password=./password.txt --yes
  printf %s "$TOKEN" | opsagent create secret api-token --from-literal-stdin token --yes
  opsagent create secret session --generate key=64 --dry-run`,
		Args: exactArgs(1),
		RunE: runOptions(o),
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.FromFile, "from-file", nil, "KEY=PATH (or PATH, keyed by its file name): a value from a regular file of at most 1 MiB (repeatable)")
	f.StringVar(&o.StdinKey, "from-literal-stdin", "", "KEY whose value is read from stdin (one trailing newline is dropped)")
	f.StringArrayVar(&o.Generate, "generate", nil, "KEY or KEY=LENGTH: a random URL-safe value, 16-256 characters (default 32) (repeatable)")
	f.StringVar(&o.Type, "type", "", "Secret type (default Opaque)")
	o.addSharedFlags(cmd, &approvalOffer{destructive: true})
	return cmd
}

// Validate checks the flags and the tool's arguments; the values are read
// by Complete.
func (o *CreateSecretOptions) Validate(args []string) error {
	a, err := o.toolArgs(args[0])
	if err != nil {
		return err
	}
	if len(a.Keys) == 0 {
		return errors.New("give at least one key: --from-file, --from-literal-stdin or --generate")
	}
	return errors.Join(o.validate(), a.Validate())
}

// toolArgs are the tool's arguments from the flags: they name keys and
// where their values come from, never a value.
func (o *CreateSecretOptions) toolArgs(name string) (configtools.SourcedSecretArgs, error) {
	a := configtools.SourcedSecretArgs{Name: name, Type: o.Type}
	for _, spec := range o.FromFile {
		key, _, err := parseFileSpec(spec)
		if err != nil {
			return a, err
		}
		a.Keys = append(a.Keys, configtools.SourcedSecretKey{Key: key, From: configtools.FromFile})
	}
	if o.StdinKey != "" {
		a.Keys = append(a.Keys, configtools.SourcedSecretKey{Key: o.StdinKey, From: configtools.FromStdin})
	}
	for _, spec := range o.Generate {
		key, length, _ := strings.Cut(spec, "=")
		k := configtools.SourcedSecretKey{Key: key}
		if length != "" {
			n, err := strconv.Atoi(length)
			if err != nil {
				return a, fmt.Errorf("--generate %s: LENGTH must be a number", spec)
			}
			k.GenerateLength = n
		}
		a.Keys = append(a.Keys, k)
	}
	return a, nil
}

// Complete builds the arguments and reads the values.
func (o *CreateSecretOptions) Complete(args []string) error {
	a, err := o.toolArgs(args[0])
	if err != nil {
		return BadInput(err)
	}
	o.args = a
	if o.values, err = readFileValues(o.FromFile); err != nil {
		return BadInput(err)
	}
	if o.StdinKey != "" {
		data, err := readLimited(o.In, "stdin")
		if err != nil {
			return BadInput(err)
		}
		o.values[o.StdinKey] = []byte(strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r"))
		// stdin held the value: nobody can answer a prompt on it.
		o.stdinUsed = true
	}
	return nil
}

// Run creates or updates the Secret through the gate.
func (o *CreateSecretOptions) Run(ctx context.Context) error {
	if o.stdinUsed {
		o.NonInteractive = true
	}
	o.newTools = func(c *kube.Clients) []tools.Tool {
		return []tools.Tool{configtools.CreateSecret(c, configtools.WithValues(o.values))}
	}
	return o.call(ctx, configtools.NameCreateSecret, o.args)
}

// CreateConfigMapOptions are the flags of `opsagent create configmap`.
type CreateConfigMapOptions struct {
	*releaseOptions
	FromLiteral []string
	FromFile    []string

	args   configtools.SourcedConfigMapArgs
	values map[string][]byte
}

// NewCmdCreateConfigMap builds `opsagent create configmap`.
func NewCmdCreateConfigMap(g *GlobalOptions, streams genericiooptions.IOStreams) *cobra.Command {
	o := &CreateConfigMapOptions{releaseOptions: newReleaseOptions(g, streams)}
	cmd := &cobra.Command{
		Use:     "configmap NAME",
		Aliases: []string{"cm"},
		Short:   "Create a ConfigMap, or set keys of an existing one, from literals and files",
		Long: `Create a ConfigMap, or set keys of an existing one (other keys are kept).
The preview shows each key's old and new value.

Exit codes: 0 done; 1 failed; 2 bad input; 3 approval needed and not given.`,
		Example: `  opsagent create configmap app-config -n todo --from-literal LOG_LEVEL=debug --yes
  opsagent create configmap nginx --from-file nginx.conf=./nginx.conf --dry-run`,
		Args: exactArgs(1),
		RunE: runOptions(o),
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.FromLiteral, "from-literal", nil, "KEY=VALUE (repeatable)")
	f.StringArrayVar(&o.FromFile, "from-file", nil, "KEY=PATH (or PATH, keyed by its file name): a value from a regular file of at most 1 MiB (repeatable)")
	o.addSharedFlags(cmd, &approvalOffer{})
	return cmd
}

// Validate checks the flags and the tool's arguments; the files are read
// by Complete.
func (o *CreateConfigMapOptions) Validate(args []string) error {
	a, err := o.toolArgs(args[0])
	if err != nil {
		return err
	}
	if len(a.Data) == 0 {
		return errors.New("give at least one key: --from-literal or --from-file")
	}
	return errors.Join(o.validate(), a.Validate())
}

// toolArgs are the tool's arguments from the flags: the literal values, and
// the keys whose values come from files.
func (o *CreateConfigMapOptions) toolArgs(name string) (configtools.SourcedConfigMapArgs, error) {
	a := configtools.SourcedConfigMapArgs{Name: name}
	for _, spec := range o.FromLiteral {
		key, value, ok := strings.Cut(spec, "=")
		if !ok {
			return a, fmt.Errorf("--from-literal %q: want KEY=VALUE", spec)
		}
		a.Data = append(a.Data, configtools.SourcedEntry{Key: key, Value: value})
	}
	for _, spec := range o.FromFile {
		key, _, err := parseFileSpec(spec)
		if err != nil {
			return a, err
		}
		a.Data = append(a.Data, configtools.SourcedEntry{Key: key, From: configtools.FromFile})
	}
	return a, nil
}

// Complete builds the arguments and reads the files.
func (o *CreateConfigMapOptions) Complete(args []string) error {
	a, err := o.toolArgs(args[0])
	if err != nil {
		return BadInput(err)
	}
	o.args = a
	if o.values, err = readFileValues(o.FromFile); err != nil {
		return BadInput(err)
	}
	return nil
}

// Run creates or updates the ConfigMap through the gate.
func (o *CreateConfigMapOptions) Run(ctx context.Context) error {
	o.newTools = func(c *kube.Clients) []tools.Tool {
		return []tools.Tool{configtools.CreateConfigMap(c, configtools.WithValues(o.values))}
	}
	return o.call(ctx, configtools.NameCreateConfigMap, o.args)
}

// parseFileSpec splits --from-file KEY=PATH, or PATH keyed by the file's
// name.
func parseFileSpec(spec string) (key, path string, err error) {
	key, path, ok := strings.Cut(spec, "=")
	if !ok {
		key, path = filepath.Base(spec), spec
	}
	if key == "" || path == "" {
		return "", "", fmt.Errorf("--from-file %q: want KEY=PATH or PATH", spec)
	}
	return key, path, nil
}

// readFileValues reads every --from-file of a create command, by key.
func readFileValues(specs []string) (map[string][]byte, error) {
	values := make(map[string][]byte, len(specs))
	for _, spec := range specs {
		key, data, err := readFileValue(spec)
		if err != nil {
			return nil, err
		}
		values[key] = data
	}
	return values, nil
}

// readFileValue reads --from-file KEY=PATH (or PATH): a regular file of at
// most configtools.MaxDataBytes.
func readFileValue(spec string) (key string, data []byte, err error) {
	key, path, err := parseFileSpec(spec)
	if err != nil {
		return "", nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return "", nil, fmt.Errorf("--from-file %s: %w", key, err)
	}
	defer func() { _ = f.Close() }() // read-only: a close error loses nothing
	st, err := f.Stat()
	if err != nil {
		return "", nil, fmt.Errorf("--from-file %s: %w", key, err)
	}
	if !st.Mode().IsRegular() {
		return "", nil, fmt.Errorf("--from-file %s: %s is not a regular file", key, path)
	}
	data, err = readLimited(f, path)
	return key, data, err
}

// readLimited reads r whole, refusing more than configtools.MaxDataBytes.
func readLimited(r io.Reader, name string) ([]byte, error) {
	if r == nil {
		return nil, fmt.Errorf("%s: nothing to read", name)
	}
	data, err := io.ReadAll(io.LimitReader(r, configtools.MaxDataBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > configtools.MaxDataBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes, the most a Secret or ConfigMap can hold", name, configtools.MaxDataBytes)
	}
	return data, nil
}
