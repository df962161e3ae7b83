package testprovider

import (
	"net/http"
	"testing"

	"github.com/tmc/langchaingo/httputil"
	"github.com/tmc/langchaingo/llms/openai"
)

const (
	// TestToken is the dummy API token used by OpenAIOptions.
	TestToken = "sk-testprovider"
	// TestModelName is the model name used by OpenAIOptions.
	TestModelName = "gpt-4o-mini"
)

// OpenAIOptions returns options that point langchaingo's openai client at
// the server: base URL, TestToken, TestModelName and an HTTP client (with
// langchaingo's User-Agent transport) whose idle connections are closed by
// Close. Later options override earlier ones, so append your own. Call it
// after Start.
func (s *Server) OpenAIOptions() []openai.Option {
	var base http.RoundTripper = http.DefaultTransport
	if c := s.Client(); c != nil && c.Transport != nil {
		base = c.Transport
	}
	return []openai.Option{
		openai.WithBaseURL(s.URL()),
		openai.WithToken(TestToken),
		openai.WithModel(TestModelName),
		openai.WithHTTPClient(&http.Client{
			Transport: &httputil.Transport{Transport: base},
		}),
	}
}

// OpenAIModel builds the real langchaingo openai client pointed at srv (see
// OpenAIOptions); opts are applied after the defaults. It fails t on error.
func OpenAIModel(t testing.TB, srv *Server, opts ...openai.Option) *openai.LLM {
	t.Helper()
	llm, err := openai.New(append(srv.OpenAIOptions(), opts...)...)
	if err != nil {
		t.Fatalf("testprovider: openai.New: %v", err)
	}
	return llm
}
