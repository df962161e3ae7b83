package leanllm

import (
	"context"
	"errors"
	"iter"

	"github.com/tmc/langchaingo/llms"
)

// ErrStreamStopped is the error the stream returns to the provider when the
// consumer of Stream stops early (breaks out of its loop). The call's event
// then says metadata.stream_end = "consumer_stopped".
var ErrStreamStopped = errors.New("leanllm: stream stopped by the consumer")

// Chunk is one piece of a streamed answer. The last element of a completed
// stream has Response set (the whole answer, with tool calls and usage) and
// an empty Text.
type Chunk struct {
	Text     string
	Response *llms.ContentResponse
}

// Stream calls model with messages and yields the answer as it arrives, as
// the seed's chat(stream=True). Breaking out of the loop stops the provider
// call. A failed call yields one final (Chunk{}, err). The event lands when
// the stream ends, whichever way it ends.
func (cl *Client) Stream(ctx context.Context, model string, messages []llms.MessageContent, opts ...CallOption) iter.Seq2[Chunk, error] {
	return func(yield func(Chunk, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		type result struct {
			resp *llms.ContentResponse
			err  error
		}
		chunks := make(chan []byte)
		acks := make(chan bool)
		done := make(chan result, 1)
		send := func(ctx context.Context, b []byte) error {
			select {
			case chunks <- b:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case ok := <-acks:
				if !ok {
					return ErrStreamStopped
				}
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		callOpts := append(append([]CallOption(nil), opts...), WithLLMOptions(llms.WithStreamingFunc(send)))
		go func() {
			resp, err := cl.Chat(ctx, model, messages, callOpts...)
			done <- result{resp, err}
		}()
		stopped := false
		for {
			select {
			case b := <-chunks:
				if stopped || len(b) == 0 {
					acks <- !stopped
					continue
				}
				if !yield(Chunk{Text: string(b)}, nil) {
					stopped = true
					acks <- false
					continue
				}
				acks <- true
			case r := <-done:
				if stopped {
					return
				}
				if r.err != nil {
					yield(Chunk{}, r.err)
					return
				}
				yield(Chunk{Response: r.resp}, nil)
				return
			}
		}
	}
}
