// Package charts embeds the Helm charts that opsagent deploys, so the binary
// works from any folder without a checkout or a chart repository.
package charts

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/ignore"
)

// TodoChatbotName is the name of the Todo Chatbot chart and its folder.
const TodoChatbotName = "todo-chatbot"

// The all: prefix keeps files that go:embed would otherwise skip: .helmignore
// and, above all, templates/_helpers.tpl.
//
//go:embed all:todo-chatbot
var files embed.FS

// TodoChatbotFS returns the Todo Chatbot chart's files, rooted at the chart
// folder (Chart.yaml, values.yaml, templates/...).
func TodoChatbotFS() fs.FS {
	sub, err := fs.Sub(files, TodoChatbotName)
	if err != nil {
		// fs.Sub fails only for an invalid path, and the name is a constant.
		panic(fmt.Sprintf("charts: sub-tree %q: %v", TodoChatbotName, err))
	}
	return sub
}

// TodoChatbot loads the embedded Todo Chatbot chart. Each call returns a new
// *chart.Chart, so callers may modify it.
func TodoChatbot() (*chart.Chart, error) {
	ch, err := Load(TodoChatbotFS())
	if err != nil {
		return nil, fmt.Errorf("load embedded chart %s: %w", TodoChatbotName, err)
	}
	return ch, nil
}

// Load reads a chart from the root of fsys the way helm's loader.LoadDir
// reads a folder: .helmignore rules and Helm's default ignores apply, and a
// UTF-8 byte order mark is stripped.
func Load(fsys fs.FS) (*chart.Chart, error) {
	bufs, err := Files(fsys)
	if err != nil {
		return nil, err
	}
	return loader.LoadFiles(bufs)
}

// Files reads the files Load would load a chart from, into memory, so that a
// caller can load the same bytes more than once (loader.LoadFiles). Files are
// read with fs.ReadFile, so an fs.ReadFileFS decides how each one is read.
func Files(fsys fs.FS) ([]*loader.BufferedFile, error) {
	rules, err := ignoreRules(fsys)
	if err != nil {
		return nil, err
	}
	var bufs []*loader.BufferedFile
	err = fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if name == "." {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			if rules.Ignore(name, fi) {
				return fs.SkipDir
			}
			return nil
		}
		if rules.Ignore(name, fi) {
			return nil
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		bufs = append(bufs, &loader.BufferedFile{Name: name, Data: bytes.TrimPrefix(data, utf8BOM)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read chart files: %w", err)
	}
	return bufs, nil
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

func ignoreRules(fsys fs.FS) (*ignore.Rules, error) {
	rules := ignore.Empty()
	data, err := fs.ReadFile(fsys, ignore.HelmIgnore)
	switch {
	case err == nil:
		if rules, err = ignore.Parse(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("parse %s: %w", ignore.HelmIgnore, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read %s: %w", ignore.HelmIgnore, err)
	}
	rules.AddDefaults()
	return rules, nil
}
