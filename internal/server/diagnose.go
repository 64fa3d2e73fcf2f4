package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/opsagent/opsagent/internal/diagnose"
	"github.com/opsagent/opsagent/internal/resolve"
	"github.com/opsagent/opsagent/internal/session"
)

// diagnose answers GET /api/v1/diagnose with the DiagnoseReport
// `opsagent diagnose -o json` prints, read with the caller's token: what the
// caller may not list is reported in the report's errors or skipped lists.
func (s *Server) diagnose(w http.ResponseWriter, r *http.Request, c *caller) {
	q := r.URL.Query()
	all, err := queryBool(q.Get("allNamespaces"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "allNamespaces: "+err.Error())
		return
	}
	var kinds []string
	for _, k := range q["kind"] {
		kinds = append(kinds, strings.Split(k, ",")...)
	}
	if _, err := diagnose.ParseKinds(kinds); err != nil {
		writeError(w, http.StatusBadRequest, "kind: "+err.Error())
		return
	}
	d, ns, ok := s.diagnoser(w, c, q.Get("namespace"))
	if !ok {
		return
	}
	rep, err := d.Diagnose(r.Context(), diagnose.Options{
		Namespace: ns, NamespaceExplicit: q.Get("namespace") != "", AllNamespaces: all,
		Selector: q.Get("selector"), Kinds: kinds,
	})
	if err != nil {
		writeError(w, statusOf(err), "could not diagnose: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// explain answers GET /api/v1/explain with the ExplainReport (name given)
// or ExplainList (every failing pod) `opsagent explain -o json` prints.
func (s *Server) explain(w http.ResponseWriter, r *http.Request, c *caller) {
	q := r.URL.Query()
	d, ns, ok := s.diagnoser(w, c, q.Get("namespace"))
	if !ok {
		return
	}
	opts := diagnose.ExplainOptions{Namespace: ns, Name: q.Get("name"), Kind: q.Get("kind")}
	var (
		rep any
		err error
	)
	if opts.Name == "" {
		rep, err = d.ExplainFailing(r.Context(), opts)
	} else {
		rep, err = d.Explain(r.Context(), opts)
	}
	if err != nil {
		writeError(w, statusOf(err), "could not explain: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// diagnoser builds a Diagnoser acting as the caller in namespace (the
// caller's default when empty).
func (s *Server) diagnoser(w http.ResponseWriter, c *caller, namespace string) (*diagnose.Diagnoser, string, bool) {
	if namespace != "" {
		if err := resolve.CheckNamespace(namespace); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return nil, "", false
		}
	}
	clients, err := c.Clients(namespace)
	if err != nil {
		writeError(w, http.StatusBadGateway, err.Error())
		return nil, "", false
	}
	d, err := diagnose.New(clients)
	if err != nil {
		writeError(w, http.StatusBadGateway, err.Error())
		return nil, "", false
	}
	return d, session.Namespace(clients), true
}

func queryBool(v string) (bool, error) {
	if v == "" {
		return false, nil
	}
	return strconv.ParseBool(v)
}
