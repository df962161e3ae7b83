package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strconv"
	"strings"

	"github.com/tmc/langchaingo/llms"
)

// ErrorClass is the classification of a provider error.
type ErrorClass struct {
	Kind       string // timeout, rate_limit, provider_error, parsing_error, unknown
	Detail     string // auth, invalid_request, context_length, content_filter, cancelled, server_error, network, not_found, rate_limit, timeout, quota, budget
	HTTPStatus int
	GoType     string // the Go type of the error, e.g. "*errors.errorString"
}

// Classifier lets an error classify itself (used by SDK errors such as
// budget refusals).
type Classifier interface {
	LeanLLMErrorClass() ErrorClass
}

// ClassifyError derives error_kind, error_detail and http_status from a
// provider error. It understands context errors, net errors, langchaingo's
// *llms.Error, and the "API returned unexpected status code: 429: …" text of
// langchaingo's HTTP clients.
func ClassifyError(err error) ErrorClass {
	if err == nil {
		return ErrorClass{}
	}
	ec := ErrorClass{Kind: ErrorKindUnknown, GoType: errType(err)}
	var cl Classifier
	if errors.As(err, &cl) {
		c := cl.LeanLLMErrorClass()
		c.GoType = ec.GoType
		return c
	}
	msg := err.Error()
	if st := statusFromText(msg); st != 0 {
		ec.HTTPStatus = st
	}
	var lerr *llms.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		ec.Kind, ec.Detail = ErrorKindTimeout, "timeout"
		return ec
	case errors.Is(err, context.Canceled):
		ec.Kind, ec.Detail = ErrorKindUnknown, "cancelled"
		return ec
	case errors.As(err, &lerr):
		switch lerr.Code {
		case llms.ErrCodeTimeout:
			ec.Kind, ec.Detail = ErrorKindTimeout, "timeout"
		case llms.ErrCodeRateLimit:
			ec.Kind, ec.Detail = ErrorKindRateLimit, "rate_limit"
		case llms.ErrCodeQuotaExceeded:
			ec.Kind, ec.Detail = ErrorKindRateLimit, "quota"
		case llms.ErrCodeCanceled:
			ec.Kind, ec.Detail = ErrorKindUnknown, "cancelled"
		case llms.ErrCodeAuthentication:
			ec.Kind, ec.Detail = ErrorKindProviderError, "auth"
		case llms.ErrCodeInvalidRequest, llms.ErrCodeResourceNotFound:
			ec.Kind, ec.Detail = ErrorKindProviderError, "invalid_request"
		case llms.ErrCodeContentFilter:
			ec.Kind, ec.Detail = ErrorKindProviderError, "content_filter"
		case llms.ErrCodeTokenLimit:
			ec.Kind, ec.Detail = ErrorKindProviderError, "context_length"
		case llms.ErrCodeProviderUnavailable:
			ec.Kind, ec.Detail = ErrorKindProviderError, "server_error"
		default:
			ec.Kind = ErrorKindProviderError
		}
		if ec.HTTPStatus == 0 {
			ec.HTTPStatus = statusFromDetails(lerr.Details)
		}
		return ec
	}
	if ec.HTTPStatus != 0 {
		ec.Kind, ec.Detail = classifyStatus(ec.HTTPStatus, msg)
		return ec
	}
	var nerr net.Error
	if errors.As(err, &nerr) {
		if nerr.Timeout() {
			ec.Kind, ec.Detail = ErrorKindTimeout, "timeout"
		} else {
			ec.Kind, ec.Detail = ErrorKindProviderError, "network"
		}
		return ec
	}
	var serr *json.SyntaxError
	var uerr *json.UnmarshalTypeError
	if errors.As(err, &serr) || errors.As(err, &uerr) {
		ec.Kind = ErrorKindParsingError
		return ec
	}
	low := strings.ToLower(msg)
	switch {
	case strings.Contains(low, "request cancelled") || strings.Contains(low, "request canceled") || strings.Contains(low, "context canceled"):
		ec.Kind, ec.Detail = ErrorKindUnknown, "cancelled"
	case strings.Contains(low, "timeout") || strings.Contains(low, "timed out"):
		ec.Kind, ec.Detail = ErrorKindTimeout, "timeout"
	case strings.Contains(low, "rate limit") || strings.Contains(low, "too many requests"):
		ec.Kind, ec.Detail = ErrorKindRateLimit, "rate_limit"
	case strings.Contains(low, "connection refused") || strings.Contains(low, "no such host") || strings.Contains(low, "connection reset") || strings.Contains(low, "eof"):
		ec.Kind, ec.Detail = ErrorKindProviderError, "network"
	case strings.Contains(low, "unmarshal") || strings.Contains(low, "invalid character") || strings.Contains(low, "parse"):
		ec.Kind = ErrorKindParsingError
	case strings.Contains(low, "empty response") || strings.Contains(low, "no choices"):
		ec.Kind, ec.Detail = ErrorKindParsingError, "empty_response"
	case strings.Contains(low, "api key") || strings.Contains(low, "unauthorized"):
		ec.Kind, ec.Detail = ErrorKindProviderError, "auth"
	}
	return ec
}

func classifyStatus(st int, msg string) (kind, detail string) {
	low := strings.ToLower(msg)
	switch {
	case st == 429:
		if strings.Contains(low, "quota") {
			return ErrorKindRateLimit, "quota"
		}
		return ErrorKindRateLimit, "rate_limit"
	case st == 408 || st == 504:
		return ErrorKindTimeout, "timeout"
	case st == 401 || st == 403:
		return ErrorKindProviderError, "auth"
	case st == 404:
		return ErrorKindProviderError, "not_found"
	case st == 400 || st == 413 || st == 422:
		switch {
		case strings.Contains(low, "context length") || strings.Contains(low, "context_length") || strings.Contains(low, "maximum context") || strings.Contains(low, "too many tokens"):
			return ErrorKindProviderError, "context_length"
		case strings.Contains(low, "content filter") || strings.Contains(low, "content_filter") || strings.Contains(low, "content management policy") || strings.Contains(low, "safety"):
			return ErrorKindProviderError, "content_filter"
		}
		return ErrorKindProviderError, "invalid_request"
	case st >= 500:
		return ErrorKindProviderError, "server_error"
	}
	return ErrorKindProviderError, ""
}

// statusFromText finds "status code: 429" / "status 429" / "HTTP 429" in an error text.
func statusFromText(msg string) int {
	for _, marker := range []string{"status code: ", "status code ", "status: ", "status ", "HTTP "} {
		i := strings.Index(msg, marker)
		if i < 0 {
			continue
		}
		rest := msg[i+len(marker):]
		j := 0
		for j < len(rest) && j < 3 && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if j == 3 {
			n, _ := strconv.Atoi(rest[:3])
			if n >= 100 && n <= 599 {
				return n
			}
		}
	}
	return 0
}

func statusFromDetails(d map[string]any) int {
	for _, k := range []string{"status_code", "status", "http_status", "StatusCode"} {
		switch v := d[k].(type) {
		case int:
			return v
		case float64:
			return int(v)
		}
	}
	return 0
}

func errType(err error) string {
	// Report the outermost non-wrapper type: fmt.wrapError tells nothing.
	for e := err; e != nil; {
		t := reflect.TypeOf(e).String()
		if t != "*fmt.wrapError" && t != "*fmt.wrapErrors" {
			return t
		}
		u := errors.Unwrap(e)
		if u == nil {
			return t
		}
		e = u
	}
	return fmt.Sprintf("%T", err)
}
