package codepipeline

import (
	"context"
	"net/http"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

type workerLabelsKey struct{}

// WithWorkerLabels passes the X-Slipway-Worker-Labels header of a request
// on to the operations (PollForJobs reads it): wrap the AWS JSON handler
// with it.
func WithWorkerLabels(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Values(slipwayapi.WorkerLabelsHeader); len(v) > 0 {
			r = r.WithContext(context.WithValue(r.Context(), workerLabelsKey{}, v))
		}
		next.ServeHTTP(w, r)
	})
}

// workerLabels returns the polling worker's labels from the request's
// X-Slipway-Worker-Labels header (none without it).
func workerLabels(ctx context.Context) ([]string, error) {
	values, _ := ctx.Value(workerLabelsKey{}).([]string)
	var out []string
	for _, v := range values {
		labels, err := slipwayapi.ParseWorkerLabels(v)
		if err != nil {
			return nil, awsproto.Errorf(cpapi.ValidationException, "header %s: %v", slipwayapi.WorkerLabelsHeader, err)
		}
		out = append(out, labels...)
	}
	return out, nil
}
