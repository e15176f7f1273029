package register

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The MAC of Synapse's register_new_matrix_user for the same input:
// python3 -c 'import hmac,hashlib;m=hmac.new(b"s3cret",digestmod=hashlib.sha1);
// [m.update(x) for x in (b"abc",b"\x00",b"alice",b"\x00",b"pw d",b"\x00",b"admin")];print(m.hexdigest())'
func TestMAC(t *testing.T) {
	for _, tc := range []struct {
		u    User
		want string
	}{
		{User{"alice", "pw d", true}, "e7a6b5a1d256bc48d99ac450770315a96327ac06"},
		{User{"alice", "pw d", false}, "d9f48458e14199f37136fc0d95d474fcb44b5f38"},
	} {
		assert.Equal(t, tc.want, MAC("s3cret", "abc", tc.u), "%+v", tc.u)
	}
}

// fakeSynapse checks the MAC as Synapse does.
func fakeSynapse(t *testing.T, secret string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != Path {
			http.NotFound(w, r)
			return
		}
		if r.Method == http.MethodGet {
			w.Write([]byte(`{"nonce":"n0nce"}`))
			return
		}
		var req struct {
			Nonce, Username, Password, Mac string
			Admin                          bool
		}
		require.NoError(t, json.NewDecoder(r.Body).Decode(&req))
		if req.Nonce != "n0nce" || req.Mac != MAC(secret, "n0nce", User{req.Username, req.Password, req.Admin}) {
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"errcode":"M_FORBIDDEN","error":"HMAC incorrect"}`))
			return
		}
		if req.Username == "taken" {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"errcode":"M_USER_IN_USE","error":"User ID already taken."}`))
			return
		}
		w.Write([]byte(`{"user_id":"@` + req.Username + `:example.com","access_token":"t"}`))
	}))
}

func TestRegister(t *testing.T) {
	srv := fakeSynapse(t, "s3cret")
	defer srv.Close()
	ctx := context.Background()
	for _, tc := range []struct {
		name, secret, user, want, err string
	}{
		{"created", "s3cret", "alice", "@alice:example.com", ""},
		{"wrong secret", "other", "alice", "", "Synapse refused (403 M_FORBIDDEN): HMAC incorrect"},
		{"taken", "s3cret", "taken", "", "register taken: Synapse refused (400 M_USER_IN_USE): User ID already taken."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := Register(ctx, srv.Client(), srv.URL+"/", tc.secret, User{Name: tc.user, Password: "pw"})
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, id)
		})
	}
	url := srv.URL
	srv.Close()
	_, err := Register(ctx, http.DefaultClient, url, "s3cret", User{Name: "a", Password: "p"})
	assert.ErrorContains(t, err, "get a nonce from "+url+Path)
}
