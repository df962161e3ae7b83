// Command http-service is a net/http service whose middleware turns the
// X-Request-ID header into the correlation id of every LLM call the
// request makes (leanllm.StartTrace), and labels them with the route
// (leanllm.WithContext). The handler only sees an llms.Model.
//
// The program starts the service on 127.0.0.1:0, makes one request to it,
// prints what came back and the event, and exits.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/leanllm/leanllm-go/internal/testprovider"
	"github.com/leanllm/leanllm-go/leanllm"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/openai"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "http-service:", err)
		os.Exit(1)
	}
}

// traced is the HTTP middleware: one trace per request, named by its
// X-Request-ID (a new id when the client sent none).
func traced(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, id := leanllm.StartTrace(r.Context(), r.Header.Get("X-Request-ID"))
		ctx = leanllm.WithContext(ctx, leanllm.WithLabels(map[string]string{"route": r.URL.Path}))
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// ask answers ?q= with the model. It knows nothing of LeanLLM.
func ask(model llms.Model) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		answer, err := llms.GenerateFromSinglePrompt(r.Context(), model, r.URL.Query().Get("q"), llms.WithModel("gpt-4o-mini"))
		if err != nil {
			http.Error(w, "the model failed", http.StatusBadGateway)
			return
		}
		_, _ = io.WriteString(w, answer)
	}
}

func run(w io.Writer) error {
	ctx := context.Background()
	provider := testprovider.NewUnstarted().Start()
	defer provider.Close()
	provider.Push(testprovider.Reply{Text: "Go 1.26.", Usage: testprovider.UsageOf(9, 4)})
	llm, err := openai.New(provider.OpenAIOptions()...)
	if err != nil {
		return err
	}
	cl, err := leanllm.New(leanllm.WithoutEnv(), leanllm.WithModel(llm))
	if err != nil {
		return err
	}
	defer cl.Close(ctx)

	mux := http.NewServeMux()
	mux.Handle("GET /ask", ask(cl))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: traced(mux), ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	// One request to ourselves.
	client := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+ln.Addr().String()+"/ask?q="+url.QueryEscape("Which Go release is this?"), nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-Request-ID", "req-7f3a9c")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "HTTP %d, X-Request-ID %s: %s\n", resp.StatusCode, resp.Header.Get("X-Request-ID"), body)

	shutdownCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}

	ev := cl.LastEvent()
	fmt.Fprintf(w, "event %s: correlation_id=%s labels=%v model=%s tokens=%d\n",
		ev.EventID, ev.CorrelationID, ev.Labels, ev.Model, ev.TotalTokens)
	return nil
}
