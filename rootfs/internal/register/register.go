// Package register creates a user with Synapse's shared-secret
// registration API (/_synapse/admin/v1/register), as Synapse's
// register_new_matrix_user does, but without a second Python process in
// the container: under a memory limit, that process got Synapse itself
// OOM-killed.
package register

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Timeout bounds the whole registration (two requests).
const Timeout = 30 * time.Second

// Path is the API's path below the homeserver's base URL.
const Path = "/_synapse/admin/v1/register"

// User is the account to create.
type User struct {
	Name     string
	Password string
	Admin    bool
}

// MAC is the registration's HMAC-SHA1, keyed with the shared secret, of
// nonce, user name, password and "admin" or "notadmin", NUL-separated, in
// hex: Synapse's own computation (synapse/_scripts/register_new_matrix_user.py).
func MAC(secret, nonce string, u User) string {
	m := hmac.New(sha1.New, []byte(secret))
	role := "notadmin"
	if u.Admin {
		role = "admin"
	}
	m.Write([]byte(nonce + "\x00" + u.Name + "\x00" + u.Password + "\x00" + role))
	return hex.EncodeToString(m.Sum(nil))
}

// Error is Synapse's refusal.
type Error struct {
	Status  int
	Code    string `json:"errcode"`
	Message string `json:"error"`
}

func (e *Error) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("Synapse answered %d", e.Status)
	}
	return fmt.Sprintf("Synapse refused (%d %s): %s", e.Status, e.Code, e.Message)
}

// Register creates u on the homeserver at base (e.g. http://127.0.0.1:8008)
// and returns its Matrix user id.
func Register(ctx context.Context, client *http.Client, base, secret string, u User) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	url := strings.TrimSuffix(base, "/") + Path
	var n struct {
		Nonce string `json:"nonce"`
	}
	if err := call(ctx, client, http.MethodGet, url, nil, &n); err != nil {
		return "", fmt.Errorf("get a nonce from %s: %w", url, err)
	}
	if n.Nonce == "" {
		return "", fmt.Errorf("get a nonce from %s: no nonce in the answer", url)
	}
	body, err := json.Marshal(map[string]any{
		"nonce": n.Nonce, "username": u.Name, "password": u.Password, "admin": u.Admin,
		"mac": MAC(secret, n.Nonce, u),
	})
	if err != nil {
		return "", err
	}
	var r struct {
		UserID string `json:"user_id"`
	}
	if err := call(ctx, client, http.MethodPost, url, body, &r); err != nil {
		return "", fmt.Errorf("register %s: %w", u.Name, err)
	}
	return r.UserID, nil
}

func call(ctx context.Context, client *http.Client, method, url string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		e := &Error{Status: resp.StatusCode}
		json.Unmarshal(b, e)
		return e
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("the answer is not JSON: %w", err)
	}
	return nil
}
