package server

import (
	"context"
	"errors"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/opsagent/opsagent/internal/identity"
)

// caller is who a request comes from, as the API server knows them;
// requests belong to its User.
type caller = identity.Caller

// ping checks that the API server answers at all, anonymously: the
// readiness check uses no caller's credentials.
func (s *Server) ping(ctx context.Context) error {
	_, err := s.anon.Discovery().RESTClient().Get().AbsPath("/version").Do(ctx).Raw()
	var status apierrors.APIStatus
	if err == nil || errors.As(err, &status) {
		return nil
	}
	return err
}
