package otelexport_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	otelexport "github.com/leanllm/leanllm-go/export/otel"
	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/matryer/is"
)

func TestFromEnvDisabledAndInvalid(t *testing.T) {
	is := is.New(t)
	t.Setenv(otelexport.EnvExport, "")
	_, err := otelexport.FromEnv(t.Context())
	is.True(errors.Is(err, otelexport.ErrDisabled))

	t.Setenv(otelexport.EnvExport, "yes please")
	_, err = otelexport.FromEnv(t.Context())
	is.True(errors.Is(err, otelexport.ErrConfig))
	is.True(strings.Contains(err.Error(), "LEANLLM_OTEL_EXPORT")) // names the variable

	t.Setenv(otelexport.EnvExport, "true")
	t.Setenv(otelexport.EnvSDKDisabled, "true")
	_, err = otelexport.FromEnv(t.Context())
	is.True(errors.Is(err, otelexport.ErrDisabled))
}

// TestFromEnvExportsOTLP points the standard OTEL_* variables at a local
// OTLP/HTTP receiver and checks that the client's Close delivers the span.
func TestFromEnvExportsOTLP(t *testing.T) {
	is := is.New(t)
	var mu sync.Mutex
	var bodies [][]byte
	var paths []string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, b)
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	defer rcv.Close()
	t.Setenv(otelexport.EnvExport, "true")
	t.Setenv(otelexport.EnvSDKDisabled, "")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rcv.URL)
	t.Setenv("OTEL_SERVICE_NAME", "leanllm-env-test")

	exp, err := otelexport.FromEnv(t.Context())
	is.NoErr(err)
	cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(testprovider.New()), leanllm.WithStore(exp), otelexport.Parenting())
	is.NoErr(err)
	_, err = cl.Chat(t.Context(), "gpt-4o-mini", human("x"))
	is.NoErr(err)
	is.NoErr(cl.Close(context.Background())) // closes the exporter: flushes and shuts down its provider

	mu.Lock()
	defer mu.Unlock()
	is.Equal(len(bodies), 1)
	is.Equal(paths[0], "/v1/traces")
	is.True(bytes.Contains(bodies[0], []byte("chat gpt-4o-mini")))
	is.True(bytes.Contains(bodies[0], []byte("leanllm-env-test"))) // OTEL_SERVICE_NAME
	is.True(bytes.Contains(bodies[0], []byte("gen_ai.provider.name")))
}
