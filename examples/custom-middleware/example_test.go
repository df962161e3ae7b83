package main

import (
	"bytes"
	"testing"

	"github.com/matryer/is"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	is := is.New(t)
	var out bytes.Buffer
	is.NoErr(run(&out))
	t.Log(out.String())
	is.Equal(out.String(), `acme     answered
initech  answered
globex   refused: tenant over quota
the provider saw 2 requests
event tenant=globex   error_kind="rate_limit" error_detail="quota"
event tenant=initech  error_kind=""         error_detail=""
event tenant=acme     error_kind=""         error_detail=""
`)
}
