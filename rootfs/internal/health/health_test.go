package health

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			w.Write([]byte("OK"))
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	assert.NoError(t, Check(context.Background(), srv.URL+"/health"))
	assert.ErrorContains(t, Check(context.Background(), srv.URL+"/other"), "404")
	url := srv.URL
	srv.Close()
	assert.Error(t, Check(context.Background(), url+"/health"))
}
